"""Every source and release notebook runs top to bottom under nbval, in a copy."""

from __future__ import annotations

import shutil
import sys

import pytest
from conftest import ROOT, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("tree", ["source", "release"])
def test_notebooks_run_under_nbval(tmp_path, tree):
    copy = tmp_path / tree
    shutil.copytree(ROOT / tree, copy)
    notebooks = sorted(copy.rglob("*.ipynb"))
    assert notebooks, f"no notebooks in {tree}/"
    proc = run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", *map(str, notebooks)],
        cwd=tmp_path,
        env={"NBGRADER_EXECUTION": ""},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    # running a notebook without touching a menu writes no answers file (and the source
    # notebook, whose key is shown read-only, never does)
    assert not list(copy.rglob("answers.json"))
