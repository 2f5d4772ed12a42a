"""The instructor's ``framelab`` subcommands: ``grade``, ``demo``, ``feedback``, ``report``, ``export``,
``roster`` and ``purge`` (their options: :mod:`framelab.cli.parsers`). Run from the course root (where
``nbgrader_config.py`` is), like nbgrader itself.
"""

from __future__ import annotations

import argparse
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


def _unknown(command: str, course: Path, names: list[str] | None, url: str | None = None) -> bool:
    """Print one line and return True if any of ``names`` is not an assignment in the course's gradebook."""
    from framelab.grading.gradebookcheck import assignment_problem

    problem = assignment_problem(course.resolve(), list(names or ()), url)
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
    if _unknown("grade", Path(args.course), [args.assignment], url):
        return 2
    if args.rescore:
        return _rescore(args)
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


def _rescore(args: argparse.Namespace) -> int:
    from framelab.grading.command import GradingError
    from framelab.grading.rescore import rescore_all

    if args.force:
        print("framelab grade: --rescore and --force do not go together: choose one.", file=sys.stderr)
        return 2
    try:
        run = rescore_all(Path(args.course), args.assignment, students=args.student or None, lock_wait=args.lock_wait)
    except GradingError as exc:
        print(f"framelab grade: {exc}", file=sys.stderr)
        return 2
    print(run.summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from framelab.instructor.demo import run_demo

    if args.trainees < 1:
        print("framelab demo: --trainees must be at least 1", file=sys.stderr)
        return 2
    if _jobs_problem("demo", args.jobs):
        return 2
    from framelab.grading.gradebookcheck import source_assignments

    have = source_assignments(Path(args.root))
    if wrong := [a for a in args.assignment or () if a not in have]:
        print(
            f"framelab demo: no assignment named '{wrong[0]}': the assignments are {', '.join(have)}",
            file=sys.stderr,
        )
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
    from framelab.core.settings import SettingsError
    from framelab.instructor.course import CourseError, pending
    from framelab.instructor.report_page import write_report

    if _refuse("report", Path(args.course)) or _unknown("report", Path(args.course), args.assignment):
        return 2
    print(
        f"Reading the gradebook of {Path(args.course).resolve()} and writing the report to {args.out}/ ...", flush=True
    )
    try:
        files = write_report(Path(args.course), Path(args.out), args.assignment or None)
        waiting = pending(Path(args.course), args.assignment or None)
    except (CourseError, SettingsError) as exc:
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
    from framelab.core.settings import SettingsError
    from framelab.instructor import export
    from framelab.instructor.course import CourseError

    if _refuse("export", Path(args.course)) or _unknown("export", Path(args.course), args.assignment):
        return 2
    print(f"Exporting the grades of {Path(args.course).resolve()} to {args.out}/ ...", flush=True)
    columns = dict(c.split("=", 1) for c in args.canvas_column or () if "=" in c)
    if len(columns) != len(args.canvas_column or ()):
        usage = "--canvas-column takes ASSIGNMENT=HEADER, e.g. 'm1_double_bind=Module 1 (4051)'"
        print(f"framelab export: {usage}", file=sys.stderr)
        return 2
    try:
        roster = export.read_roster(args.roster, args.roster_match) if args.roster else None
        moodle = export.read_roster(args.moodle_roster, args.roster_match) if args.moodle_roster else None
        done = export.export_all(
            Path(args.course),
            Path(args.out),
            [*(args.assignment or ()), *(args.assignments or ())] or None,
            formats=args.format or ("nbgrader", "canvas", "moodle"),
            allow_pending=args.allow_pending,
            roster=roster,
            moodle_roster=moodle,
            canvas_columns=columns,
            missing=args.missing,
        )
    except export.PendingGrades as exc:
        print(f"framelab export: nothing written. {exc}", file=sys.stderr)
        return 1
    except (CourseError, SettingsError) as exc:
        print(f"framelab export: {exc}", file=sys.stderr)
        return 2
    for path in done.files:
        print(f"wrote {path}")
    for line in done.passes:
        print(line)
    for line in done.warnings:
        print(f"note: {line}", file=sys.stderr)
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from framelab.instructor.course import CourseError
    from framelab.instructor.feedback import check_course, generate

    if _refuse("feedback", Path(args.course)) or _unknown("feedback", Path(args.course), [args.assignment]):
        return 2
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


def cmd_roster_import(args: argparse.Namespace) -> int:
    from framelab.instructor.course import CourseError
    from framelab.instructor.roster import import_people, read_people

    if _refuse("roster import", Path(args.course), must_exist=False):
        return 2
    try:
        done = import_people(Path(args.course), read_people(Path(args.file), args.id_column))
    except CourseError as exc:
        print(f"framelab roster import: {exc}", file=sys.stderr)
        return 2
    print(done.summary())
    if done.added:
        print("added: " + ", ".join(done.added))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from framelab.instructor import purge

    course = Path(args.course)
    if _refuse("purge", course):
        return 2
    who = f"assignment {args.assignment}" if args.assignment else "the whole cohort"
    places = purge.plan(course, args.assignment, Path(args.exchange) if args.exchange else None)
    if not places:
        print(f"framelab purge: nothing of {who} is kept in {course.resolve()} (or its exchange).")
        return 0
    print(f"Personal data of {who}, in {len(places)} place(s):")
    for place in places:
        print(f"  {place.what}")
    if not args.yes:
        again = f"framelab purge {args.assignment or '--cohort'} --yes"
        print(f"Nothing was removed. To remove all of the above for good, run: {again}")
        return 0
    problems = purge.carry_out(course, places, args.assignment)
    for line in problems:
        print(f"framelab purge: {line}", file=sys.stderr)
    print(f"Removed {len(places) - len(problems)} of {len(places)} place(s).")
    return 1 if problems else 0
