"""An instructor's real term, end to end, in one test (issue 28's "Done when"), on Module 1 with a
roster of seven: one never submits, one submits after the due date, one submits twice.

Roster import (``framelab roster import``, Canvas's export), release, fetch and submit through
nbgrader's exchange, collect (nbgrader's collect with the course's ``SafeCollect`` and
``ExchangeCollect.update``, so the resubmission replaces the first), ``framelab grade`` (attempts and
late work in its table, under a policy of one point a day), hand-grading through nbgrader's Gradebook
API (as formgrader saves a score), ``framelab feedback``, ``nbgrader release_feedback`` and
``fetch_feedback`` as each trainee, a key fix and ``framelab grade --rescore`` that keeps every hand
mark, ``framelab export --assignment`` to Canvas and Moodle with their rosters, and ``framelab report``
with item analysis. Each step's time is printed (``-s``); ``tests/benchmarks/bench_term.py`` times
the same steps on a cohort of 30. ``test_term_cycle.py`` looks closer at feedback, lateness and the
rescore on a smaller cohort.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import random
import time
from pathlib import Path

import pytest
from conftest import BIN, copy_course
from test_term_cycle import ITEM, _fix_key, _marks

pytestmark = pytest.mark.slow

A = "m1_double_bind"
TRAINEES = [f"trainee{i:03d}" for i in range(1, 8)]
ABSENT, LATE, TWICE = "trainee007", "trainee006", "trainee005"
#: every step of the term, in order (the test times each one)
STEPS = [
    "roster import",
    "generate and release",
    "submit (6 of 7, one late, one twice) and collect",
    "framelab grade",
    "hand-grade (Gradebook API)",
    "framelab feedback",
    "release_feedback and fetch_feedback",
    "key fix and rescore",
    "export one assignment (Canvas, Moodle)",
    "framelab report",
]


def canvas_roster(path: Path) -> Path:
    """Canvas's gradebook export (Grades > Export) with the instructor's nbgrader_id column."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "M1 double bind (4051)", "nbgrader_id"])
        w.writerow(["    Points Possible", "", "", "", "", "20", ""])
        for n, t in enumerate(TRAINEES, 1):
            w.writerow([f"Trainee, Number {n}", str(52300 + n), f"S{n:04d}", f"t{n}", "A", "", t])
    return path


