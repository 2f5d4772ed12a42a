"""Shared fixtures. Tests never change the working tree: anything that writes works in a copy."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COURSE_FILES = ("modules", "source", "release", "nbgrader_config.py")


@pytest.fixture(autouse=True)
def _fresh_item_places():
    """Each test starts with no exercise shown, so check lines name items as a fresh kernel would."""
    from framelab.scoring import checks

    checks._PLACES.clear()
    yield
    checks._PLACES.clear()


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600, check: bool = True):
    """Run a command, and on failure show everything it printed."""
    # nbgrader runs helpers such as `alembic` by name: the environment's bin must come first
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def nbgrader(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    return run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, check=check)


def nbgrader_in_process(*args: str, cwd: Path) -> str:
    """An nbgrader command run in this process, the way nbgrader's own tests run theirs: the same
    application, arguments and course config (``nbgrader_config.py`` in ``cwd``) as the command line,
    without starting Python and importing nbgrader again (about 3 s of CPU a command). Returns what it
    logged; a failure raises with all of it."""
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    saved_cwd, saved_path, saved_env = Path.cwd(), list(sys.path), dict(os.environ)
    log = io.StringIO()
    os.chdir(cwd)
    # nbgrader runs helpers such as `alembic` by name: the environment's bin must come first
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    app = NbGraderApp.instance()
    try:
        app.initialize(list(args))
        app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
        app.start()
        code = 0
    except NoStart:  # how a sub-command that ran says it is done
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    finally:
        app.reset()  # logging, sub-applications and the singleton, as nbgrader's tests reset them
        os.chdir(saved_cwd)
        sys.path[:] = saved_path  # nbgrader puts its working folder first
        os.environ.clear()
        os.environ.update(saved_env)
    if code:
        raise AssertionError(f"nbgrader {' '.join(args)} (in {cwd}) exited {code}\n{log.getvalue()}")
    return log.getvalue()


def data_lines(name: str) -> list[dict]:
    """A JSON Lines file from tests/data, one object per non-blank line."""
    import json

    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text().splitlines() if line.strip()]


def answered_with_key(det: Any, paraphrases: list[dict], key: dict[str, set[str]]) -> int:
    """How many paraphrases of graded items a detector answers with exactly the key's labels (refusals count 0)."""
    import contextlib

    from framelab.detector.boundary import Refused

    n = 0
    for p in paraphrases:
        with contextlib.suppress(Refused):
            n += set(det.detect(p["text"]).labels) == key[p["of"]]
    return n


def copy_course(dest: Path) -> Path:
    """A private copy of the course (bank, source, release, config) to run nbgrader in."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def shared_build(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder built once per test run and shared by every xdist worker: the first worker to ask builds
    it under a file lock, the others wait and reuse it. Tests read it or copy it, never change it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this run's folder, above each worker's own
    target, done = base / name, base / f"{name}.built"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the build fails
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)  # what a failed build left
            build(target)
            done.touch()
    return target


def copy_shared(shared: Path, dest: Path) -> Path:
    """A private copy of a shared build (symbolic links copied as links)."""
    return Path(shutil.copytree(shared, dest, symlinks=True))


def _prepared(trainees: int, assignments: list[str] | None, keep_submitted: bool) -> Callable[[Path], object]:
    def build(dest: Path) -> None:
        from framelab.instructor.demo import prepare_course

        os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # nbgrader runs `alembic`
        prepare_course(dest, root=ROOT, trainees=trainees, assignments=assignments, say=lambda *_: None)
        if not keep_submitted:
            shutil.rmtree(dest / "submitted")

    return build


@pytest.fixture(scope="session")
def released_course(tmp_path_factory) -> Path:
    """Every graded module built and released, with a gradebook and nothing submitted (built once per run)."""
    return shared_build(tmp_path_factory, "released-course", _prepared(1, None, keep_submitted=False))


@pytest.fixture(scope="session")
def cohort_of_six(tmp_path_factory) -> Path:
    """Module 1 built and released, with six simulated trainees' submissions collected (built once per run)."""
    return shared_build(tmp_path_factory, "cohort-of-six", _prepared(6, ["m1_double_bind"], keep_submitted=True))


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory) -> Callable[[Path], Path]:
    """Fill a folder with this bank's trained detectors, as ``FRAMELAB_CACHE`` holds them: tests of the
    ``framelab detect`` command start warm instead of training again. (Training into an empty cache is
    tested on its own: test_cache_is_keyed_by_the_bank_and_survives_damage and the repair detector's.)"""
    from framelab.detector import boundary, repair
    from framelab.detector.data import load_data
    from framelab.detector.model import cache_dir, cache_path

    boundary.load_detector(), repair.load_repair_detector()  # trained into the cache, unless there already
    digest = load_data(boundary.DATA_FILE).digest
    models = [cache_path("detect", boundary.cache_key(digest)), cache_path("repair", repair.cache_key(digest))]
    assert all(m.exists() for m in models), f"the trained models are not in {cache_dir()}"

    def fill(folder: Path) -> Path:
        (folder / "framelab").mkdir(parents=True, exist_ok=True)
        for m in models:
            shutil.copy2(m, folder / "framelab" / m.name)
        return folder

    return fill


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def bank():
    from framelab.bank.loader import load_bank

    return load_bank(ROOT / "modules")


@pytest.fixture(scope="session")
def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name.startswith("m"))
