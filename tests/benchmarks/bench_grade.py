"""Benchmark: ``framelab grade --jobs N`` against stock ``nbgrader autograde`` on one simulated cohort.

Prints figures; asserts nothing about speed (performance is measured here, not tested), but
it does stop if the two ever disagree on a single score.

For each cohort size: one course is built, released and submitted to through a temporary
exchange (the demo's simulated trainees), then copied twice; stock ``nbgrader autograde``
grades one copy and ``framelab grade`` the other, each as its own command (start-up
included). Also: the floor (start a kernel, run an empty notebook), seconds per notebook,
and how the time grows with the cohort.

    python tests/benchmarks/bench_grade.py [--trainees 10 30 100] [--stock-up-to 100] [--jobs 2]
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


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        print(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}", flush=True)
    return took, proc.returncode


def main() -> None:
    from framelab.cohort import prepare_course
    from framelab.grading import gradebook_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--stock-up-to", type=int, default=100, help="run stock nbgrader only up to this cohort size")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignment", default="m1_double_bind")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; floor (kernel start + empty notebook, median of 3): {floor():.2f} s")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trainees:
            base = Path(tmp) / f"base-{n}"
            prepare_course(base, root=ROOT, trainees=n, assignments=[args.assignment], say=lambda *_: None)
            ours = Path(tmp) / f"ours-{n}"
            shutil.copytree(base, ours)
            t_ours, rc = timed(
                [str(BIN / "framelab"), "grade", args.assignment, f"--jobs={args.jobs}", "--no-progress"], ours
            )
            assert rc == 0, f"framelab grade exited {rc}"
            row = {"n": n, "ours": t_ours, "stock": None}
            if n <= args.stock_up_to:
                stock = Path(tmp) / f"stock-{n}"
                shutil.copytree(base, stock)
                t_stock, rc = timed([str(BIN / "nbgrader"), "autograde", args.assignment, "--log-level=ERROR"], stock)
                assert rc == 0, f"nbgrader autograde exited {rc}"
                a = gradebook_rows(f"sqlite:///{ours / 'gradebook.db'}", args.assignment, "framelab")
                b = gradebook_rows(f"sqlite:///{stock / 'gradebook.db'}", args.assignment, "framelab")
                assert a == b, "framelab grade and nbgrader autograde disagree"
                row["stock"] = t_stock
                shutil.rmtree(stock)
            shutil.rmtree(ours)
            shutil.rmtree(base)
            results.append(row)
            stock_txt = (
                f"nbgrader autograde {row['stock']:7.1f} s ({row['stock'] / n:.2f} s/notebook); "
                f"speed-up {row['stock'] / t_ours:.2f}x, scores identical"
                if row["stock"]
                else "nbgrader autograde not run"
            )
            print(
                f"{args.assignment}, {n:>3} trainees: framelab grade --jobs {args.jobs} {t_ours:7.1f} s "
                f"({t_ours / n:.2f} s/notebook); {stock_txt}",
                flush=True,
            )
    if len(results) > 1:
        first, last = results[0], results[-1]
        for key, name in (("ours", f"framelab grade --jobs {args.jobs}"), ("stock", "nbgrader autograde")):
            if first[key] and last[key]:
                marginal = (last[key] - first[key]) / (last["n"] - first["n"])
                print(
                    f"growth {first['n']} -> {last['n']} trainees, {name}: {first[key]:.1f} s -> {last[key]:.1f} s "
                    f"(x{last[key] / first[key]:.1f} for x{last['n'] / first['n']:.0f} trainees; "
                    f"{marginal:.2f} s per extra notebook)"
                )


if __name__ == "__main__":
    main()
