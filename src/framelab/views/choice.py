"""One choice among a few, as a radio group that works from the keyboard.

ipywidgets' ``RadioButtons`` draws radio inputs that share no name, in a box with no role: each is its
own tab stop, the arrow keys do not move between them (in JupyterLab they move between cells), and
the group has no name for assistive technology. :class:`ChoiceGroup` draws native radio inputs that
share one name inside ``role="radiogroup"`` named by its caption (``static/choice.js``), so the browser
gives the whole WAI-ARIA radio group pattern: Tab reaches the group once, the arrow keys move and
choose, Space chooses, Tab leaves, and each option says whether it is checked.

From Python it reads like ``RadioButtons``: ``options`` as (text, value) pairs, and ``value`` (None
until something is chosen).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
from traitlets import Bool, Int, List, Unicode

_STATIC = Path(__file__).parent / "static"


class ChoiceGroup(anywidget.AnyWidget):
    """A radio group: ``label`` names it (shown, and read out), ``labels`` are the options' texts,
    ``index`` the chosen one (-1: none yet)."""

    _esm = _STATIC / "choice.js"
    _css = _STATIC / "choice.css"
    label = Unicode("").tag(sync=True)
    labels = List(Unicode()).tag(sync=True)
    index = Int(-1).tag(sync=True)
    horizontal = Bool(False).tag(sync=True)
    disabled = Bool(False).tag(sync=True)

    def __init__(self, options: Sequence[tuple[str, Any]], label: str, *, horizontal: bool = False, **kwargs: Any):
        self.values = [value for _, value in options]
        super().__init__(label=label, labels=[text for text, _ in options], horizontal=horizontal, **kwargs)

    @property
    def options(self) -> list[tuple[str, Any]]:
        return list(zip(self.labels, self.values, strict=True))

    @property
    def value(self) -> Any:
        """The chosen option's value, or None (also for an index the page should never send)."""
        return self.values[self.index] if 0 <= self.index < len(self.values) else None

    @value.setter
    def value(self, value: Any) -> None:
        if value is None:
            self.index = -1
        elif value in self.values:
            self.index = self.values.index(value)
        else:
            raise ValueError(f"{value!r} is not one of this question's options")
