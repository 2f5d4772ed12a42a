"""The instructor's real term after ``framelab grade`` (issue 28), on Module 1 with a small cohort:

* feedback goes back through nbgrader's exchange: ``release_feedback`` as the instructor and
  ``fetch_feedback`` as each trainee, after ``framelab grade`` and ``framelab feedback``;
* after a key is corrected, ``framelab grade`` names every trainee scored against the old key, the audit
  says so, and ``framelab grade --rescore`` scores them again from their snapshots, changing only that
  item's automatic scores and never a hand mark.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

A = "m1_double_bind"
TRAINEES = 3


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """Module 1 released through a kept exchange, submitted by three simulated trainees, graded."""
    from framelab.grading import command as grading
    from framelab.instructor.demo import prepare_course

    base = tmp_path_factory.mktemp("term")
    prepared = prepare_course(
        base / "course", root=ROOT, trainees=TRAINEES, assignments=[A], say=lambda *_: None, exchange=base / "exchange"
    )
    run = grading.grade(prepared.course, A, jobs=2, progress=False)
    assert len(run.by_status("graded")) == TRAINEES, run.summary()
    return prepared


def test_feedback_is_released_and_fetched_by_every_trainee(term):
    from framelab.instructor import feedback
    from framelab.instructor.demo import hand_grade, return_feedback

    course = term.course
    hand_grade(course, A, term.cohort, 7)
    made = feedback.generate(course, A, jobs=2, progress=False)
    assert made.ok and len(made.by_status("made")) == TRAINEES, made.summary()
    trainees = [t.id for t in term.cohort.trainees]
    for t in trainees:
        secret = course / "submitted" / t / A / "submission_secret.txt"
        assert (course / "feedback" / t / A / "submission_secret.txt").read_text() == secret.read_text()
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