def moodle_roster(path: Path) -> Path:
    lines = ["First name,Last name,ID number,Email address,nbgrader_id"]
    lines += [f"Number {n},Trainee,{70000 + n},{t}@uni.example,{t}" for n, t in enumerate(TRAINEES, 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


class Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.start, 1)
        self.start = now


def test_a_term_with_a_roster_of_seven(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from framelab.bank.loader import load_bank
    from framelab.cli.main import main
    from framelab.grading import command as grading
    from framelab.instructor.course import course_config
    from framelab.instructor.demo import answer_module, make_cohort, return_feedback, trainee_submits
    from framelab.instructor.feedback import generate

    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs alembic
    clock = Clock()
    course = copy_course(tmp_path / "course")
    exchange, homes = tmp_path / "exchange", tmp_path / "home"
    exchange.mkdir()

    # the roster first: seven trainees exist before anyone submits
    assert main(["roster", "import", str(canvas_roster(tmp_path / "canvas.csv")), "--course", str(course)]) == 0
    clock.lap("roster import")

    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write('\nc.LatePolicy.policies = {"*": "per_day:1"}\n')  # one point off a day late
    cfg = course_config(course, exchange)
    cfg.ExchangeCollect.update = True  # a resubmission replaces the first try
    api = NbGraderAPI(config=cfg)
    assert api.generate_assignment(A, force=True)["success"]
    assert api.release_assignment(A)["success"]
    clock.lap("generate and release")

    bank = load_bank(course / "modules")
    cohort = {t.id: t for t in make_cohort(7, seed=11).trainees}
    rng = random.Random(11)
    picks = {t: answer_module(cohort[t], bank, bank.module(A), 0, rng, {}) for t in TRAINEES}
    reflection = "I felt the pull to say yes. I would name the warmth, keep the frame, and ask what it means."
    for t in TRAINEES[:5]:
        trainee_submits(exchange, homes / t, t, A, picks[t], reflection)
    assert api.collect(A)["success"]
    # the due date passes; one trainee submits after it, another submits again with every item right
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        gb.update_or_create_assignment(A, duedate=datetime.datetime.utcnow())
    time.sleep(1.1)
    trainee_submits(exchange, homes / LATE, LATE, A, picks[LATE], reflection)
    key = {ex.id: {i: _gold(bank, ex, i) for i in ex.items} for ex in bank.module(A).meta.exercises}
    trainee_submits(exchange, homes / TWICE, TWICE, A, key, reflection)
    assert api.collect(A)["success"]
    clock.lap("submit (6 of 7, one late, one twice) and collect")

    run = grading.grade(course, A, jobs=2, progress=False, nbgrader_args=[f"--Exchange.root={exchange}"])
    assert sorted(o.student for o in run.by_status("graded")) == sorted(TRAINEES[:6]), run.summary()
    rows = {o.student: o for o in run.outcomes}
    assert rows[TWICE].attempts == 2 and all(rows[t].attempts == 1 for t in TRAINEES[:6] if t != TWICE)
    assert rows[LATE].late.startswith("late ") and rows[LATE].late.endswith("(-1)") and rows[TRAINEES[0]].late == ""
    assert run.absent == [ABSENT] and f"Not submitted (1 on the roster, nothing collected): {ABSENT}." in run.summary()
    clock.lap("framelab grade")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        assert gb.find_submission(A, LATE).total_seconds_late > 0
        assert gb.find_submission(A, TRAINEES[0]).total_seconds_late == 0
        resubmitted = gb.find_submission(A, TWICE)
        auto = sum(g.auto_score or 0 for nb in resubmitted.notebooks for g in nb.grades if g.auto_score is not None)
        assert auto == sum(len(ex.items) for ex in bank.module(A).meta.exercises)  # the second try, all right
        marked = 0
        for sub in gb.assignment_submissions(A):  # what formgrader saves when a score is entered
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.needs_manual_grade:
                        g.manual_score = min(g.max_score, 2.0 if sub.student.id != TRAINEES[1] else 1.0)
                        g.needs_manual_grade = False
                        marked += 1
        gb.db.commit()
    assert marked >= 6
    clock.lap("hand-grade (Gradebook API)")

    fed = generate(course, A, jobs=2, progress=False)
    assert fed.ok, fed.summary()
    assert sorted(p.parent.parent.name for p in (course / "feedback").glob(f"*/{A}/*.html")) == sorted(TRAINEES[:6])
    clock.lap("framelab feedback")

    pages = return_feedback(course, exchange, A, TRAINEES[:6])  # release_feedback, then fetch_feedback each
    assert sorted(p.parents[3].name for p in pages) == sorted(TRAINEES[:6])
    late_page = next(p for p in pages if p.parents[3].name == LATE).read_text(encoding="utf-8")
    assert "after the due date" in late_page and "Score:" in late_page
    clock.lap("release_feedback and fetch_feedback")

    before = _marks(course)
    hand = {k: v for k, v in before.items() if v[1] is not None}
    assert len(hand) == marked
    _fix_key(course, ITEM, "gentle_dodge")
    stale = grading.grade(course, A, jobs=2, progress=False)  # every graded trainee is named, none regraded
    assert len(stale.by_status("skipped")) == 6 and "--rescore" in stale.summary(), stale.summary()
    assert main(["grade", A, "--rescore", "--course", str(course)]) == 0
    after = _marks(course)
    assert {k: after[k] for k in hand} == hand  # every hand mark as it was
    assert {k for k, v in after.items() if v != before[k]} <= {(t, f"backfires__{ITEM}") for t in TRAINEES}
    assert any(after[k] != before[k] for k in after), "the key fix changed no score: the test proves nothing"
    clock.lap("key fix and rescore")

    out = tmp_path / "grades"
    argv = ["export", "--course", str(course), "--out", str(out), "--assignment", A]
    argv += ["--roster", str(canvas_roster(tmp_path / "canvas.csv")), "--moodle-roster"]
    argv += [str(moodle_roster(tmp_path / "moodle.csv"))]
    assert main(argv) == 0
    canvas = list(csv.reader((out / "grades_canvas.csv").open()))
    assert canvas[0][5:] == ["M1 double bind (4051)"]  # the Canvas assignment that exists: no new column
    assert len(canvas) == 2 + 7 and [r[5] for r in canvas[2:] if r[1] == "52307"] == [""]  # trainee007: blank
    moodle = list(csv.reader((out / "grades_moodle.csv").open()))
    assert moodle[0] == ["First name", "Last name", "ID number", "Email address", A] and len(moodle) == 8
    assert [r[4] for r in moodle if r[2] == "70007"] == [""]
    own = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert own[ABSENT]["submitted"] == "False" and own[ABSENT]["passed"] == "False" and own[ABSENT]["pass_mark"]
    clock.lap("export one assignment (Canvas, Moodle)")

    assert main(["report", A, "--course", str(course), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.html").read_text()
    assert "7 trainees, 1 not submitted," in page and ABSENT in page
    assert "Item analysis: every graded item and criterion" in page
    summary = json.loads((tmp_path / "report" / "report.json").read_text())
    assert summary["submitted_nothing"] == [ABSENT]
    items = summary["item_analysis"]["items"]
    assert any(x["manual"] for x in items) and any(not x["manual"] for x in items)  # hand-marked and auto
    assert summary["item_analysis"]["reliability"][0]["n"] == 6
    assert (tmp_path / "report" / "item_analysis.csv").exists()
    clock.lap("framelab report")
    print("\nsteps (seconds, 7 trainees, 2 workers):", json.dumps(clock.seconds))
    assert list(clock.seconds) == STEPS


def _gold(bank, ex, iid):
    from framelab.bank.loader import gold

    return gold(bank.items()[iid], ex.kind)
