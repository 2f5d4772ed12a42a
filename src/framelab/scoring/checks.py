"""Checks that the notebooks' test cells call.

``check_answer`` is the public check a trainee sees at once: it says what is missing or
malformed and how to fix it, and never reveals whether an answer is right.
``grade_answer`` is what the hidden tests call at grading time. Neither trusts the answer
object: only a plain ``dict`` of plain ``str`` (or plain lists of plain ``str``) counts.
"""

from __future__ import annotations

import difflib
from typing import Any

from framelab.core.vocabulary import NONE_OF_THE_MOVES, OPTION_SETS, nearest_label


class AnswerProblem(AssertionError):
    """A friendly failure: the message is written for the trainee."""


_PLACES: dict[str, int] = {}


def name_items(item_ids: list[str]) -> None:
    """Remember each item's place in its exercise, so that check lines say "Item 3", as the menus
    do, and never the bank's id. The exercise cell calls this when it shows its menus."""
    _PLACES.update({iid: n for n, iid in enumerate(item_ids, start=1)})


def item_name(item: str) -> str:
    """How a line names an item: by its place in the exercise where known, else by its id
    (scripts and tools that check an answers file outside a notebook)."""
    place = _PLACES.get(item)
    return f"Item {place}" if place else f"Item {item}"


def _value(answers: Any, item: str) -> Any:
    if type(answers) is not dict:
        raise AnswerProblem(
            "Your answers were not read from the menus (they should be a plain set of picks). "
            "Re-run the exercise cell above and choose from its menus."
        )
    return answers.get(item)


def _label_problem(value: Any, item: str, kind: str = "single_label") -> str | None:
    options = OPTION_SETS[kind][0]
    if type(value) is not str:
        return f"{item_name(item)}: the answer is not one of the choices. Choose it again from the menu."
    if value not in options:
        if kind == "single_label":
            guess = nearest_label(value)
            where = "the eight labels"
        else:
            close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.5)
            guess = close[0] if close else None
            where = "the choices"
        hint = f" Did you mean '{guess}'?" if guess else ""
        return f"{item_name(item)}: '{value}' is not one of {where}.{hint} Choose it from the menu."
    return None


def _values(value: Any, item: str, kind: str) -> list[str]:
    """The answer as a list of checked values, or a friendly failure."""
    multi = OPTION_SETS[kind][1]
    if multi and type(value) is not list:
        raise AnswerProblem(f"{item_name(item)}: tick the boxes that apply (the answer should be a set of choices).")
    if not multi and type(value) is not str:
        raise AnswerProblem(f"{item_name(item)}: the answer is not one of the choices. Choose it again from the menu.")
    values = value if multi else [value]
    for v in values:
        problem = _label_problem(v, item, kind)
        if problem:
            raise AnswerProblem(problem)
    if multi and NONE_OF_THE_MOVES in values and len(values) > 1:
        raise AnswerProblem(f"{item_name(item)}: 'none' cannot be ticked together with a move. Untick one of them.")
    if multi and len(set(values)) != len(values):
        raise AnswerProblem(f"{item_name(item)}: a choice is ticked twice. Choose again.")
    return values


def _blank(value: Any) -> bool:
    """No answer yet. Types are checked first, so no object gets to answer for itself."""
    return value is None or (type(value) in (str, list) and len(value) == 0)


def status_line(answers: Any, item: str, kind: str = "single_label") -> str:
    """The one line a check cell shows for an item; raises :class:`AnswerProblem` for a malformed answer."""
    value = _value(answers, item)
    if _blank(value):
        return f"{item_name(item)}: not answered yet. Choose in the menu above."
    _values(value, item, kind)
    return f"{item_name(item)}: answered."


def display_id(item: str, kind: str = "single_label") -> str:
    """The id under which an item's check line is shown, so that a later choice replaces it."""
    return f"framelab-check-{kind}-{item}"


def check_answer(answers: Any, item: str, kind: str = "single_label") -> None:
    """Public check of one item's format: shows one status line (returns nothing, so the notebook
    does not echo it). In a notebook the line is kept up to date as the menus change."""
    line = status_line(answers, item, kind)
    shown = False
    try:
        from IPython import get_ipython

        if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
            from IPython.display import display

            display({"text/plain": line}, raw=True, display_id=display_id(item, kind))
            shown = True
    except ImportError:  # pragma: no cover - IPython comes with the notebook
        pass
    if not shown:
        print(line)


def _show(values: list[str]) -> str:
    return ", ".join(values)


def grade_answer(answers: Any, item: str, gold: str | list[str], kind: str = "single_label") -> None:
    """Hidden test for one item: passes only for exactly the right answer.

    ``gold`` is one value (a menu) or a list (tick boxes, where the whole set must match,
    so ticking everything earns nothing unless everything is right).
    """
    value = _value(answers, item)
    if _blank(value):
        raise AnswerProblem(f"{item_name(item)}: no answer was chosen.")
    values = _values(value, item, kind)
    expected = list(gold) if type(gold) is list else [gold]
    if sorted(values) != sorted(expected):
        chose, key = _show(values), _show(expected)
        raise AnswerProblem(f"{item_name(item)}: you chose '{chose}'; the expected answer is '{key}'.")
