"""Benchmark: ``framelab feedback --jobs N`` against stock ``nbgrader generate_feedback``.

Prints figures; asserts nothing about speed, but stops if the two ever write different files.

For each cohort size: one course is built, released, submitted to by the demo's simulated
trainees, graded (``framelab grade``) and hand-graded, then copied twice; stock
``nbgrader generate_feedback`` makes the feedback in one copy and ``framelab feedback`` in the
other, each as its own command (start-up included).

    python tests/benchmarks/bench_feedback.py [--trainees 10 30] [--jobs 2]
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

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return took


def files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    from framelab.grading import command as grading
    from framelab.instructor.demo import hand_grade, prepare_course

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignment", default="m1_double_bind")
    args = parser.parse_args()
    a = args.assignment
    print(f"{os.cpu_count()} cores; {a}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trainees:
            base = Path(tmp) / f"base-{n}"
            prepared = prepare_course(base, root=ROOT, trainees=n, assignments=[a], say=lambda *_: None)
            graded = grading.grade(base, a, jobs=args.jobs, progress=False)
            assert graded.ok, graded.summary()
            hand_grade(base, a, prepared.cohort, 2024)
            stock, ours = Path(tmp) / f"stock-{n}", Path(tmp) / f"ours-{n}"
            shutil.copytree(base, stock)
            shutil.copytree(base, ours)
            t_stock = timed([str(BIN / "nbgrader"), "generate_feedback", a, "--force", "--log-level=ERROR"], stock)
            t_ours = timed([str(BIN / "framelab"), "feedback", a, f"--jobs={args.jobs}", "--no-progress"], ours)
            same = files(stock / "feedback") == files(ours / "feedback")
            assert same, "framelab feedback and nbgrader generate_feedback wrote different files"
            print(
                f"{n:>3} trainees: nbgrader generate_feedback {t_stock:6.1f} s ({t_stock / n:.2f} s/trainee); "
                f"framelab feedback --jobs {args.jobs} {t_ours:6.1f} s ({t_ours / n:.2f} s/trainee); "
                f"speed-up {t_stock / t_ours:.2f}x; files identical",
                flush=True,
            )
            for folder in (base, stock, ours):
                shutil.rmtree(folder)


if __name__ == "__main__":
    main()
