"""The instructor's real term after ``framelab grade`` (issue 28), on Module 1 with a small cohort:

* the latest submission counts, and grade's table shows each trainee's attempts and late work
  (a due date in the gradebook, a policy of one point a day in the course's config);
* feedback goes back through nbgrader's exchange: ``release_feedback`` as the instructor and
  ``fetch_feedback`` as each trainee, after ``framelab grade`` and ``framelab feedback``; the late
  trainee's page, the export and the report say the work came in late;
* after a key is corrected, ``framelab grade`` names every trainee scored against the old key, the audit
  says so, and ``framelab grade --rescore`` scores them again from their snapshots, changing only that
  item's automatic scores and never a hand mark.
"""

from __future__ import annotations

import csv
import random
import time
from datetime import UTC, datetime

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

A = "m1_double_bind"
TRAINEES = 3


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """Module 1 released through a kept exchange and submitted by three simulated trainees; then the due
    date passes, the first trainee submits again (late, under a policy of 1 point a day) and everyone is
    collected again and graded."""
    from nbgrader.api import Gradebook

    from framelab.grading import command as grading
    from framelab.instructor.demo import answer_module, prepare_course, trainee_submits

    base = tmp_path_factory.mktemp("term")
    exchange = base / "exchange"
    prepared = prepare_course(
        base / "course", root=ROOT, trainees=TRAINEES, assignments=[A], say=lambda *_: None, exchange=exchange
    )
    course = prepared.course
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write('\nc.LatePolicy.policies = {"*": "per_day:1"}\n')
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        gb.update_or_create_assignment(A, duedate=datetime.now(UTC).replace(tzinfo=None))
    time.sleep(1.5)
    first = prepared.cohort.trainees[0]
    again = answer_module(first, prepared.bank, prepared.bank.module(A), 0, random.Random(99), {})
    trainee_submits(exchange, exchange.parent / "home" / first.id, first.id, A, again, "A second try, written again.")
    collect_again(course, exchange)
    run = grading.grade(course, A, jobs=2, progress=False, nbgrader_args=[f"--Exchange.root={exchange}"])
    assert len(run.by_status("graded")) == TRAINEES, run.summary()
    prepared.run, prepared.again = run, again
    return prepared


def collect_again(course, exchange) -> None:
    from nbgrader.apps import NbGraderAPI

    from framelab.instructor.course import course_config

    result = NbGraderAPI(config=course_config(course, exchange)).collect(A)
    assert result["success"], result


def test_the_latest_submission_counts_and_the_table_shows_attempts_and_lateness(term):
    from framelab.scoring import answers as store

    first = term.cohort.trainees[0].id
    assert store.read(term.course / "submitted" / first / A / store.FILENAME) == term.again
    rows = {o.student: o for o in term.run.outcomes}
    assert rows[first].attempts == 2 and rows[first].late.startswith("late ") and rows[first].late.endswith("(-1)")
    assert all(rows[t.id].attempts == 1 and rows[t.id].late == "" for t in term.cohort.trainees[1:])
    head = term.run.summary().splitlines()[0]
    assert "attempts" in head and "late" in head


