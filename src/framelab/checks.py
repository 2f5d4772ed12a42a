"""Checks that the notebooks' test cells call.

``check_answer`` is the public check a trainee sees at once: it says what is missing or
malformed and how to fix it, and never reveals whether an answer is right.
``grade_answer`` is what the hidden tests call at grading time. Neither trusts the answer
object: only a plain ``dict`` of plain ``str`` (or plain lists of plain ``str``) counts.
"""

from __future__ import annotations

from typing import Any

from .vocabulary import LABELS, nearest_label


class AnswerProblem(AssertionError):
    """A friendly failure: the message is written for the trainee."""


def _value(answers: Any, item: str) -> Any:
    if type(answers) is not dict:
        raise AnswerProblem(
            "Your answers were not read from the menus (they should be a plain set of picks). "
            "Re-run the exercise cell above and choose from its menus."
        )
    return answers.get(item)


def _label_problem(value: Any, item: str) -> str | None:
    if type(value) is not str:
        return f"Item {item}: the answer is not one of the labels. Choose it again from the menu."
    if value not in LABELS:
        guess = nearest_label(value)
        hint = f" Did you mean '{guess}'?" if guess else ""
        return f"Item {item}: '{value}' is not one of the eight labels.{hint} Choose it from the menu."
    return None


def _blank(value: Any) -> bool:
    """No answer yet. Types are checked first, so no object gets to answer for itself."""
    return value is None or (type(value) in (str, list) and len(value) == 0)


def check_answer(answers: Any, item: str) -> str:
    """Public check of one item's format. Returns a short status line and prints it."""
    value = _value(answers, item)
    if _blank(value):
        status = f"Item {item}: not answered yet. Pick a label in the menu above."
        print(status)
        return status
    values = value if type(value) is list else [value]
    for v in values:
        problem = _label_problem(v, item)
        if problem:
            raise AnswerProblem(problem)
    status = f"Item {item}: answered."
    print(status)
    return status


def grade_answer(answers: Any, item: str, gold: str | list[str]) -> None:
    """Hidden test for one single-label item: passes only for the exact gold label."""
    value = _value(answers, item)
    if _blank(value):
        raise AnswerProblem(f"Item {item}: no answer was chosen.")
    problem = _label_problem(value, item)
    if problem:
        raise AnswerProblem(problem)
    if type(gold) is not str or value != gold:
        raise AnswerProblem(f"Item {item}: you chose '{value}'; the expected label is '{gold}'.")
