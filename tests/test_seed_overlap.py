"""No run of eight or more words is copied from the course's source texts.

The source texts live beside the project (in ../shared), not in it: learners never have them.
This check therefore runs where they exist (CI and the course team's machines) and says
plainly when they are absent.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT

TOOL = ROOT.parent / "shared" / "tools" / "seed-overlap"


def test_no_text_is_copied_from_the_source_texts():
    if not TOOL.exists():
        pytest.skip(f"copied-text check not run: {TOOL} is absent on this machine (it exists in CI)")
    proc = subprocess.run([str(TOOL), str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("0 copied runs of 8+ words"), proc.stdout[-3000:]
