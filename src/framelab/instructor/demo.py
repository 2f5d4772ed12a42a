"""A simulated cohort of trainees, and ``framelab demo``: the instructor's whole cycle in one command.

The simulation is deliberately simple and fully deterministic for a seed. Each trainee has an
ability (a one-parameter logistic model against each item's difficulty 1-3), a profile, and
possibly one specific misconception that overrides ability on the items it concerns:

* ``vague_is_boundary``: takes a ``vague_rule`` response (hiding behind policy) for
  ``state_boundary`` (and ticks "state the boundary" on such responses in the moves exercise);
* ``misses_dodge``: does not see that a deferral ("not now") is a ``gentle_dodge``, reading it as
  a boundary;
* ``countertransference_blind``: reads the therapist's own reactions as "neither", and would
  explore them in session instead of taking them to supervision;
* ``transference_everywhere``: reads realistic reactions as transference, and explores instead
  of repairing.

Answers are written into ``answers.json`` with :func:`framelab.scoring.answers.write`, exactly as the
menus write them; the notebook itself is the released one (plus, usually, a reflection).
"""

from __future__ import annotations

import math
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.bank.diagnostic import load_diagnostic
from framelab.bank.loader import Bank, Module, Response, gold
from framelab.core.vocabulary import NONE_OF_THE_MOVES, OPTION_SETS, THREE_MOVES
from framelab.instructor import demo_learning
from framelab.instructor.course import course_config
from framelab.learner.diagnostic import RECORD_FILE
from framelab.scoring import answers as store

COURSE_ID = "framelab"
COURSE_FILES = ("modules", "source", "nbgrader_config.py")

#: For a wrong single-label answer, the labels a trainee plausibly confuses with each gold label.
NEAR: dict[str, tuple[str, ...]] = {
    "validate": ("recenter", "mixed_message"),
    "state_boundary": ("vague_rule", "validate"),
    "recenter": ("validate", "ignore_redirect"),
    "gentle_dodge": ("mixed_message", "state_boundary"),
    "vague_rule": ("state_boundary", "gentle_dodge"),
    "ignore_redirect": ("recenter", "gentle_dodge"),
    "mixed_message": ("gentle_dodge", "collapse_frame"),
    "collapse_frame": ("mixed_message", "validate"),
    "transference": ("neither",),
    "countertransference": ("transference",),
    "neither": ("transference",),
    "explore_in_session": ("reflect_and_supervise",),
    "reflect_and_supervise": ("explore_in_session",),
    "repair_directly": ("explore_in_session",),
    "respond_practically": ("repair_directly",),
    "crossing": ("violation",),
    "violation": ("crossing",),
}

MISCONCEPTIONS = ("vague_is_boundary", "misses_dodge", "countertransference_blind", "transference_everywhere")


@dataclass(frozen=True)
class Trainee:
    id: str
    profile: str  # strong, average, weak
    ability: float  # on the logit scale; item difficulty 1, 2, 3 sits at -1, 0, 1
    misconception: str | None
    learning: float  # added to ability for each later module
    dropout_after: int | None  # submits no module after this index (0-based), or None


@dataclass(frozen=True)
class Cohort:
    trainees: tuple[Trainee, ...]
    seed: int
    #: item id -> (the answer some able trainees prefer): a planted, arguable key
    disputed: dict[str, str]


