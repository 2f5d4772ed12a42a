"""Stable path: every released and submitted notebook's test cells run ``from framelab.checks import
check_answer, grade_answer``, so this name must never move. The code lives in :mod:`framelab.scoring.checks`."""

from framelab.scoring.checks import AnswerProblem, check_answer, grade_answer, status_line

__all__ = ["AnswerProblem", "check_answer", "grade_answer", "status_line"]
