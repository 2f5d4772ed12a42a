"""The self-study views: checking one's own graded answers (:mod:`framelab.learner.selfcheck`) and
progress through the course (:mod:`framelab.learner.progress`)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.core.vocabulary import readable
from framelab.learner import activity
from framelab.views.parts import STYLE, busy, in_background, note


class SelfCheckView:
    """Self-study: a button that scores this notebook's graded answers (``framelab check``).

    Where some items are not answered yet, it asks first (:meth:`CheckReport.question`): check only the
    answered ones, or show every answer. The course's bank is loaded in the background when the view
    is made, so that pressing the button scores the saved choices in this process at once."""

    def __init__(self, notebook: Any, warm: bool = False):
        self.notebook = notebook
        self.button = w.Button(
            description="Check my graded answers",
            tooltip="Self-study: score your graded answers, with the reasons",
            layout=w.Layout(width="auto", align_self="flex-start"),
        )
        self.result = w.HTML(STYLE)
        self.answered_only = w.Button(
            description="Check my answered items", button_style="primary", layout=w.Layout(width="auto")
        )
        self.show_all = w.Button(
            description="Show every answer",
            tooltip="Includes the items you have not answered",
            layout=w.Layout(width="auto"),
        )
        self.choice = w.HBox([self.answered_only, self.show_all], layout=w.Layout(display="none"))
        self.report: Any = None
        self.button.on_click(lambda _: self.on_check())
        self.answered_only.on_click(lambda _: self.reveal(False))
        self.show_all.on_click(lambda _: self.reveal(True))
        self.widget = w.VBox([self.button, self.result, self.choice], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-selfcheck")
        if warm:
            from framelab.learner.selfcheck import warm as warm_bank

            warm_bank(Path(notebook).parent)

    def on_check(self) -> Any:
        """Score the saved answers; show them, or first ask whether to show unanswered items' answers."""
        from framelab.learner.selfcheck import SelfCheckError, check_notebook

        activity.touch(Path(self.notebook).parent)
        self.choice.layout.display = "none"
        with busy(self.button, "Checking...", self.result):
            try:
                report = check_notebook(Path(self.notebook))
            except SelfCheckError as exc:
                message = str(exc)
                self.result.value = note([message[:1].upper() + message[1:]], announce=True)
                return None
        self.report = report
        question = report.question()
        if question:
            self.result.value = note([question], announce=True)
            self.choice.layout.display = "flex"
        else:
            self.reveal(False)
        return report

    def reveal(self, show_unanswered: bool) -> None:
        if self.report is not None:
            self.choice.layout.display = "none"
            self.result.value = _report_html(self.report, show_unanswered)


def _report_html(report: Any, show_unanswered: bool = False) -> str:
    rows = "".join(
        f"<div style='white-space: pre-wrap'>{html.escape(readable(line))}</div>"
        for line in report.render(show_unanswered).splitlines()
    )
    return f"{STYLE}<div role='alert' class='framelab-note'>{rows}</div>"


class ProgressView:
    """Self-study: a table of the workspace's modules (``framelab progress``), with a refresh button.

    The table appears at once from the workspace's files; the scores, which need the course's bank,
    follow from a background thread the first time, and at once after that."""

    def __init__(self, workspace: Path, background: bool = False):
        self.workspace = workspace
        self.button = w.Button(
            description="Refresh",
            tooltip="Read your workspace again",
            layout=w.Layout(width="auto", align_self="flex-start"),
        )
        self.table = w.HTML()
        self.note = w.HTML()
        self.button.on_click(lambda _: self.refresh())
        self.widget = w.VBox(
            [self.table, self.button, self.note], layout=w.Layout(max_width="60em", overflow="visible")
        )
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-progress")
        if background:
            from framelab.learner.progress import progress, scoring_possible

            pending = scoring_possible(self.workspace)
            self.show(progress(self.workspace, scores=False), pending=pending)
            in_background(lambda: (self._bank() if pending else None, self.refresh()))
        else:
            self.refresh()

    def _bank(self) -> None:
        """Load the course's bank now, so that a later Refresh with new answers is quick too."""
        from framelab.bank.loader import cached_bank
        from framelab.core.settings import course_root

        root = course_root(self.workspace.resolve())
        if root is not None:
            cached_bank(root / "modules")

    def refresh(self) -> list[Any]:
        from framelab.learner.progress import progress

        with busy(self.button, "Reading your workspace..."):
            rows = progress(self.workspace)
        self.show(rows)
        return rows

    def show(self, rows: list[Any], pending: bool = False) -> None:
        if not rows:
            self.table.value = note(["No modules in this workspace yet."])
            return
        self.table.value = progress_table(rows, pending)
        self.note.value = note(["Scores are being worked out..." if pending else "Up to date."])


def progress_table(rows: Sequence[Any], pending: bool = False) -> str:
    """The progress rows as an HTML table whose headings do not wrap."""
    from framelab.learner.progress import next_step_text

    head = ["Module", "Status", "Graded items answered", "Score", "Role-plays finished", "Time spent", "Time left"]
    body = []
    for r in rows:
        score = "..." if pending and r.items and r.answered else "" if r.score is None else f"{r.score} of {r.items}"
        cells = [
            r.title,
            r.status,
            f"{r.answered} of {r.items}" if r.items else "none",
            score,
            f"{r.roleplays_done} of {r.roleplays}" if r.roleplays else "none",
            activity.describe(r.seconds) if r.seconds else "",
            r.time_left.removesuffix(" left"),
        ]
        body.append(
            "<tr>"
            + "".join(
                f"<td{'' if n == 0 else ' class=framelab-nowrap'}>{html.escape(c)}</td>" for n, c in enumerate(cells)
            )
            + "</tr>"
        )
    return (
        STYLE + "<div class='framelab-table-wrap' tabindex='0' role='region' aria-label='Your progress'>"
        "<table class='framelab-table'>"
        "<caption>Your progress in each module</caption><thead><tr>"
        + "".join(f"<th scope='col'>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
        + f"<p class='framelab-next'><b>{html.escape(next_step_text(list(rows)))}</b></p>"
        + "<p class='framelab-small'>Role-plays counts the conversations with the client "
        "that each module offers. Time spent counts the stretches in which you saved answers, checked items or "
        "replied to the client (pauses over 10 minutes are not counted); time left is the module's estimated time less "
        "what you have spent. The score appears in self-study only.</p>"
    )
