"""Coming back to a module: a saved notebook keeps a plain "run this cell" note where each widget was.

An interactive view lives in the kernel; the notebook file holds only a reference to it (the output
type ``application/vnd.jupyter.widget-view+json`` with a model id). Frame Lab does not save widget
state (JupyterLab's "Save Widget State Automatically" stays off), so once the kernel has gone, a
reopened notebook would show "Error displaying widget: model not found" in every interactive cell.

``pre_save`` is the trainee JupyterLab's save hook (``ContentsManager.pre_save_hook`` in
``data/trainee-jupyter``): as a notebook is written to disk, each widget output is replaced by a note
saying to run the cell. The page being worked on keeps its live widgets (the browser's copy is not
touched); only the file changes, and nothing the trainee wrote is in a widget output.
"""

from __future__ import annotations

import contextlib
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: What a reopened notebook shows where a view was, until its cell runs again.
RESUME_NOTE = "To carry on here, run this cell: click in it and press Shift + Enter (or Run > Run All Cells)."
RESUME_HTML = (
    "<p class='framelab-resume' style='margin:0.2em 0;padding:0.4em 0.7em;border-left:4px solid "
    "var(--jp-brand-color1);background:var(--jp-layout-color2);color:var(--jp-ui-font-color1)'>"
    "<b>Resume.</b> To carry on here, run this cell: click in it and press <kbd>Shift + Enter</kbd> "
    "(or <b>Run &gt; Run All Cells</b>). Your saved choices and replies come back with it.</p>"
)


def _is_widget(output: Any) -> bool:
    return type(output) is not str and hasattr(output, "get") and WIDGET_VIEW in (output.get("data") or {})


def resume_notes(nb: Any) -> int:
    """Replace each widget output in a notebook (a dict, as nbformat reads it) with one resume note per
    cell; returns how many cells changed. Everything else in the notebook is left as it was."""
    changed = 0
    cells = nb.get("cells", []) if hasattr(nb, "get") else []
    for cell in cells if isinstance(cells, list) else []:
        if not hasattr(cell, "get") or cell.get("cell_type") != "code":
            continue
        outputs = cell.get("outputs")
        if not isinstance(outputs, list) or not any(_is_widget(o) for o in outputs):
            continue
        kept = [o for o in outputs if not _is_widget(o)]
        kept.append(
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"text/html": RESUME_HTML, "text/plain": RESUME_NOTE},
            }
        )
        cell["outputs"] = kept
        changed += 1
    if changed and hasattr(nb.get("metadata"), "pop"):
        nb["metadata"].pop("widgets", None)  # saved widget state, had anything saved it
    return changed


def pre_save(model: dict[str, Any], **_: Any) -> None:
    """jupyter_server's ``pre_save_hook``: ``model`` is what is about to be written."""
    if model.get("type") == "notebook" and model.get("content") is not None:
        with contextlib.suppress(Exception):  # never stop a save: the notebook is written as it came
            resume_notes(model["content"])
