"""Benchmark: how long nbgrader takes to autograde Module notebooks, against the floor.

Prints figures; asserts nothing about speed (performance is measured here, not tested).

    python tests/benchmarks/bench_autograde.py [--trainees 1 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def nbgrader(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "nbgrader"), *args, "--log-level=ERROR"], cwd=cwd, env=ENV, check=True, capture_output=True
    )
    return time.perf_counter() - start


def floor(repeats: int = 3) -> float:
    """Start a kernel and run an empty notebook: the least any autograde can cost."""
    times = []
    for _ in range(repeats):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        start = time.perf_counter()
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def course_with(trainees: int, assignment: str, tmp: Path) -> Path:
    course = tmp / f"course-{trainees}"
    course.mkdir()
    for name in ("modules", "source", "release", "nbgrader_config.py"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, course / name)
    nbgrader("generate_assignment", assignment, "--force", cwd=course)
    for n in range(trainees):
        dest = course / "submitted" / f"t{n:03d}" / assignment
        shutil.copytree(course / "source" / assignment, dest)
    return course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--assignment", default="m1_double_bind")
    args = parser.parse_args()
    print(f"floor (kernel start + empty notebook, median of 3): {floor():.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trainees:
            course = course_with(n, args.assignment, Path(tmp))
            seconds = nbgrader("autograde", args.assignment, "--create", cwd=course)
            print(
                f"nbgrader autograde {args.assignment}, {n:>3} trainee(s): {seconds:6.2f} s "
                f"({seconds / n:.2f} s per notebook, start-up included)"
            )


if __name__ == "__main__":
    main()
