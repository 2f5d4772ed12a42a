"""HTML pieces shared by every view (plain strings, no widgets): the one style sheet, headings, the
cards that quote the client, a reply or a vignette, and feedback notes.

:mod:`framelab.views.widgets` and :mod:`framelab.views.roleplay_html` both build from these, so a quote or a note
looks, and is announced, the same everywhere.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import ipywidgets as w

from framelab.core.vocabulary import readable

#: One style sheet for every view, in JupyterLab's own type scale and theme colours (light and dark).
#: Each view carries it in its first HTML widget; views are marked ``framelab-view``.
STYLE = """<style>
.framelab-view, .framelab-roleplay { font-family: var(--jp-content-font-family); }
:is(.framelab-view, .framelab-roleplay) :is(.widget-html-content, .widget-label, .widget-checkbox label,
  select, textarea, button) {
  font-size: var(--jp-content-font-size1); line-height: var(--jp-content-line-height); }
:is(.framelab-view, .framelab-roleplay) .widget-html-content { color: var(--jp-content-font-color1); }
:is(.framelab-view, .framelab-roleplay) .widget-html, :is(.framelab-view, .framelab-roleplay) .widget-html-content {
  height: auto; }
:is(.framelab-view, .framelab-roleplay) .widget-checkbox { height: auto; min-height: var(--jp-widgets-inline-height); }
:is(.framelab-view, .framelab-roleplay) .widget-checkbox label { white-space: normal; overflow: visible;
  height: auto; }
.framelab-table td.framelab-nowrap { white-space: nowrap; }
.framelab-heading { font-size: var(--jp-content-font-size2); font-weight: 600; margin: 1em 0 0.25em;
  color: var(--jp-content-font-color1); line-height: 1.3; }
.framelab-card { border-left: 4px solid var(--jp-brand-color1); padding: 6px 12px; margin: 4px 0;
  color: var(--jp-content-font-color1); background: var(--jp-layout-color1); }
.framelab-card.framelab-you { border-left-color: var(--jp-border-color1); margin-left: 2em;
  background: var(--jp-layout-color2); }
.framelab-note { border-left: 4px solid var(--jp-border-color1); padding: 6px 12px; margin: 4px 0;
  color: var(--jp-content-font-color1); }
.framelab-note.framelab-ok { border-left-color: var(--jp-success-color1); }
.framelab-note.framelab-not-yet { border-left-color: var(--jp-warn-color1); }
.framelab-context { color: var(--jp-content-font-color1); margin: 0 0 0.5em; }
.framelab-meta { color: var(--jp-content-font-color1); font-size: var(--jp-content-font-size1); }
.framelab-table-wrap { overflow-x: auto; max-width: 100%; }
.framelab-table { border-collapse: collapse; color: var(--jp-content-font-color1); }
.framelab-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
.framelab-table th, .framelab-table td { padding: 4px 10px; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--jp-border-color2); }
.framelab-table th { white-space: nowrap; font-weight: 600; }
.framelab-small { font-size: var(--jp-content-font-size0); color: var(--jp-content-font-color1); }
:is(.framelab-view, .framelab-roleplay) :focus-visible { outline: 2px solid var(--jp-brand-color1);
  outline-offset: 2px; }
</style>"""


def heading(text: str) -> str:
    """A view's title: one level below the notebook's section headings (## in the notebooks)."""
    return f"<h3 class='framelab-heading'>{html.escape(text)}</h3>"


def quote(who: str, text: str, *, you: bool = False) -> str:
    """A card with who speaks and what they say. ``you``: the trainee's own words, set in from the
    left and left exactly as written (course text has its label codes written as names)."""
    words = html.escape(text if you else readable(text))
    kind = "framelab-card framelab-you" if you else "framelab-card"
    return f"<div class='{kind}'><b>{html.escape(who)}:</b> {words}</div>"


def note(lines: Sequence[str], ok: bool | None = None, *, announce: bool = False, live: bool = True) -> str:
    """Feedback lines, edged in green (``ok``), amber (not yet) or grey.

    ``announce``: the answer to something the learner just did (Check, Say it, Respond), marked so that
    a screen reader reads it out when it appears (role "alert"; a region put on the page with its text
    already in it is not reliably read as a "status"). Otherwise a polite status region, or, with
    ``live=False``, plain text (a part of a longer page, such as the debrief)."""
    kind = {True: " framelab-ok", False: " framelab-not-yet", None: ""}[ok]
    body = "<br>".join(html.escape(readable(x)) for x in lines)
    role = "role='alert' " if announce else "role='status' aria-live='polite' " if live else ""
    return f"<div {role}class='framelab-note{kind}'>{body}</div>"


@contextlib.contextmanager
def busy(button: w.Button, doing: str, status: w.HTML | None = None) -> Iterator[None]:
    """Show at once that an action is under way: the button is disabled and says what it is doing
    (and ``status``, a live region, says so too); both are put back afterwards, whatever happens."""
    label, icon, was = button.description, button.icon, button.disabled
    button.disabled, button.description, button.icon = True, doing, "hourglass-half"
    if status is not None:
        status.value = note([doing], announce=True)
    try:
        yield
    finally:
        button.disabled, button.description, button.icon = was, label, icon


def in_background(work: Callable[[], Any]) -> threading.Thread:
    """Run ``work`` off the kernel's main thread (widget updates from it reach the page)."""
    thread = threading.Thread(target=work, name="framelab-view", daemon=True)
    thread.start()
    return thread