def test_feedback_is_released_and_fetched_by_every_trainee(term):
    from framelab.instructor import export, feedback, report_page
    from framelab.instructor.demo import hand_grade, return_feedback

    course = term.course
    hand_grade(course, A, term.cohort, 7)
    made = feedback.generate(course, A, jobs=2, progress=False)
    assert made.ok and len(made.by_status("made")) == TRAINEES, made.summary()
    trainees = [t.id for t in term.cohort.trainees]
    for t in trainees:
        secret = course / "submitted" / t / A / "submission_secret.txt"
        assert (course / "feedback" / t / A / "submission_secret.txt").read_text() == secret.read_text()
    late_page = (course / "feedback" / trainees[0] / A / f"{A}.html").read_text(encoding="utf-8")
    assert "after the due date" in late_page and "Late submission penalty (Score: -1.0)" in late_page
    assert "after the due date" not in (course / "feedback" / trainees[1] / A / f"{A}.html").read_text("utf-8")
    exported = export.export_all(course, term.course / "grades-out", [A], formats=("nbgrader",)).files[0]
    lateness = {r["student_id"]: r["late"] for r in csv.DictReader(exported.open(encoding="utf-8"))}
    assert lateness[trainees[0]].startswith("late ") and lateness[trainees[1]] == ""
    report_page.write_report(course, course / "report-out", [A])
    report = (course / "report-out" / "report.html").read_text(encoding="utf-8")
    assert f"Late work, 1 submission(s)</b>: M1 double bind: {trainees[0]} (late " in report
    pages = return_feedback(course, term.exchange, A, trainees)
    assert sorted(p.parents[3].name for p in pages) == trainees  # <home>/<assignment>/feedback/<time>/x.html
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert page.name == f"{A}.html" and "Written response" in text and "Score:" in text


ITEM = "m1-r013"  # a single-label item of the 'backfires' exercise, keyed vague_rule in the bank


def _fix_key(course, item: str, label: str) -> None:
    """Correct an item's key in the course's bank, as an instructor would in modules/."""
    path = course / "modules" / A / "responses.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"id: {item}\n")
    line = text.index("labels:", start)
    path.write_text(text[:line] + f"labels: [{label}]" + text[text.index("\n", line) :], encoding="utf-8")


def _marks(course):
    """Every grade of the assignment: (student, cell) -> (auto_score, manual_score, needs_manual_grade)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        return {
            (sub.student.id, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
            for sub in gb.assignment_submissions(A)
            for nb in sub.notebooks
            for g in nb.grades
        }


def test_a_key_fix_names_the_stale_trainees_and_a_rescore_keeps_every_hand_mark(term, capsys):
    from framelab.cli import main
    from framelab.grading import command as grading
    from framelab.instructor.demo import hand_grade
    from framelab.scoring import answers as store

    course = term.course
    hand_grade(course, A, term.cohort, 7)
    before = _marks(course)
    hand = {k: v for k, v in before.items() if v[1] is not None}
    assert hand, "the reflections were hand-graded"
    _fix_key(course, ITEM, "gentle_dodge")

    run = grading.grade(course, A, jobs=2, progress=False)  # nothing new to grade: everyone is named
    assert len(run.by_status("skipped")) == TRAINEES
    stale = f"scored against an old key for 1 item(s) (backfires__{ITEM})"
    assert all(o.reason.startswith(stale) for o in run.outcomes)
    assert "--rescore" in run.summary()

    audit = ["audit", A, "--course", str(course), "--modules", str(course / "modules")]
    main(audit)  # exits 1 where a trainee's score differs under the new key
    assert capsys.readouterr().out.count(stale) == TRAINEES

    assert main(["grade", A, "--rescore", "--course", str(course)]) == 0
    table = capsys.readouterr().out
    after = _marks(course)
    picks = {t.id: store.read(course / "submitted" / t.id / A / store.FILENAME) for t in term.cohort.trainees}
    for t, p in picks.items():
        chose = p.get("backfires", {}).get(ITEM)
        assert after[(t, f"backfires__{ITEM}")][0] == float(chose == "gentle_dodge")
        moved = (chose == "vague_rule") or (chose == "gentle_dodge")
        assert (f"backfires__{ITEM}" in next(line for line in table.splitlines() if line.startswith(t))) == moved
    assert {k: after[k] for k in hand} == hand  # every hand mark, and its 'needs manual grade', as it was
    assert {k for k, v in after.items() if v != before[k]} <= {(t, f"backfires__{ITEM}") for t in picks}

    rerun = grading.grade(course, A, jobs=2, progress=False)
    assert not any(o.reason for o in rerun.outcomes) and "--rescore" not in rerun.summary()
    assert main(audit) == 0  # the gradebook now agrees with the current key
