"""The course's, the content bank's and the learner's ``framelab`` subcommands (their options:
:mod:`framelab.cli.parsers`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framelab.bank.models import Bank, Module


def _bank(args: argparse.Namespace, *, validate: bool = False):
    from framelab.bank.loader import load_bank

    return load_bank(args.modules, validate=validate)


def _sound_bank(args: argparse.Namespace, command: str) -> Bank | None:
    """The bank, or None after one line saying it has problems and what to run (the caller exits 2)."""
    bank = _bank(args)
    if bank.problems:
        print(f"framelab {command}: {args.modules}/ has problems; run 'framelab validate' first.", file=sys.stderr)
        return None
    return bank


def cmd_validate(args: argparse.Namespace) -> int:
    from framelab.bank.diagnostic import check_diagnostic, load_diagnostic

    bank = _bank(args, validate=True)
    diag = load_diagnostic(args.modules)
    problems = [*bank.problems, *diag.problems, *check_diagnostic(diag, bank)]
    for problem in problems:
        print(problem)
    n_items = len(bank.responses) + len(bank.vignettes) + len(diag.items)
    if problems:
        print(f"{len(problems)} problem(s) found in {args.modules}/ ({n_items} items read).", file=sys.stderr)
        return 1
    print(
        f"{args.modules}/ is valid: {len(bank.modules)} modules, {len(bank.responses)} responses, "
        f"{len(bank.vignettes)} vignettes, {len(bank.scenarios)} scenarios"
        + (f", a diagnostic of {len(diag.items)} items." if diag.items else ".")
    )
    return _history_report(args)


def _history_report(args: argparse.Namespace) -> int:
    """The items that misbehaved in several cohorts (``--history``, or the course's item-history.json)."""
    from framelab.instructor.itemhistory import HISTORY_FILE, HistoryError, report_lines

    path = Path(args.history) if getattr(args, "history", None) else Path(args.modules).parent / HISTORY_FILE
    if not path.exists():
        if getattr(args, "history", None):
            print(f"{path}: no such item history. Fix: give the course's {HISTORY_FILE} (framelab report writes it)")
            return 1
        return 0
    try:
        print("\n".join(report_lines(path)))
    except HistoryError as exc:
        print(exc)
        return 1
    return 0


def cmd_bank(args: argparse.Namespace) -> int:
    from framelab.bank.loader import counts

    bank = _bank(args, validate=True)
    data = counts(bank)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        r = data["responses"]
        print(
            f"responses: {r['total']} ({r['by_split']['practice']} practice, {r['by_split']['assessment']} assessment,"
            f" {r['overlap']} in both)"
        )
        for label, n in r["by_label"].items():
            print(f"  {label:<16} {n}")
        print("vignettes: " + ", ".join(f"{k} {v}" for k, v in data["vignettes"].items()))
    if bank.problems:
        print(f"warning: the bank has {len(bank.problems)} problem(s); run 'framelab validate'", file=sys.stderr)
        return 1
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from framelab.bank.build import build

    bank = _bank(args, validate=True)
    if bank.problems:
        for problem in bank.problems:
            print(problem, file=sys.stderr)
        print("Fix the bank first ('framelab validate').", file=sys.stderr)
        return 1
    from framelab.bank.variants import course_setting

    detect_data = Path(args.detect_data) if args.detect_data else None
    setting = course_setting(Path(args.source).resolve().parent)  # c.FrameLab.variants, off by default
    result = build(bank, Path(args.source), check=args.check, detect_data=detect_data, setting=setting)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    for path in result.changed:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    if args.check and result.changed:
        print("source/ is out of date with modules/: run 'make release'.", file=sys.stderr)
        return 1
    return 1 if result.problems else 0


def cmd_workspace(args: argparse.Namespace) -> int:
    from framelab.learner.workspace import populate

    try:
        report = populate(Path(args.release), Path(args.to))
    except OSError as exc:
        print(f"framelab workspace: {exc}", file=sys.stderr)
        return 2
    from framelab.views.home import write_home

    for line in [*report.lines(), write_home(Path(args.to))]:
        print(line)
    if not report.ok:
        print(f"Workspace partly ready: {len(report.failed)} file(s) could not be copied (see above).", file=sys.stderr)
        return 1
    print(f"Workspace ready: {Path(args.to).resolve()}")
    return 0


def record_roleplay(folder: Path, scenario_id: str, finished: bool) -> None:
    """A terminal role-play's turn, in the learner's record: time spent, and finished once it is."""
    from framelab.learner import activity

    activity.touch(folder, done=activity.roleplay_key(scenario_id) if finished else None)


def cmd_roleplay(args: argparse.Namespace) -> int:
    """A role-play in the terminal; in a workspace module folder it is saved and counted as the notebook's is."""
    from framelab.roleplay import terminal

    return terminal.cmd_roleplay(args, record_roleplay)


def cmd_transcript_export(args: argparse.Namespace) -> int:
    from framelab.roleplay.terminal import export_transcript

    content = Path(args.content) if args.content else None
    return export_transcript(Path(args.transcript), content, Path(args.out) if args.out else None, args.force)


def cmd_audit(args: argparse.Namespace) -> int:
    from framelab.grading.audit import audit, render
    from framelab.grading.gradebookcheck import gradebook_problem

    problem = gradebook_problem(Path(args.course), args.db)
    if problem:
        print(f"framelab audit: {problem}", file=sys.stderr)
        return 2
    bank = _sound_bank(args, "audit")
    if bank is None:
        return 2
    try:
        report = audit(Path(args.course), args.assignment, bank, args.db)
    except ValueError as exc:
        print(f"framelab audit: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    return 0 if report.ok else 1


def _train_detectors(no_cache: bool) -> int:
    """Train (or load) both detectors and cache them, as ``make install`` does."""
    import time

    from framelab.detector import repair as repairdetect
    from framelab.detector.boundary import load_detector
    from framelab.detector.data import DetectError, load_data
    from framelab.detector.model import cache_dir

    start = time.perf_counter()
    try:
        detector = load_detector(use_cache=not no_cache)
    except DetectError as exc:
        print(f"framelab detect: {exc}", file=sys.stderr)
        return 2
    print(
        f"Detector ready in {time.perf_counter() - start:.2f} s: learned from "
        f"{len(load_data().practice)} practice responses (bank data {detector.digest[:12]}); "
        f"cache in {cache_dir()}"
    )
    start = time.perf_counter()
    try:
        repairdetect.load_repair_detector(use_cache=not no_cache)
    except DetectError as exc:
        print(f"Repair detector not trained ({exc}); rupture role-plays will be read by the repair cue rules.")
        return 0
    print(
        f"Repair detector ready in {time.perf_counter() - start:.2f} s: learned from "
        f"{len(load_data().repair)} practice replies to ruptures"
    )
    return 0


#: ``framelab detect`` where self-checking is switched off: like ``framelab check``, it is a self-check, so a course
#: deployment keeps the detector for its role-plays (which read replies with their own client lines and the guard).
DETECT_SWITCHED_OFF = (
    "framelab detect: self-checking is switched off for this course (c.FrameLab.self_check = False, or "
    "FRAMELAB_SELF_CHECK=0), so the detector reads replies only in the role-plays: practise your replies there. "
    "An instructor can run it with FRAMELAB_SELF_CHECK=1."
)


def cmd_detect(args: argparse.Namespace) -> int:
    from framelab.core import settings
    from framelab.detector import repair as repairdetect
    from framelab.detector.boundary import load_detector
    from framelab.detector.data import DetectError
    from framelab.detector.jsonl import read_lines, run_jsonl

    if args.train:
        return _train_detectors(args.no_cache)
    if settings.course_deployment():
        print(DETECT_SWITCHED_OFF, file=sys.stderr)
        return 2
    load = repairdetect.load_repair_detector if args.rubric == "repair" else load_detector
    try:
        detector = load(use_cache=not args.no_cache)
    except DetectError as exc:
        print(f"framelab detect: {exc}", file=sys.stderr)
        return 2
    replies, failed = run_jsonl(read_lines(sys.stdin.buffer), detector)
    for reply in replies:
        sys.stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
    if failed:
        print(f"framelab detect: {failed} line(s) could not be labelled; see their 'error'.", file=sys.stderr)
    return 1 if failed else 0


def _where_notebook(given: str | None) -> Path | None:
    """The notebook to check: the one given, else the module folder's own notebook here."""
    from framelab.learner.where import module_folder

    if given:
        return Path(given).absolute()  # the same file whatever folder a step runs in
    folder = module_folder(Path.cwd())
    return None if folder is None else folder / f"{folder.name}.ipynb"


def cmd_check(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from framelab.learner.selfcheck import SelfCheckError, check_notebook, validate

    notebook = _where_notebook(args.notebook)
    if notebook is None:
        print(
            "framelab check: this folder is not inside a module; run it in a module's folder "
            "(cd m1_double_bind) or name the notebook: framelab check m1_double_bind/m1_double_bind.ipynb",
            file=sys.stderr,
        )
        return 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        # nbgrader's validate runs the notebook (seconds): start it now, show the score first
        checking = None if args.no_validate or not notebook.is_file() else pool.submit(validate, notebook)
        try:
            report = check_notebook(notebook, Path(args.modules) if args.modules else None)
        except SelfCheckError as exc:
            print(f"framelab check: {exc}", file=sys.stderr)
            if checking is not None:
                checking.cancel()
            return 2
        print(report.render(show_unanswered=args.all), flush=True)
        if checking is not None:
            problems = checking.result()
            print("nbgrader validate: " + ("passed" if not problems else "problems found:\n" + problems))
    return 0


def _workspace(given: str | None, command: str) -> Path | None:
    from framelab.learner.where import workspace_folder

    if given:
        if Path(given).is_dir():
            return Path(given)
        print(f"framelab {command}: {given} is not a folder (run 'make lab' to create your workspace)", file=sys.stderr)
        return None
    found = workspace_folder(Path.cwd())
    if found is None:
        print(
            f"framelab {command}: no workspace here or above this folder. Run it inside your workspace "
            f"(JupyterLab's terminal starts there), or name it: framelab {command} path/to/workspace",
            file=sys.stderr,
        )
    return found


def cmd_progress(args: argparse.Namespace) -> int:
    from framelab.learner.progress import progress, render_progress

    workspace = _workspace(args.workspace, "progress")
    if workspace is None:
        return 2
    print(render_progress(progress(workspace)))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from framelab.learner.record import write_record

    workspace = _workspace(args.workspace, "record")
    if workspace is None:
        return 2
    try:
        path = write_record(workspace, Path(args.out) if args.out else None, name=args.name)
    except OSError as exc:
        print(
            f"framelab record: could not write the record ({exc}); pass --out with a folder you can write to.",
            file=sys.stderr,
        )
        return 1
    print(f"Your completion record: {path} (open it in a browser, and print it or save it as PDF for your CPD log).")
    return 0


def _course_salt(course: Path) -> str:
    """The course's variant salt (``c.FrameLab.variant_salt`` in its nbgrader_config.py), or the default."""
    from framelab.bank.variants import DEFAULT_SALT, salt_of
    from framelab.core.settings import CONFIG, read_config

    if not (course / CONFIG).is_file():
        return DEFAULT_SALT
    try:
        return salt_of(read_config(course))
    except Exception:  # a config nbgrader cannot read is nbgrader's to report; the default salt stands
        return DEFAULT_SALT


def _print_overlap(module: Module, bank: Bank, salt: str, n: int) -> int:
    """How much pairs of n trainee ids share in each of the assignment's exercises (the README's table)."""
    from framelab.bank.variants import overlap_profile

    if n < 2:
        print("framelab variant: --overlap needs at least 2 ids to make a pair.", file=sys.stderr)
        return 2
    profile = overlap_profile(module, bank, [f"trainee-{k}" for k in range(n)], salt)
    print(f"{module.folder}: {n} ids; draws balanced on difficulty only (answers only on average)")
    for o in profile.values():
        print(
            f"  {o.exercise}: pool {o.pool}, draw {o.draw}, {o.pairs} pairs; mean shared {o.mean:.1f}, "
            f"most {o.most}, pairs over half {o.over_half_rate:.2%}"
        )
    return 0


def cmd_variant(args: argparse.Namespace) -> int:
    from framelab.bank.variants import course_setting, variants_json

    if not args.student.strip():
        print("framelab variant: the student id is empty; give the trainee's nbgrader id.", file=sys.stderr)
        return 2
    bank = _sound_bank(args, "variant")
    if bank is None:
        return 2
    try:
        module = bank.module(args.assignment)
    except KeyError:
        graded = ", ".join(m.folder for m in bank.modules.values() if m.meta.exercises)
        print(
            f"framelab variant: no assignment '{args.assignment}' in {args.modules}/ (graded: {graded}).",
            file=sys.stderr,
        )
        return 2
    salt = args.salt or _course_salt(Path(args.course))
    if args.overlap:
        return _print_overlap(module, bank, salt, args.overlap)
    data = variants_json(module, bank, args.student, salt)
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    on = course_setting(Path(args.course)).on
    asked = "what this trainee is asked" if on else "their draw; c.FrameLab.variants is off, so all get the fixed forms"
    print(f"{module.folder}, trainee {args.student} ({asked}):")
    for exercise, items in data["exercises"].items():  # type: ignore[union-attr]
        print(f"  {exercise}: {', '.join(items)}")
    return 0