def make_cohort(n: int = 30, seed: int = 2024, disputed: dict[str, str] | None = None) -> Cohort:
    """``n`` trainees: about a quarter strong, half average, a quarter weak; a third hold a misconception."""
    rng = random.Random(seed)
    trainees = []
    for i in range(n):
        profile = ("strong", "average", "average", "weak")[(i * 3) % 4]
        centre = {"strong": 2.0, "average": 1.0, "weak": -0.1}[profile]
        # misconceptions are spread round-robin over every third trainee, so each appears
        misconception = MISCONCEPTIONS[(i // 3) % len(MISCONCEPTIONS)] if i % 3 == 1 else None
        trainees.append(
            Trainee(
                id=f"trainee{i + 1:03d}",
                profile=profile,
                ability=round(rng.gauss(centre, 0.45), 3),
                misconception=misconception,
                learning=round(max(0.0, rng.gauss(0.25, 0.2)), 3),
                dropout_after=(1 if rng.random() < 0.5 else 0) if profile == "weak" and rng.random() < 0.35 else None,
            )
        )
    return Cohort(tuple(trainees), seed, dict(disputed or {}))


def _p_correct(ability: float, difficulty: int) -> float:
    return 1 / (1 + math.exp(-1.7 * (ability - (difficulty - 2))))


def _misconceived(t: Trainee, it: Any, kind: str, right: str | list[str]) -> str | list[str] | None:
    """The answer a trainee's misconception dictates for this item, or None if it does not apply."""
    m = t.misconception
    labels = getattr(it, "labels", ())
    if kind == "single_label":
        if m == "vague_is_boundary" and right == "vague_rule":
            return "state_boundary"
        if m == "misses_dodge" and right == "gentle_dodge":
            return "state_boundary"
    if kind == "moves" and isinstance(right, list):
        moves = [x for x in right if x != NONE_OF_THE_MOVES]
        if (m == "vague_is_boundary" and "vague_rule" in labels) or (m == "misses_dodge" and "gentle_dodge" in labels):
            return sorted({*moves, "state_boundary"}, key=THREE_MOVES.index)
    if kind == "relation":
        if m == "countertransference_blind" and right == "countertransference":
            return "neither"
        if m == "transference_everywhere" and right == "neither":
            return "transference"
    if kind == "next_action":
        relation = getattr(it, "relation", None)
        if m == "countertransference_blind" and relation == "countertransference":
            return "explore_in_session"
        if m == "transference_everywhere" and relation == "neither" and right == "repair_directly":
            return "explore_in_session"
    return None


def _wrong(rng: random.Random, kind: str, right: str | list[str]) -> str | list[str]:
    if isinstance(right, list):  # tick boxes: get one move wrong (add or drop it)
        moves = {x for x in right if x != NONE_OF_THE_MOVES}
        flip = rng.choice(THREE_MOVES)
        moves ^= {flip}
        return sorted(moves, key=THREE_MOVES.index) or [NONE_OF_THE_MOVES]
    options = [v for v in OPTION_SETS[kind][0] if v != right]
    near = [v for v in NEAR.get(right, ()) if v in options]
    if near and rng.random() < 0.7:
        return rng.choice(near)
    return rng.choice(options)


def answer_module(
    t: Trainee, bank: Bank, module: Module, index: int, rng: random.Random, disputed: dict[str, str]
) -> dict[str, dict[str, str | list[str]]]:
    """One trainee's picks for every exercise of a module (what the menus would save)."""
    items = bank.items()
    ability = t.ability + t.learning * index
    picks: dict[str, dict[str, str | list[str]]] = {}
    blank_rate = {"strong": 0.0, "average": 0.02, "weak": 0.06}[t.profile]
    for ex in module.meta.exercises:
        chosen: dict[str, str | list[str]] = {}
        for iid in ex.items:
            it = items[iid]
            right = gold(it, ex.kind)
            if rng.random() < blank_rate:
                continue
            if iid in disputed and rng.random() < _p_correct(ability - 1.2, 2):
                # able trainees tend to prefer the arguable alternative: what a miskey looks like
                chosen[iid] = disputed[iid]
                continue
            forced = _misconceived(t, it, ex.kind, right)
            if forced is not None and rng.random() < 0.85:
                chosen[iid] = forced
            elif rng.random() < _p_correct(ability, it.difficulty):
                chosen[iid] = right
            else:
                chosen[iid] = _wrong(rng, ex.kind, right)
        picks[ex.id] = chosen
    return picks


REFLECTIONS = (
    "The bid felt like a compliment, and the pull was to say yes. Holding the frame kindly means naming "
    "the warmth, saying clearly that I stay their therapist, and getting curious about what the wish is about.",
    "I noticed I wanted to soften the no with 'maybe later'. That would be a promise. A clear, owned limit, "
    "tied to protecting the work, is kinder than a door left ajar.",
    "Not sure. Probably say no.",
)


def reflection_for(t: Trainee, rng: random.Random) -> str | None:
    if t.profile == "weak" and rng.random() < 0.3:
        return None
    return REFLECTIONS[{"strong": 0, "average": rng.choice((0, 1)), "weak": 2}[t.profile]]


# --------------------------------------------------------------------------- nbgrader plumbing


def _check(result: dict[str, Any], what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"{what} failed:\n{result.get('error') or result.get('log')}")


def trainee_submits(
    exchange: Path,
    home: Path,
    trainee: str,
    assignment: str,
    picks: dict[str, Any],
    reflection: str | None,
    files: dict[str, str] | None = None,
) -> None:
    """Fetch the released assignment, choose in the menus, write the reflection (and ``files``, such as the
    diagnostic's record), submit."""
    import nbformat
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    cfg = _trainee_config(exchange, home, trainee)
    home.mkdir(parents=True, exist_ok=True)
    auth = Authenticator(config=cfg)
    work = home / assignment
    if not work.exists():
        cd = CourseDirectory(config=cfg)
        cd.assignment_id = assignment
        ExchangeFetchAssignment(coursedir=cd, authenticator=auth, config=cfg).start()
    for ex_id, chosen in picks.items():
        store.write(work / store.FILENAME, ex_id, chosen)  # exactly what the menus write
    for name, text in (files or {}).items():
        (work / name).write_text(text, encoding="utf-8")
    if reflection:
        path = work / f"{assignment}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade"):
                cell.source = reflection
        nbformat.write(nb, path)
    cd = CourseDirectory(config=cfg)
    cd.assignment_id = assignment
    ExchangeSubmit(coursedir=cd, authenticator=auth, config=cfg).start()


def _trainee_config(exchange: Path, home: Path, trainee: str) -> Any:
    """A trainee's nbgrader settings: their home, their id, the course's exchange and their own cache."""
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.course_id = COURSE_ID
    cfg.CourseDirectory.root = str(home)
    cfg.CourseDirectory.student_id = trainee
    cfg.Exchange.root = str(exchange)
    cfg.Exchange.cache = str(exchange.parent / "cache" / trainee)
    cfg.Exchange.assignment_dir = str(home)
    return cfg


def return_feedback(course: Path, exchange: Path, assignment: str, trainees: list[str]) -> list[Path]:
    """``nbgrader release_feedback`` as the instructor, then ``nbgrader fetch_feedback`` as each trainee
    (into ``<home>/<assignment>/feedback/<timestamp>/``). Returns the pages the trainees received."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchFeedback

    api = NbGraderAPI(config=course_config(course, exchange))
    _check(api.release_feedback(assignment), f"release_feedback {assignment}")
    pages: list[Path] = []
    for trainee in trainees:
        home = exchange.parent / "home" / trainee
        cfg = _trainee_config(exchange, home, trainee)
        cd = CourseDirectory(config=cfg)
        cd.assignment_id = assignment
        ExchangeFetchFeedback(coursedir=cd, authenticator=Authenticator(config=cfg), config=cfg).start()
        pages += sorted((home / assignment / "feedback").glob("*/*.html"))
    return pages


def hand_grade(course: Path, assignment: str, cohort: Cohort, seed: int) -> int:
    """What the instructor does in formgrader: score each hand-graded cell. Returns cells scored."""
    from nbgrader.api import Gradebook

    by_id = {t.id: t for t in cohort.trainees}
    rng = random.Random(f"{seed}-{assignment}-manual")
    n = 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in gb.assignment_submissions(assignment):
            t = by_id.get(sub.student.id)
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.auto_score is not None or not g.needs_manual_grade:
                        continue
                    if t is None:
                        continue
                    share = {"strong": 0.9, "average": 0.65, "weak": 0.35}[t.profile] + rng.gauss(0, 0.12)
                    g.manual_score = float(min(g.max_score, max(0, round(share * g.max_score))))
                    g.needs_manual_grade = False  # as formgrader does when a score is saved
                    n += 1
        gb.db.commit()
    return n


@dataclass
class Prepared:
    course: Path
    assignments: list[str]
    cohort: Cohort
    bank: Bank
    seconds: dict[str, float]
    #: the exchange the cohort submitted through (None once a temporary one is gone)
    exchange: Path | None = None


def _laps(seconds: dict[str, float]) -> Any:
    """A stopwatch: each call records the seconds since the previous call (or since this one) under a name."""
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        seconds[name] = now - tick
        tick = now

    return lap


def prepare_course(
    course: str | Path,
    *,
    root: str | Path = ".",
    trainees: int = 30,
    seed: int = 2024,
    assignments: list[str] | None = None,
    say: Any = print,
    exchange: Path | None = None,
) -> Prepared:
    """A fresh course in ``course`` (copied from ``root``), built and released, with a simulated
    cohort's submissions collected into ``submitted/`` through an exchange: ``exchange`` (kept, with the
    trainees' homes and caches beside it, so that feedback can be returned) or a temporary one."""
    from nbgrader.apps import NbGraderAPI

    from framelab.grading.command import env_path

    env_path()
    root = Path(root).resolve()
    course = Path(course).resolve()
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    seconds: dict[str, float] = {}
    lap = _laps(seconds)

    bank, assignments = _copy_and_build(root, course, assignments)

    tmp = None
    if exchange is None:
        tmp = Path(tempfile.mkdtemp(prefix="framelab-exchange-"))
        exchange = tmp / "exchange"
    exchange = Path(exchange).resolve()
    try:
        exchange.mkdir(parents=True)
        api = NbGraderAPI(config=course_config(course, exchange))
        for a in assignments:
            _check(api.generate_assignment(a, force=True), f"generate_assignment {a}")
            _check(api.release_assignment(a), f"release_assignment {a}")
        say(f"Built and released {', '.join(assignments)} in {course}.")
        lap("build and release")

        cohort = _simulate(bank, assignments, trainees, seed, exchange, exchange.parent / "home")
        for a in assignments:
            _check(api.collect(a), f"collect {a}")
        say(f"{trainees} simulated trainees submitted through a temporary exchange; collected.")
        lap("simulate, submit and collect")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return Prepared(course, assignments, cohort, bank, seconds, exchange if tmp is None else None)


def _copy_and_build(root: Path, course: Path, assignments: list[str] | None) -> tuple[Any, list[str]]:
    """Copy the course's files from ``root``, check its bank and build ``source/``; the bank, and the
    assignments asked for (all by default)."""
    from framelab.bank.build import build
    from framelab.bank.loader import load_bank

    for name in COURSE_FILES:
        src = root / name
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run from the course root (or pass --root)")
        if src.is_dir():
            shutil.copytree(src, course / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, course / name)
    bank = load_bank(course / "modules")
    if bank.problems:
        raise RuntimeError(f"the bank has {len(bank.problems)} problem(s): run 'framelab validate'")
    built = build(bank, course / "source")
    if built.problems:
        raise RuntimeError("\n".join(built.problems))
    available = sorted(p.name for p in (course / "source").iterdir() if p.is_dir() and p.name.startswith("m"))
    wanted = list(assignments or available)
    missing = [a for a in wanted if a not in available]
    if missing:
        raise ValueError(f"no such assignment(s): {', '.join(missing)} (have {', '.join(available)})")
    return bank, wanted


def _simulate(bank: Any, assignments: list[str], trainees: int, seed: int, exchange: Path, homes: Path) -> Any:
    """A simulated cohort, each trainee answering and submitting every module they reach."""
    import json

    disputed = _planted_dispute(bank, assignments)
    cohort = make_cohort(trainees, seed, disputed)
    records = _diagnostic_records(cohort, bank, assignments, seed)
    for t in cohort.trainees:
        rng = random.Random(f"{seed}-{t.id}")
        for index, a in enumerate(assignments):
            if t.dropout_after is not None and index > t.dropout_after:
                break
            picks = answer_module(t, bank, bank.module(a), index, rng, disputed)
            record = records.get(t.id, {}).get(a)
            files = {RECORD_FILE: json.dumps(record, indent=1)} if record else None
            trainee_submits(exchange, homes / t.id, t.id, a, picks, reflection_for(t, rng), files)
    return cohort


def _diagnostic_records(cohort: Cohort, bank: Bank, assignments: list[str], seed: int) -> dict[str, Any]:
    """The simulated trainees' pre/post diagnostic records (:mod:`framelab.instructor.demo_learning`)."""
    err = demo_learning.Errors(_misconceived, _wrong)
    return demo_learning.cohort_records(cohort, bank, load_diagnostic(bank.root), assignments, seed, err)


@dataclass
class DemoResult:
    out: Path
    course: Path
    assignments: list[str]
    trainees: int
    grade_runs: list[Any]
    seconds: dict[str, float]
    files: list[Path]


def run_demo(
    out: str | Path,
    *,
    root: str | Path = ".",
    trainees: int = 30,
    seed: int = 2024,
    jobs: int | None = None,
    assignments: list[str] | None = None,
    keep_course: bool = False,
    progress: bool = True,
    say: Any = print,
) -> DemoResult:
    """Build the release, simulate a cohort, submit, collect, grade in parallel, hand-grade,
    generate feedback, export and report. Writes into ``out``."""
    from framelab.grading import command as grading
    from framelab.instructor import export, feedback, report_page

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="framelab-demo-"))
    course = out / "course" if keep_course else tmp / "course"
    try:
        exchange = tmp / "exchange"
        prepared = prepare_course(
            course, root=root, trainees=trainees, seed=seed, assignments=assignments, say=say, exchange=exchange
        )
        seconds = dict(prepared.seconds)
        lap = _laps(seconds)

        runs = []
        for a in prepared.assignments:
            run = grading.grade(course, a, jobs=jobs, progress=progress, nbgrader_args=[f"--Exchange.root={exchange}"])
            say(run.summary())
            runs.append(run)
        lap("grade")
        for a in prepared.assignments:
            hand_grade(course, a, prepared.cohort, seed)
        lap("hand-grade")
        for a in prepared.assignments:
            made = feedback.generate(course, a, jobs=jobs, progress=progress)
            if not made.ok:
                say(made.summary())
        lap("feedback")
        returned = 0
        for a in prepared.assignments:
            made = sorted(p.parent.name for p in (course / "feedback").glob(f"*/{a}") if p.is_dir())
            returned += len(return_feedback(course, exchange, a, made))
        say(f"Feedback released through the exchange; the trainees fetched {returned} page(s).")
        lap("release and fetch feedback")
        files = export.export_all(course, out, prepared.assignments).files
        lap("export")
        notes = _notes(prepared.cohort, prepared.cohort.disputed)
        history = out / "item-history.json"  # kept in out/, so that demos of other seeds add cohorts to it
        files += report_page.write_report(course, out, prepared.assignments, notes=notes, history=history)
        lap("report")
        if keep_course:
            say(f"The demo course (gradebook, autograded, feedback) is kept in {course}.")
        return DemoResult(out, course, prepared.assignments, trainees, runs, seconds, files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _planted_dispute(bank: Bank, assignments: list[str]) -> dict[str, str]:
    """One single-label item whose key able trainees dispute, so the miskey flag has something to find."""
    for a in assignments:
        for ex in bank.module(a).meta.exercises:
            if ex.kind == "single_label":
                items = bank.items()
                for iid in reversed(ex.items):
                    it = items[iid]
                    if isinstance(it, Response) and it.labels[0] == "mixed_message":
                        return {iid: "gentle_dodge"}
    return {}


def _notes(cohort: Cohort, disputed: dict[str, str]) -> list[str]:
    from collections import Counter

    profiles = Counter(t.profile for t in cohort.trainees)
    held = Counter(t.misconception for t in cohort.trainees if t.misconception)
    notes = [
        f"This is a simulated cohort of {len(cohort.trainees)} trainees (seed {cohort.seed}): "
        + ", ".join(f"{n} {p}" for p, n in sorted(profiles.items()))
        + ". Specific misconceptions were given to "
        + ", ".join(f"{n} ({m.replace('_', ' ')})" for m, n in sorted(held.items()))
        + "."
    ]
    notes.append(demo_learning.NOTE)
    if disputed:
        notes.append(
            "The simulation plants one arguable key ("
            + ", ".join(f"{i}: able trainees prefer {a}" for i, a in disputed.items())
            + ") so that the miskey check has something to find."
        )
    return notes


def simulated_data(bank: Bank, trainees: int = 30, seed: int = 2024, assignments: list[str] | None = None) -> Any:
    """The report's tables for a simulated cohort, scored directly (no nbgrader): for the
    report notebook when no graded course is at hand, and for quick looks."""
    import pandas as pd

    from framelab.instructor.report import RESPONSE_COLUMNS, CohortData, canonical

    folders = [m.folder for m in bank.modules.values() if m.meta.exercises]
    assignments = list(assignments or folders)
    disputed = _planted_dispute(bank, assignments)
    cohort = make_cohort(trainees, seed, disputed)
    items = bank.items()
    rows, scores = [], []
    for t in cohort.trainees:
        rng = random.Random(f"{seed}-{t.id}")
        for index, a in enumerate(assignments):
            if t.dropout_after is not None and index > t.dropout_after:
                break
            module = bank.module(a)
            picks = answer_module(t, bank, module, index, rng, disputed)
            reflection_for(t, rng)  # keep the random stream as in the real demo
            total = n = 0
            for ex in module.meta.exercises:
                for iid in ex.items:
                    it = items[iid]
                    right = canonical(gold(it, ex.kind))
                    answer = canonical(picks[ex.id].get(iid))
                    labels = getattr(it, "labels", None) or [getattr(it, "relation", None) or ""]
                    ok = int(answer == right)
                    rows.append([t.id, a, ex.id, ex.kind, iid, "+".join(labels), right, answer, ok])
                    total, n = total + ok, n + 1
            scores.append({"trainee": t.id, "assignment": a, "score": float(total), "max_score": float(n)})
    notes = [*_notes(cohort, disputed), "Scored directly from the simulated choices (automatic items only)."]
    responses = pd.DataFrame(rows, columns=RESPONSE_COLUMNS)
    texts = {iid: getattr(items[iid], "text", "") for iid in set(responses["item"])}
    data = CohortData(responses, pd.DataFrame(scores), notes, texts)
    data.diagnostic = demo_learning.results_of(_diagnostic_records(cohort, bank, assignments, seed), bank)
    return data
