"""Every option of every ``framelab`` subcommand, in one place: the argparse parsers, as declarative
tables, one small function per group. Each subcommand's ``func`` is the function that runs it: the
content bank's and the learner's in :mod:`framelab.cli.commands`, the instructor's in
:mod:`framelab.cli.instructor`, the terminal role-play's in :mod:`framelab.roleplay.terminal`, and the
blind rating's in :mod:`framelab.bank.agreement`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from framelab import __version__
from framelab.cli import commands as c
from framelab.cli import instructor as i


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="framelab", description="Frame Lab course tools.")
    parser.add_argument("--version", action="version", version=f"framelab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (_content, _transcript, _detect, _learner, _roleplay, _grade, _demo, _report_export, _feedback):
        group(sub)
    _purge(sub)
    _agreement(sub)
    _variant(sub)
    return parser


def _with_modules(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--modules", default="modules", help="the content bank folder (default: modules)")
    return p


def _content(sub: Any) -> None:
    """validate, bank, build, workspace and audit: the content bank and the course."""
    p = _with_modules(sub.add_parser("validate", help="check every content file; list each problem with its fix"))
    p.add_argument(
        "--history",
        metavar="FILE",
        help="a course's item-history.json: list the items that misbehaved in several cohorts "
        "(default: item-history.json beside modules/, when there is one)",
    )
    p.set_defaults(func=c.cmd_validate)
    p = _with_modules(sub.add_parser("bank", help="counts of labelled items"))
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=c.cmd_bank)
    p = _with_modules(sub.add_parser("build", help="regenerate source/ content files and exercise cells"))
    p.add_argument("--source", default="source")
    p.add_argument(
        "--detect-data",
        default="src/framelab/data/detect.json" if Path("src/framelab").is_dir() else None,
        help="where to write the detector's training data (default: the package's, when run in the repository)",
    )
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    p.set_defaults(func=c.cmd_build)
    p = sub.add_parser("workspace", help="copy the release into a workspace, never overwriting a file")
    p.add_argument("--release", default="release")
    p.add_argument("--to", default="workspace")
    p.set_defaults(func=c.cmd_workspace)
    p = _with_modules(
        sub.add_parser(
            "audit", help="re-score classification answers without running trainee code; list mismatches with nbgrader"
        )
    )
    p.add_argument("assignment", help="e.g. m1_double_bind")
    p.add_argument("--course", default=".", help="the course root, holding submitted/ and gradebook.db (default: .)")
    p.add_argument("--db", help="the gradebook's database URL (default: sqlite:///COURSE/gradebook.db)")
    p.set_defaults(func=c.cmd_audit)


def _transcript(sub: Any) -> None:
    """transcript export: a saved role-play as Markdown."""
    p = sub.add_parser("transcript", help="role-play transcripts")
    tsub = p.add_subparsers(dest="action", required=True)
    e = tsub.add_parser("export", help="write a saved role-play as Markdown, for supervision")
    e.add_argument("transcript", help="a roleplay-<scenario>.json file saved beside a notebook")
    e.add_argument("--content", help="the module's content.json (default: the one beside the transcript)")
    e.add_argument("--out", help="write here instead of printing (never over the transcript itself)")
    e.add_argument("--force", action="store_true", help="replace --out if it already exists")
    e.set_defaults(func=c.cmd_transcript_export)


def _detect(sub: Any) -> None:
    """detect: the feedback engine over JSON Lines."""
    p = sub.add_parser(
        "detect",
        help="label replies with the three moves and backfiring patterns: JSON Lines in on stdin, out on stdout",
        description='Reads lines like {"id": 1, "text": "..."} on stdin and writes, for each, '
        '{"id", "labels", "scores", "cues"} (or {"id", "error"}) on stdout. Exits 1 if any line failed.',
    )
    p.add_argument(
        "--rubric",
        choices=["three_moves", "repair"],
        default="three_moves",
        help="which detector labels the lines: replies to boundary bids (default) or to ruptures (repair)",
    )
    p.add_argument("--train", action="store_true", help="only train (or load) both models and cache them, then exit")
    p.add_argument("--no-cache", action="store_true", help="train afresh and do not read or write the cache")
    p.set_defaults(func=c.cmd_detect)


def _learner(sub: Any) -> None:
    """check, progress and record: self-study."""
    p = sub.add_parser("check", help="self-study: score your own graded answers in a notebook, with the reasons")
    p.add_argument(
        "notebook",
        nargs="?",
        help="e.g. workspace/m1_double_bind/m1_double_bind.ipynb (default: the module folder you are in)",
    )
    p.add_argument("--modules", help="the course's modules/ folder (default: found above the notebook)")
    p.add_argument("--no-validate", action="store_true", help="skip 'nbgrader validate'")
    p.add_argument(
        "--all", action="store_true", help="also show the answers to items you have not answered yet (spoils them)"
    )
    p.set_defaults(func=c.cmd_check)
    p = sub.add_parser("progress", help="self-study: what you have done in each module of your workspace")
    p.add_argument("workspace", nargs="?", help="your workspace (default: the one you are in, or ./workspace)")
    p.set_defaults(func=c.cmd_progress)
    p = sub.add_parser("record", help="self-study: write a dated, printable record of your course work (HTML)")
    p.add_argument("--workspace", help="your workspace (default: the one you are in, or ./workspace)")
    p.add_argument("--out", help="where to write it (default: completion-record-DATE.html in the workspace)")
    p.add_argument("--name", default="", help="your name, to print on the record")
    p.set_defaults(func=c.cmd_record)


def _roleplay(sub: Any) -> None:
    """roleplay: a scenario in the terminal (saved and counted when run in a workspace module folder)."""
    p = sub.add_parser(
        "roleplay",
        help="play a role-play scenario in the terminal (or from a file of replies, with --replies and --json)",
    )
    p.add_argument("scenario", help="the scenario's id, such as friends-when-we-finish")
    p.add_argument(
        "--from",
        dest="where",
        default=".",
        help="the course folder (with modules/) or a workspace module folder (with content.json); default: here",
    )
    p.add_argument("--replies", help='a JSON Lines file: one {"reply": "...", "ticked": [...]} per line')
    p.add_argument("--json", action="store_true", help="with --replies: print one JSON line per turn")
    p.set_defaults(func=c.cmd_roleplay)


def _grade(sub: Any) -> None:
    """grade: parallel, sandboxed autograding."""
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
    p.add_argument("--force", action="store_true", help="re-grade trainees already graded (hand marks are asked again)")
    p.add_argument(
        "--rescore",
        action="store_true",
        help="after a key fix: score graded trainees again from their snapshots, running nothing, keeping hand marks",
    )
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
    p.set_defaults(func=i.cmd_grade)


def _demo(sub: Any) -> None:
    """demo: the whole cycle on a simulated cohort."""
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
    p.set_defaults(func=i.cmd_demo)


def _report_export(sub: Any) -> None:
    """report, export and roster: the cohort report, the grades for an LMS, the trainees from one."""
    p = sub.add_parser("report", help="cohort report: distributions, item statistics, misconception map, progress")
    p.add_argument("assignment", nargs="*", help="assignments to include (default: all in the gradebook)")
    p.add_argument("--out", required=True, help="folder for report.html, its plots and CSV tables")
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.set_defaults(func=i.cmd_report)

    p = sub.add_parser("export", help="grades CSV for Canvas and Moodle, plus nbgrader's own export")
    p.add_argument("assignment", nargs="*", help="assignments to include (default: all)")
    p.add_argument("--assignment", dest="assignments", action="append", help="only this assignment (repeatable)")
    p.add_argument(
        "--missing",
        choices=["blank", "zero"],
        default="blank",
        help="a trainee with no submission in the LMS files: blank (the LMS leaves it alone; default) or 0",
    )
    p.add_argument(
        "--canvas-column",
        action="append",
        metavar="ASSIGNMENT=HEADER",
        help="write ASSIGNMENT under this existing Canvas column header, e.g. 'm1_double_bind=Module 1 (4051)'",
    )
    p.add_argument(
        "--moodle-roster",
        help="Moodle's grade export with a column nbgrader_id (or --roster-match): Moodle's names, ID numbers, emails",
    )
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
    p.set_defaults(func=i.cmd_export)

    p = sub.add_parser("roster", help="the course's trainees: import them from a Canvas or Moodle roster")
    rsub = p.add_subparsers(dest="action", required=True)
    q = rsub.add_parser("import", help="add or update trainees in the gradebook from a Canvas, Moodle or nbgrader CSV")
    q.add_argument("file", help="Canvas's gradebook export, Moodle's grade export, or a CSV with a column 'id'")
    q.add_argument("--id-column", help="the column holding each trainee's hub username (default: nbgrader_id, ...)")
    q.add_argument("--course", default=".", help="the course root (default: .)")
    q.set_defaults(func=i.cmd_roster_import)


def _feedback(sub: Any) -> None:
    """feedback: nbgrader feedback in parallel."""
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
    p.set_defaults(func=i.cmd_feedback)


def _purge(sub: Any) -> None:
    """purge: remove a cohort's personal data (lists first; removes only with --yes)."""
    p = sub.add_parser(
        "purge", help="remove one assignment's or the whole cohort's personal data from every place it is kept"
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("assignment", nargs="?", help="e.g. m1_double_bind: that assignment's work, grades and feedback")
    which.add_argument("--cohort", action="store_true", help="every trainee: all their work, grades and feedback")
    p.add_argument("--yes", action="store_true", help="remove what is listed (without it, only the list is shown)")
    p.add_argument("--course", default=".", help="the course root (default: .)")
    p.add_argument("--exchange", help="the nbgrader exchange folder (default: the course's Exchange.root)")
    p.set_defaults(func=i.cmd_purge)


def _agreement(sub: Any) -> None:
    """agreement: blind double rating."""
    from framelab.bank import agreement

    p = sub.add_parser("agreement", help="blind double rating: the raters' packet, and agreement figures")
    asub = p.add_subparsers(dest="action", required=True)
    for name, func, help_ in (
        ("packet", agreement.cmd_packet, "write the blind questions (codebook-rated, no key) as JSON Lines"),
        (
            "report",
            agreement.cmd_report,
            "from MODULES/_agreement: Cohen's kappa between the raters, each rater against the key",
        ),
    ):
        q = asub.add_parser(name, help=help_)
        q.add_argument("--modules", default="modules", help="the content bank folder (default: modules)")
        if name == "packet":
            q.add_argument("--practice", type=int, default=60, help="practice responses in the sample (default: 60)")
            q.add_argument("--out", required=True, help="where to write the packet")
        q.set_defaults(func=func)
    _agreement_sheets(asub)


def _agreement_sheets(asub: Any) -> None:
    """agreement sheet / compare: human raters' CSV sheets."""
    from framelab.bank import sheets

    q = asub.add_parser("sheet", help="write a blind rating sheet (CSV, no key) for a human rater to fill in")
    q.add_argument("--modules", default="modules", help="the content bank folder (default: modules)")
    q.add_argument("--practice", type=int, default=60, help="practice responses in the sample (default: 60)")
    q.add_argument("--out", required=True, help="where to write the sheet (CSV)")
    q.set_defaults(func=sheets.cmd_sheet)
    q = asub.add_parser("compare", help="two filled sheets: Cohen's kappa, agreement with the key, the splits")
    q.add_argument("rater_a", help="rater A's filled sheet (CSV)")
    q.add_argument("rater_b", help="rater B's filled sheet (CSV)")
    q.add_argument("--modules", default="modules", help="the content bank folder (default: modules)")
    q.add_argument("--splits", help="also write the splits to this CSV, with decision and why columns")
    q.set_defaults(func=sheets.cmd_compare)


def _variant(sub: Any) -> None:
    """variant: which items of each graded exercise one trainee is asked (framelab.bank.variants)."""
    p = _with_modules(
        sub.add_parser(
            "variant",
            help="which items of an assignment's graded exercises one trainee is asked",
            description=(
                "Print the items a trainee's variant asks, from the trainee's id alone. With --json it prints "
                '{"items": [...], "exercises": {"<exercise>": [...], ...}}: "items" is every item the trainee is '
                "asked, in exercise order, each once (two exercises that ask about the same vignettes share "
                'them); "exercises" gives each exercise\'s items in the order the trainee sees them. An '
                "exercise with no pool is a fixed form: everyone gets its items as listed. The draw is "
                "balanced on difficulty only, never on the answer: balancing answers would mean publishing "
                "which items share one, and beside a peer's feedback that gives the key away; so answers "
                "are balanced only on average (every item is asked of the same share of trainees). With "
                "--overlap N it prints how many items pairs of N ids share, per exercise. Notebooks and "
                "grading ask variants only where the course sets c.FrameLab.variants = True; otherwise "
                "everyone answers each exercise's fixed form."
            ),
        )
    )
    p.add_argument("assignment", help="the assignment (module folder, e.g. m1_double_bind, or its id, m1)")
    p.add_argument("student", help="the trainee's id (their nbgrader student id, or JupyterHub user name)")
    p.add_argument("--json", action="store_true", help='print JSON: {"items": [...], "exercises": {...}}')
    p.add_argument("--course", default=".", help="the course root, whose nbgrader_config.py may set the salt")
    p.add_argument("--salt", help="the course's salt (default: c.FrameLab.variant_salt, else 'framelab')")
    p.add_argument(
        "--overlap",
        type=int,
        metavar="N",
        help="instead, print how many items pairs of N trainee ids share in each exercise (the student is ignored)",
    )
    p.set_defaults(func=c.cmd_variant)
