"""The course home: ``home.ipynb`` at the top of the workspace, the page ``make lab`` opens.

It says where to start, lists the modules with links, and shows the learner's progress and the next
step (:mod:`framelab.learner.progress`) as a saved output, so it reads at once without running
anything; running its one cell brings the table up to date. ``make lab`` (``framelab workspace``)
writes it afresh each time, unless the learner has changed its cells, in which case it is kept as
theirs, like any other file of the workspace.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from framelab.core import safejson
from framelab.core.files import write_text_atomically
from framelab.learner.progress import ModuleProgress, next_step, next_step_text, progress

FILENAME = "home.ipynb"
CODE = (
    "# Run this cell (Shift + Enter) to bring your progress up to date.\nfrom framelab.views.home import home\n\nhome()"
)


def _intro(rows: list[ModuleProgress]) -> str:
    links = "\n".join(
        f"{n}. [Module {r.folder[1:].split('_')[0]}: {r.title}]({r.folder}/{r.folder}.ipynb)"
        + (f" (about {r.minutes} minutes)" if r.minutes else "")
        for n, r in enumerate(rows, 1)
    )
    return (
        "# Frame Lab: course home\n\n"
        "Welcome. This course trains one clinical skill: holding a professional boundary kindly when a "
        "client asks for more than the work can give. Work through the modules in order, at your own "
        "pace; everything you choose and write is saved as you go, and nothing you have done is ever "
        "overwritten.\n\n"
        "**New here? Start with [Module 0: Orientation](m0_orientation/m0_orientation.ipynb).** It shows "
        "how a notebook works in about 25 minutes.\n\n"
        f"## The modules\n\n{links}\n\n"
        "Click a module to open it. Your progress, and where to carry on, is below."
    )


def home_html(rows: list[ModuleProgress], now: float | None = None) -> str:
    """The progress table and the next step, with a link to the module to open."""
    from framelab.views.progress import progress_table

    if not rows:
        return "<p>No modules in this workspace yet: run <code>make lab</code> in your clone of the course.</p>"
    step = next_step(rows)
    link = (
        f"<p><a href='{html.escape(step.folder)}/{html.escape(step.folder)}.ipynb'>"
        f"Open Module {html.escape(step.folder[1:].split('_')[0])}: {html.escape(step.title)}</a></p>"
        if step is not None
        else ""
    )
    when = time.strftime("%d %B %Y, %H:%M", time.localtime(now))
    return (
        f"<p><b>{html.escape(next_step_text(rows))}</b></p>{link}"
        + progress_table(rows)
        + f"<p class='framelab-small'>As of {when}.</p>"
    )


def home() -> None:
    """Show the learner's progress and next step (the course home's one cell)."""
    from IPython.display import HTML, display

    display(HTML(home_html(progress(Path.cwd(), scores=False))))


def _text(source: Any) -> str:
    return "".join(x for x in source if type(x) is str) if type(source) is list else str(source)


def _digest(cells: list[Any]) -> str:
    import hashlib

    return hashlib.sha256("\0".join(_text(c.get("source", "")) for c in cells).encode()).hexdigest()


def home_notebook(workspace: Path, now: float | None = None) -> dict[str, Any]:
    rows = progress(workspace, scores=False)
    output = {"output_type": "display_data", "metadata": {}, "data": {"text/html": home_html(rows, now)}}
    output["data"]["text/plain"] = next_step_text(rows) or "No modules yet."
    cells = [
        {"cell_type": "markdown", "id": "home-intro", "metadata": {}, "source": _intro(rows)},
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "home-progress",
            "metadata": {},
            "outputs": [output],
            "source": CODE,
        },
    ]
    return {
        "cells": cells,
        "metadata": {
            "framelab": {"home": _digest(cells)},  # what was written, to tell whether the learner changed it
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _ours(path: Path) -> bool:
    """The home page as written here: the learner has not changed its cells."""
    try:
        nb = safejson.load(path, max_bytes=2_000_000)
        return nb["metadata"]["framelab"]["home"] == _digest(nb["cells"])
    except (safejson.UnsafeJSON, OSError, KeyError, TypeError, AttributeError):
        return False


def write_home(workspace: Path, now: float | None = None) -> str:
    """Write (or bring up to date) the course home; a home page the learner changed is kept. One line to print."""
    path = workspace / FILENAME
    if path.exists() and not _ours(path):
        return f"kept {FILENAME} as you changed it (delete it to get the course home back)"
    try:
        write_text_atomically(path, json.dumps(home_notebook(workspace, now), indent=1) + "\n")
    except OSError as exc:
        return f"could not write the course home {FILENAME} ({exc})"
    return f"course home: {FILENAME}"
