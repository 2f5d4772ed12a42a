"""The instructor's ``framelab`` subcommands: ``grade``, ``demo``, ``report`` and ``export``.

Registered on the main parser by :func:`add_commands` (see ``framelab.cli``). Run from the
course root (where ``nbgrader_config.py`` is), like nbgrader itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def cmd_grade(args: argparse.Namespace) -> int:
    from .grading import GradingError, grade

    try:
        run = grade(
            Path(args.course),
            args.assignment,
            jobs=args.jobs,
            students=args.student or None,
            force=args.force,
            progress=not args.no_progress,
            nbgrader_args=args.nbgrader_arg or (),
            notebook_timeout=args.notebook_timeout,
            sandbox=not args.no_sandbox,
            lock_wait=args.lock_wait,
        )
    except GradingError as exc:
        print(f"framelab grade: {exc}", file=sys.stderr)
        return 2
    print(run.summary())
    if run.interrupted:
        return 130
    return 0 if run.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from .cohort import run_demo

    if args.trainees < 1:
        print("framelab demo: --trainees must be at least 1", file=sys.stderr)
        return 2
    result = run_demo(
        Path(args.out),
        root=Path(args.root),
        trainees=args.trainees,
        seed=args.seed,
        jobs=args.jobs,
        assignments=args.assignment or None,
        keep_course=args.keep_course,
        progress=not args.no_progress,
    )
    print("Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    print("Wrote:")
    for path in result.files:
        print(f"  {path}")
    failed = sum(len(r.by_status("failed")) for r in result.grade_runs)
    return 0 if not failed else 1


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    files = write_report(Path(args.course), Path(args.out), args.assignment or None)
    for path in files:
        print(f"wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import export

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = export.scores(Path(args.course), args.assignment or None)
    wanted = args.format or ["nbgrader", "canvas", "moodle"]
    written = []
    if "nbgrader" in wanted:
        written.append(export.write_nbgrader(Path(args.course), out / "grades.csv", args.assignment or None))
    if "canvas" in wanted:
        written.append(export.write_canvas(rows, out / "grades_canvas.csv"))
    if "moodle" in wanted:
        written.append(export.write_moodle(rows, out / "grades_moodle.csv"))
    for path in written:
        print(f"wrote {path}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the instructor subcommands to the ``framelab`` parser."""
    p = sub.add_parser(
        "grade",
        help="autograde an assignment's submissions in parallel through nbgrader (progress, resume, summary)",
    )
    p.add_argument("assignment", help="e.g. m1_double_bind")
    p.add_argument("--jobs", "-j", type=int, default=None, help=f"worker processes (default: cores, {os.cpu_count()})")
    p.add_argument("--student", action="append", help="grade only this trainee (repeatable)")
    p.add_argument("--force", action="store_true", help="re-grade trainees already graded")
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=300.0,
        help="seconds one submission may take to grade in all (default: 300; each cell also has 30)",
    )
    p.add_argument(
        "--nbgrader-arg",
        action="append",
        help="an extra nbgrader option, as for 'nbgrader autograde' (repeatable), e.g. --nbgrader-arg=--db=URL",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run trainee code WITHOUT the bubblewrap sandbox (it then runs with your rights; not recommended)",
    )
    p.add_argument(
        "--lock-wait",
        type=float,
        default=60.0,
        help="seconds to wait for a gradebook another program holds locked before saying so (default: 60)",
    )
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("demo", help="the whole instructor cycle on a simulated cohort: grades.csv, report.html, plots")
    p.add_argument("--out", required=True, help="folder for grades.csv, report.html and the plots")
    p.add_argument("--trainees", type=int, default=30, help="cohort size (default: 30)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--jobs", "-j", type=int, default=None, help="grading worker processes (default: cores)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")
    p.add_argument("--root", default=".", help="the repository / course root to copy the course from (default: .)")
    p.add_argument(
        "--keep-course", action="store_true", help="keep the demo course (gradebook, feedback) in OUT/course"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="cohort report: distributions, item statistics, misconception map, progress")
    p.add_argument("assignment", nargs="*", help="assignments to include (default: all in the gradebook)")
    p.add_argument("--out", required=True, help="folder for report.html, its plots and CSV tables")
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help="grades CSV for Canvas and Moodle, plus nbgrader's own export")
    p.add_argument("assignment", nargs="*", help="assignments to include (default: all)")
    p.add_argument("--out", default=".", help="folder for the CSV files (default: .)")
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.add_argument(
        "--format", action="append", choices=["nbgrader", "canvas", "moodle"], help="only this format (repeatable)"
    )
    p.set_defaults(func=cmd_export)
