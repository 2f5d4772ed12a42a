"""How a chosen answer is named, wherever it is shown: the one place that turns the values an exercise
saves (``"validate"``, ``["state_boundary", "recenter"]``, ``"crossing"``) into words for people.

The self-check (``framelab check``), progress, the feedback a trainee receives, formgrader's table, the
cohort report and the export all call :func:`show` (a whole answer) or :func:`name` (one value), with the
exercise's kind and rubric, so a reply to a rupture is named in the repair rubric's words (``Own your
part``) everywhere a trainee or instructor meets it, exactly as its menu named it.
"""

from __future__ import annotations

from typing import Any

from framelab.core import rubrics
from framelab.core.vocabulary import OPTION_SETS

BLANK = "(no answer)"
NOT_A_CHOICE = "(not a choice)"


def _menu(kind: str | None, rubric: str | None) -> dict[str, str]:
    """The menu (value -> "Name: meaning") the value is read from: the exercise kind's, or, with no kind,
    every kind's (a value names the same thing in every menu it appears in)."""
    if kind is not None:
        return rubrics.options(kind, rubric)[0]
    out: dict[str, str] = {}
    for k in OPTION_SETS:
        out.update(rubrics.options(k, rubric)[0])
    return out


def name(value: str, kind: str | None = None, rubric: str | None = None, *, meaning: bool = False) -> str:
    """One value's name as its menu shows it (``meaning=True``: with the meaning, "Name: meaning"); a value
    that is no choice of the menu as itself, readably."""
    text = _menu(kind, rubric).get(value)
    if text is None:
        return value.replace("_", " ")
    return text if meaning else text.split(":")[0]


def meaning(value: str, kind: str | None = None, rubric: str | None = None) -> str:
    """What a value means, in the curriculum's words ("" when its menu does not say)."""
    text = _menu(kind, rubric).get(value, "")
    return text.split(":", 1)[1].strip() if ":" in text else ""


def show(answer: Any, kind: str, rubric: str | None = None, *, meaning: bool = False, limit: int = 80) -> str:
    """A whole answer (one value, or a set of ticks) in words: the names joined by commas, ``(no answer)``
    when blank; anything that is not a choice of this exercise's menu is said to be so, cut to ``limit``."""
    if answer in (None, "", []):
        return BLANK
    menu = _menu(kind, rubric)
    names = []
    for value in answer if isinstance(answer, list) else [answer]:
        if isinstance(value, str) and value in menu:
            names.append(menu[value] if meaning else menu[value].split(":")[0])
        elif isinstance(value, str):
            names.append(f"'{value[:limit]}' {NOT_A_CHOICE}")
        else:
            names.append(NOT_A_CHOICE)
    return ", ".join(names)
