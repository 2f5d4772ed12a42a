"""What an instructor sees in formgrader, added at autograde time.

nbgrader's formgrader shows the autograded notebook: each classification test cell as its
grade id, the hidden test's code and a traceback, and the answer cell as the code stub with
"No response." (the trainee chose in the menus, so the cell's code never changed). The
response, the client's line and the trainee's choice are nowhere on the page.

:class:`FormgraderView` (the last of ``Autograde.autograde_preprocessors``, after the scores are
saved, so it changes no grade) adds to the autograded notebook:

* under the answer cell, a table of every item: the client's line, the response, the
  trainee's choice, the key and whether they match;
* under each test cell, the same for that one item;

both as outputs marked ``{"framelab": "instructor"}``. They carry the key, so
:class:`framelab.grading.preprocessors.TeachingFeedback` drops every such output before feedback is
made, and the trainee never gets them. It also replaces the text a view object prints when a
cell ends with it (``<framelab.views.widgets.ReplyPicker at 0x7f...>``) by a plain note.

The trainee's choices are read as data from the submitted folder (never by running anything),
the same way the score of record is made.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from nbgrader.preprocessors.base import NbGraderPreprocessor as Preprocessor
from traitlets import Unicode

from framelab.bank.loader import cached_bank
from framelab.scoring.display import show

#: grade id of a classification test cell: ``<exercise>__<item>``
TEST_ID = re.compile(r"^(?P<exercise>[a-z][a-z0-9_]*)__(?P<item>[a-z0-9-]+)$")
#: what IPython prints for an object without a display of its own
OBJECT_REPR = re.compile(r"^<framelab\.[\w.]+(?: object)? at 0x[0-9a-fA-F]+>$")
INSTRUCTOR = {"framelab": "instructor"}
VIEW_NOTE = "(An interactive view: it shows in JupyterLab, not on this page.)"


def is_object_repr(output: Any) -> bool:
    data = output.get("data") or {}
    text = data.get("text/plain")
    text = "".join(text) if isinstance(text, list) else text
    others = set(data) - {"text/plain", "application/vnd.jupyter.widget-view+json"}
    return isinstance(text, str) and bool(OBJECT_REPR.match(text.strip())) and not others


def clear_object_reprs(cell: Any) -> bool:
    """Replace ``<framelab.X at 0x...>`` results in a code cell by a plain note. Returns whether any was."""
    if cell.get("cell_type") != "code":
        return False
    outputs = cell.get("outputs", [])
    kept = [o for o in outputs if not (o.get("output_type") == "execute_result" and is_object_repr(o))]
    if len(kept) == len(outputs):
        return False
    cell["outputs"] = [*kept, _stream(VIEW_NOTE)]
    return True


def _stream(text: str) -> Any:
    from nbformat.v4 import new_output

    return new_output("stream", name="stdout", text=text + "\n")


def drop_instructor_outputs(cell: Any) -> None:
    """Remove what :class:`FormgraderView` added (it carries the key)."""
    if cell.get("cell_type") == "code":
        cell["outputs"] = [o for o in cell.get("outputs", []) if (o.get("metadata") or {}).get("framelab") is None]


def _row(n: int, item: Any, kind: str, rubric: str, picked: Any, right: Any) -> str:
    ok = picked not in (None, "", []) and _same(picked, right)
    mark = "<span style='color:#1a7f37'>right</span>" if ok else "<span style='color:#b42318'>wrong</span>"
    if picked in (None, "", []):
        mark = "<span style='color:#777'>blank</span>"
    client = getattr(item, "client", None)
    client_html = f"<i>{html.escape(client)}</i>" if client else ""
    cells = [
        str(n),
        f"<code style='white-space:nowrap'>{html.escape(item.id)}</code>",
        client_html,
        html.escape(item.text),
        f"<b>{html.escape(show(picked, kind, rubric))}</b>",
        html.escape(show(right, kind, rubric)),
        mark,
    ]
    return "<tr>" + "".join(f"<td style='{CELL_STYLE}'>{c}</td>" for c in cells) + "</tr>"


def _same(picked: Any, right: Any) -> bool:
    if isinstance(right, list):
        return isinstance(picked, list) and sorted(map(str, picked)) == sorted(right)
    return picked == right


#: inline styles only, within the allow-list every view cleans by (:mod:`framelab.core.safehtml`): a
#: ``<style>`` element would be removed, as a trainee's would
TABLE_STYLE = "border-collapse:collapse;font-size:13px;width:100%;table-layout:auto"
CELL_STYLE = "border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left"


def item_table(rows: list[str], caption: str) -> str:
    head = "".join(
        f"<th style='{CELL_STYLE}'>{h}</th>"
        for h in ("#", "item", "client", "response", "trainee's choice", "key", "result")
    )
    return (
        "<div class='framelab-formgrade'>"
        f"<p><b>{html.escape(caption)}</b> (instructors only: this table holds the key and never reaches "
        f"feedback)</p><table style='{TABLE_STYLE}'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _display(html_text: str, plain: str) -> Any:
    """An instructors-only output, in the form the cleaner leaves it (so every view shows it unchanged)."""
    from nbformat.v4 import new_output

    from framelab.core.safehtml import clean_html

    data = {"text/html": clean_html(html_text), "text/plain": plain}
    return new_output("display_data", data=data, metadata=dict(INSTRUCTOR))


def _submitted_folder(pre: Any, resources: dict[str, Any]) -> Path | None:
    """The trainee's submitted folder, from the converter's course directory (when there is one)."""
    info = resources.get("nbgrader", {})
    node = pre
    while node is not None:
        coursedir = getattr(node, "coursedir", None)
        if coursedir is not None:
            return Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
        node = getattr(node, "parent", None)
    path = (resources.get("metadata") or {}).get("path")
    return Path(path) if path else None


class FormgraderView(Preprocessor):
    """Add a readable view of each classification answer to the autograded notebook (see the module)."""

    modules = Unicode("modules", help="the content bank, relative to the course root").tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from framelab.bank.loader import gold
        from framelab.bank.variants import course_setting, place_index, places
        from framelab.scoring.record import submission_picks

        for cell in nb.cells:
            if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                clear_object_reprs(cell)
        info = resources.get("nbgrader", {})
        modules = Path(self.modules).resolve()
        if not modules.is_dir():
            return nb, resources
        bank = cached_bank(modules)
        try:
            module = bank.module(info.get("assignment", ""))
        except KeyError:
            return nb, resources
        folder = _submitted_folder(self, resources)
        picks, notes = submission_picks(folder, module) if folder is not None else ({}, ["no submission folder"])
        items = bank.items()
        exercises = {ex.id: ex for ex in module.meta.exercises}
        setting = course_setting(modules.parent)  # with variants on, this trainee's items from their id
        asked = places(module, bank, str(info.get("student", "")), setting)
        where = place_index(module, bank, str(info.get("student", "")), setting)
        for cell in nb.cells:
            gid = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
            if cell.get("cell_type") != "code":
                continue
            if gid in exercises:
                ex, ids = exercises[gid], [iid for _, iid in asked[gid]]
                rows = [
                    _row(n, items[i], ex.kind, ex.rubric, picks.get(ex.id, {}).get(i), gold(items[i], ex.kind))
                    for n, i in enumerate(ids, 1)
                ]
                caption = f"{ex.title}: what this trainee chose in the menus ({len(ids)} items)"
                plain = "\n".join(
                    f"{n}. {i}: chose {show(picks.get(ex.id, {}).get(i), ex.kind, ex.rubric)}; key "
                    f"{show(gold(items[i], ex.kind), ex.kind, ex.rubric)}"
                    for n, i in enumerate(ids, 1)
                )
                if notes:
                    caption += ". Note: " + "; ".join(notes)
                cell.outputs.append(_display(item_table(rows, caption), plain))
            elif TEST_ID.match(gid) and gid in where:
                ex, n, iid = where[gid]
                picked, right = picks.get(ex.id, {}).get(iid), gold(items[iid], ex.kind)
                plain = f"Item {n}: chose {show(picked, ex.kind, ex.rubric)}; key {show(right, ex.kind, ex.rubric)}"
                table = item_table(
                    [_row(n, items[iid], ex.kind, ex.rubric, picked, right)], f"Item {n} of {len(ex.items)}"
                )
                cell.outputs.append(_display(table, plain))
        return nb, resources
