"""Benchmark: each step of an instructor's term on a simulated cohort (issue 28's closing note: each
step's time on a cohort of 30).

Prints each step's seconds; asserts nothing about speed (performance is measured here, not tested),
but stops if a step fails or the rescore moves a hand mark.

Module 1, released and submitted to through a kept exchange by the demo's simulated trainees; then,
each timed on its own: collect (nbgrader's collect with the course's SafeCollect, every submission
collected afresh), ``framelab grade`` (its default workers), hand-grading (scripted, as formgrader
saves a score), ``framelab feedback``, ``nbgrader release_feedback`` and ``fetch_feedback`` as every
trainee, a key fix and ``framelab grade --rescore``, ``framelab export --assignment`` and
``framelab report``. Steps run in this process, so start-up is counted once, not per step.

    python tests/benchmarks/bench_term.py [--trainees 30] [--assignment m1_double_bind]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))


class Steps:
    """A stopwatch over named steps, printing each as it ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.tick = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self.tick
        self.tick = now
        print(f"  {name:<48} {self.seconds[name]:7.2f} s", flush=True)


def quietly(fn, *args, **kwargs):
    """Run a command's main function without its table on the screen; its exit code."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def term(tmp: Path, trainees: int, a: str) -> None:
    from nbgrader.apps import NbGraderAPI
    from test_term_cycle import ITEM, _fix_key, _marks

    from framelab.cli.main import main
    from framelab.grading import command as grading
    from framelab.instructor.course import course_config
    from framelab.instructor.demo import hand_grade, prepare_course, return_feedback
    from framelab.instructor.feedback import generate

    exchange = tmp / "exchange"
    steps = Steps()
    prepared = prepare_course(
        tmp / "course", root=ROOT, trainees=trainees, assignments=[a], say=lambda *_: None, exchange=exchange
    )
    course, ids = prepared.course, [t.id for t in prepared.cohort.trainees]
    steps.seconds["build, generate and release"] = prepared.seconds["build and release"]
    print(f"  {'build, generate and release':<48} {prepared.seconds['build and release']:7.2f} s")
    simulated = prepared.seconds["simulate, submit and collect"]
    print(f"  ({trainees} simulated trainees fetched, answered and submitted: {simulated:.1f} s, not timed as a step)")
    shutil.rmtree(course / "submitted")
    steps.tick = time.perf_counter()
    assert NbGraderAPI(config=course_config(course, exchange)).collect(a)["success"]
    steps.lap("collect")
    collected = sorted(p.name for p in (course / "submitted").iterdir())
    assert collected == sorted(ids), f"collected {len(collected)} of {len(ids)}"
    run = grading.grade(course, a, progress=False, nbgrader_args=[f"--Exchange.root={exchange}"])
    assert len(run.by_status("graded")) == len(ids), run.summary()
    steps.lap(f"framelab grade ({run.jobs} workers)")
    hand_grade(course, a, prepared.cohort, 7)
    steps.lap("hand-grade (scripted)")
    made = generate(course, a, progress=False)
    assert made.ok, made.summary()
    steps.lap("framelab feedback")
    pages = return_feedback(course, exchange, a, ids)
    assert len(pages) == len(ids)
    steps.lap("release_feedback, fetch_feedback (each trainee)")
    hand = {k: v for k, v in _marks(course).items() if v[1] is not None}
    _fix_key(course, ITEM, "gentle_dodge")
    steps.tick = time.perf_counter()
    assert quietly(main, ["grade", a, "--rescore", "--course", str(course), "--no-progress"]) == 0
    assert {k: v for k, v in _marks(course).items() if k in hand} == hand, "the rescore moved a hand mark"
    steps.lap("key fix: framelab grade --rescore")
    assert quietly(main, ["export", "--course", str(course), "--out", str(tmp / "grades"), "--assignment", a]) == 0
    steps.lap("framelab export --assignment (Canvas, Moodle)")
    assert quietly(main, ["report", a, "--course", str(course), "--out", str(tmp / "report")]) == 0
    steps.lap("framelab report (with item analysis)")
    total = sum(steps.seconds.values())
    name = "the instructor's steps in all"
    print(f"  {name:<48} {total:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=30)
    parser.add_argument("--assignment", default="m1_double_bind")
    args = parser.parse_args()
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # nbgrader runs alembic by name
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start; {args.assignment}, {args.trainees} trainees")
    with tempfile.TemporaryDirectory() as tmp:
        term(Path(tmp), args.trainees, args.assignment)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (a shared machine: other work runs beside this)")


if __name__ == "__main__":
    main()
