"""The instructor's ``framelab`` subcommands: ``grade``, ``demo``, ``feedback``, ``report`` and ``export``.

Registered on the main parser by :func:`add_commands` (see ``framelab.cli.main``). Run from the
course root (where ``nbgrader_config.py`` is), like nbgrader itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _refuse(command: str, course: Path, url: str | None = None, *, must_exist: bool = True) -> bool:
    """Print one plain line and return True if ``course`` is no course root or its gradebook is unreadable."""
    from framelab.core.settings import course_root_problem
    from framelab.grading.gradebookcheck import gradebook_problem

    problem = course_root_problem(course) or gradebook_problem(course, url, must_exist=must_exist)
    if problem:
        print(f"framelab {command}: {problem}", file=sys.stderr)
    return problem is not None


def _jobs_problem(command: str, jobs: int | None) -> bool:
    if jobs is not None and jobs < 1:
        print(
            f"framelab {command}: --jobs must be 1 or more (got {jobs}); leave it out to use every core.",
            file=sys.stderr,
        )
        return True
    return False


def cmd_grade(args: argparse.Namespace) -> int:
    from framelab.grading.command import GradingError, grade

    url = next((a.split("=", 1)[1] for a in args.nbgrader_arg or () if a.startswith("--db=")), None)
    if _jobs_problem("grade", args.jobs) or _refuse("grade", Path(args.course), url, must_exist=False):
        return 2
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
    from framelab.instructor.demo import run_demo

    if args.trainees < 1:
        print("framelab demo: --trainees must be at least 1", file=sys.stderr)
        return 2
    if _jobs_problem("demo", args.jobs):
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
    from framelab.instructor.course import CourseError, pending
    from framelab.instructor.report_page import write_report

    if _refuse("report", Path(args.course)):
        return 2
    print(
        f"Reading the gradebook of {Path(args.course).resolve()} and writing the report to {args.out}/ ...", flush=True
    )
    try:
        files = write_report(Path(args.course), Path(args.out), args.assignment or None)
        waiting = pending(Path(args.course), args.assignment or None)
    except CourseError as exc:
        print(f"framelab report: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"wrote {path}")
    if waiting:
        print(
            f"note: {len(waiting)} submission(s) still wait for hand-grading; the report names them and leaves "
            "their totals out: " + ", ".join(f"{p.assignment}/{p.student}" for p in waiting),
            file=sys.stderr,
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from framelab.instructor import export
    from framelab.instructor.course import CourseError

    if _refuse("export", Path(args.course)):
        return 2
    print(f"Exporting the grades of {Path(args.course).resolve()} to {args.out}/ ...", flush=True)
    try:
        roster = export.read_roster(args.roster, args.roster_match) if args.roster else None
        done = export.export_all(
            Path(args.course),
            Path(args.out),
            args.assignment or None,
            formats=args.format or ("nbgrader", "canvas", "moodle"),
            allow_pending=args.allow_pending,
            roster=roster,
        )
    except export.PendingGrades as exc:
        print(f"framelab export: nothing written. {exc}", file=sys.stderr)
        return 1
    except CourseError as exc:
        print(f"framelab export: {exc}", file=sys.stderr)
        return 2
    for path in done.files:
        print(f"wrote {path}")
    for line in done.warnings:
        print(f"note: {line}", file=sys.stderr)
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from framelab.instructor.course import CourseError
    from framelab.instructor.feedback import check_course, generate

    try:
        check_course(Path(args.course).resolve())
        run = generate(
            Path(args.course),
            args.assignment,
            jobs=args.jobs,
            students=args.student or None,
            allow_pending=args.allow_pending,
            progress=not args.no_progress,
        )
    except CourseError as exc:
        print(f"framelab feedback: {exc}", file=sys.stderr)
        return 2
    print(run.summary())
    return 0 if run.ok else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the instructor subcommands to the ``framelab`` parser."""
    p = sub.add_parser(
        "grade",
        help="autograde an assignment's submissions in parallel through nbgrader (progress, resume, summary)",
    )
    p.add_argument("assignment", help="e.g. m1_double_bind")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help=f"worker processes (default: cores + 1, {(os.cpu_count() or 1) + 1})",
    )
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
    p.add_argument("--jobs", "-j", type=int, default=None, help="grading worker processes (default: cores + 1)")
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
    p.add_argument(
        "--allow-pending",
        action="store_true",
        help="export even while hand-grading is pending (those totals are left blank, never 0)",
    )
    p.add_argument(
        "--roster", help="Canvas's gradebook export (Grades > Export) with a column nbgrader_id: fills ID and SIS ids"
    )
    p.add_argument("--roster-match", help="the roster column that holds the nbgrader id (default: nbgrader_id)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("feedback", help="nbgrader feedback for every graded trainee, in parallel, with a progress bar")
    p.add_argument("assignment", help="e.g. m1_double_bind")
    p.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: cores + 1)")
    p.add_argument("--student", action="append", help="only this trainee (repeatable)")
    p.add_argument(
        "--allow-pending",
        action="store_true",
        help="also trainees whose hand-grading is pending (their answers show as 'not marked yet')",
    )
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_feedback)
