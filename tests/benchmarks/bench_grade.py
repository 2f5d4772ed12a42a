"""Benchmark: sandboxed ``framelab grade --jobs N`` against the same unsandboxed and against stock
``nbgrader autograde``, on one simulated cohort of honest submissions.

Prints a table; asserts nothing about speed (performance is measured here, not tested), but it
stops if the three ever disagree on a single score.

For each cohort size: one course is built, released and submitted to through a temporary
exchange (the demo's simulated trainees), then copied three times; ``framelab grade`` (sandboxed,
the default), ``framelab grade --no-sandbox`` and stock ``nbgrader autograde`` each grade one copy
as their own command (start-up included), one after the other in the same run. Also: the floor
(start a kernel, run an empty notebook).

    python tests/benchmarks/bench_grade.py [--trainees 2 16 30 100] [--stock-up-to 100] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_autograde import floor  # the same floor, measured the same way

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def timed(cmd: list[str], cwd: Path) -> float | None:
    """Seconds the command took, or None (with its last words printed) if it failed."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        print(f"{' '.join(cmd[:3])} exited {proc.returncode} after {took:.1f} s:\n{proc.stdout[-1500:]}", flush=True)
        return None
    print(f"  {' '.join(cmd[1:2] + cmd[-1:])}: {took:.1f} s", flush=True)
    return took


def one_size(base: Path, tmp: Path, n: int, args: argparse.Namespace) -> dict[str, float | None]:
    """Grade three copies of one cohort: sandboxed, unsandboxed, stock; check the scores agree."""
    from framelab.grading.command import gradebook_rows

    jobs = [f"--jobs={args.jobs}"] if args.jobs else []  # default: the command's own (cores + 1)
    grade = [str(BIN / "framelab"), "grade", args.assignment, *jobs, "--no-progress"]
    runs: dict[str, list[str] | None] = {
        "sandboxed": grade,
        "unsandboxed": [*grade, "--no-sandbox"],
        "stock": [str(BIN / "nbgrader"), "autograde", args.assignment, "--log-level=ERROR"]
        if n <= args.stock_up_to
        else None,
    }
    row: dict[str, float | None] = {}
    rows = {}
    for name, cmd in runs.items():
        if cmd is None:
            row[name] = None
            continue
        course = tmp / f"{name}-{n}"
        shutil.copytree(base, course)
        row[name] = timed(cmd, course)
        if row[name] is not None:
            rows[name] = gradebook_rows(f"sqlite:///{course / 'gradebook.db'}", args.assignment, "framelab")
        shutil.rmtree(course)
    first = rows.pop("sandboxed", None)
    for name, other in rows.items():
        if first is None:
            break
        assert other == first, f"framelab grade (sandboxed) and {name} disagree on the scores"
    return row


def show(n: int, row: dict[str, float | None]) -> str:
    ours, plain, stock = row["sandboxed"], row["unsandboxed"], row["stock"]

    def secs(t: float | None) -> str:
        return f"{t:8.1f} s" if t is not None else f"{'failed':>10}"

    cost = f"{(ours / plain - 1) * 100:+.0f}%" if ours and plain else ""
    speed = f"{stock / ours:5.2f}x" if ours and stock else ""
    return f"{n:>8}  {secs(ours)}  {secs(plain)}  {cost:>8}  {secs(stock)}  {speed:>5}"


def main() -> None:
    from framelab.instructor.demo import prepare_course

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, nargs="+", default=[2, 16, 30, 100])
    parser.add_argument("--stock-up-to", type=int, default=100, help="run stock nbgrader only up to this cohort size")
    parser.add_argument("--jobs", type=int, default=None, help="framelab grade's workers (default: its own, cores + 1)")
    parser.add_argument("--assignment", default="m0_orientation")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; floor (kernel start + empty notebook, median of 3): {floor():.2f} s", flush=True)
    from framelab.grading.pool import default_jobs

    workers = args.jobs or default_jobs()
    print(f"{args.assignment}, honest submissions, scores identical in all three (checked); {workers} grading workers")
    print(f"{'trainees':>8}  {'sandboxed':>10}  {'no sandbox':>10}  {'sandbox':>8}  {'stock':>10}  {'speed-up':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trainees:
            base = Path(tmp) / f"base-{n}"
            prepare_course(base, root=ROOT, trainees=n, assignments=[args.assignment], say=lambda *_: None)
            print(show(n, one_size(base, Path(tmp), n, args)), flush=True)
            shutil.rmtree(base)
    print("sandbox: the sandboxed run's extra time over --no-sandbox; speed-up: stock / sandboxed")


if __name__ == "__main__":
    main()
