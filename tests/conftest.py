"""Shared fixtures. Tests never change the working tree: anything that writes works in a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COURSE_FILES = ("modules", "source", "release", "nbgrader_config.py")


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


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def bank():
    from framelab.bank import load_bank

    return load_bank(ROOT / "modules")


@pytest.fixture(scope="session")
def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and p.name.startswith("m"))
