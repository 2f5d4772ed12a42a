"""The instructor's real term after ``framelab grade`` (issue 28), on Module 1 with a small cohort:

* feedback goes back through nbgrader's exchange: ``release_feedback`` as the instructor and
  ``fetch_feedback`` as each trainee, after ``framelab grade`` and ``framelab feedback``.
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
