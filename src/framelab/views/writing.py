"""Self-study views at the end of a module: feedback on written work (:mod:`framelab.learner.written`),
the completion record (:mod:`framelab.learner.record`) and the saved choices read back in words."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.learner import activity
from framelab.views.parts import STYLE, busy, heading, note, quote


class WrittenFeedbackView:
    """A button: feedback on what the learner wrote in this notebook's answer cells, as saved."""

    def __init__(self, notebook: Path, detector: Any = None):
        self.notebook = Path(notebook)
        self.detector = detector
        self.button = w.Button(
            description="Feedback on my writing",
            tooltip="Self-study: what your written answers do, the points to tick off, and a model answer",
            layout=w.Layout(width="auto", align_self="flex-start"),
        )
        self.result = w.HTML(STYLE)
        self.button.on_click(lambda _: self.on_feedback())
        self.widget = w.VBox([self.button, self.result], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-written")

    def on_feedback(self) -> list[Any] | None:
        from framelab.learner.selfcheck import SelfCheckError
        from framelab.learner.written import written_feedback

        activity.touch(self.notebook.parent)
        with busy(self.button, "Reading what you wrote...", self.result):
            try:
                found = written_feedback(self.notebook, self.detector)
            except SelfCheckError as exc:
                message = str(exc)
                self.result.value = note([message[:1].upper() + message[1:]], announce=True)
                return None
        self.result.value = STYLE + "<div role='alert'>" + "".join(_one(f) for f in found) + "</div>"
        return found


def _one(f: Any) -> str:
    """One written answer's feedback: the reading, the points to tick, the model answer."""
    out = heading(f.title or "Your answer")
    if not f.written:
        return out + note(["Nothing written here yet (or not saved: press Ctrl + S, then the button again)."])
    out += quote("You wrote", f.text, you=True)
    if f.moves:
        lines = [
            f"{m.name}: {'heard' if m.found else 'not heard'}"
            + (f" (“{'”, “'.join(m.cues)}”)" if m.found and m.cues else "")
            for m in f.moves
        ]
        lines += [f"Also reads as {m.name}" + (f" (“{'”, “'.join(m.cues)}”)" if m.cues else "") for m in f.also]
        out += "<p><b>What the detector reads, move by move</b> (a machine's reading, not a mark):</p>"
        out += note(lines, live=False)
    if f.note:
        out += note([f.note], live=False)
    if f.scheme:
        ticks = "".join(f"<li>{html.escape(p)}</li>" for p in f.scheme)
        out += f"<p><b>The mark scheme: tick off each point your answer meets</b></p><ul>{ticks}</ul>"
    if f.model:
        out += "<p><b>A model answer to compare</b> (one good way, not the only one):</p>" + quote("Model", f.model)
    return out


class RecordView:
    """Self-study: a button that writes the dated completion record (``framelab record``)."""

    def __init__(self, workspace: Path):
        self.workspace = Path(workspace)
        self.button = w.Button(
            description="Write my completion record",
            tooltip="A dated, printable page of your course work, for a CPD log",
            layout=w.Layout(width="auto", align_self="flex-start"),
        )
        self.result = w.HTML(STYLE)
        self.path: Path | None = None
        self.button.on_click(lambda _: self.on_record())
        self.widget = w.VBox([self.button, self.result], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-record")

    def on_record(self) -> Path | None:
        from framelab.learner.record import write_record

        with busy(self.button, "Writing your record...", self.result):
            try:
                self.path = write_record(self.workspace)
            except OSError as exc:
                self.result.value = note([f"The record could not be written ({exc})."], announce=True)
                return None
        name = html.escape(self.path.name)
        self.result.value = (
            f"{STYLE}<div role='alert' class='framelab-note framelab-ok'>Your record is written: <b>{name}</b>, "
            "at the top of your workspace (the file browser on the left). Open it in your web browser "
            "(right-click it, then Download), and print it or save it as PDF for your CPD log.</div>"
        )
        return self.path


def saved_choices(answers: dict[str, Any], content: dict[str, Any]) -> str:
    """The saved choices in words, per exercise: "Nothing saved yet." when there are none."""
    from framelab.scoring.display import show

    lines = []
    for ex_id, ex in content.get("exercises", {}).items():
        picks = answers.get(ex_id, {})
        for n, item in enumerate(ex.get("items", []), 1):
            if picks.get(item["id"]) not in (None, "", []):
                lines.append(f"{ex['title']}, item {n}: {show(picks[item['id']], ex.get('kind', 'single_label'))}")
    return "\n".join(lines) if lines else "Nothing saved yet: choose an answer in the menus above, then run this again."
