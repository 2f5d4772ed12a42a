"""Thin ipywidgets views over the plain logic in ``practice``, ``answers`` and ``checks``.

Each view builds its widgets, wires callbacks to plain functions, and exposes the widgets
as attributes so that tests can set values and click buttons without a browser.
Colours come from JupyterLab's theme variables, so the views read well in light and dark.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.core.vocabulary import LABELS, TITLES, menu_text, readable
from framelab.learner import activity, practice
from framelab.roleplay import reactions
from framelab.views.choice import ChoiceGroup
from framelab.views.parts import STYLE, heading, note, quote

#: The first entry of a menu, read as an instruction.
PLACEHOLDER = "Choose a label"
PLACEHOLDER_OTHER = "Choose an answer"


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


class LabelPicker:
    """One menu (or one row of tick boxes) per exercise item; each change goes to ``on_change``."""

    def __init__(
        self,
        items: Sequence[dict[str, Any]],
        picks: dict[str, Any],
        on_change: Callable[[str, Any], None] | None,
        *,
        options: Sequence[tuple[str, str]] | None = None,
        multi: bool = False,
        read_only: bool = False,
    ):
        options = list(options) if options is not None else [(lab, menu_text(lab)) for lab in LABELS]
        placeholder = PLACEHOLDER if {v for v, _ in options} == set(LABELS) else PLACEHOLDER_OTHER
        values = {value for value, _ in options}
        self.menus: dict[str, w.Dropdown] = {}
        self.ticks: dict[str, dict[str, w.Checkbox]] = {}
        rows: list[w.Widget] = []
        for n, item in enumerate(items, 1):
            iid = item["id"]
            head = (STYLE if n == 1 else "") + (
                f"<h3 class='framelab-heading'>Item {n} <span class='framelab-meta'>({html.escape(iid)})</span></h3>"
            )
            quotes = ""
            if item.get("client"):
                quotes += quote("Client", item["client"])
            quotes += quote("Therapist" if item.get("client") else "Vignette", item["text"])
            rows.append(w.HTML(head + quotes))
            saved = picks.get(iid)
            if multi:
                chosen = set(saved) if isinstance(saved, list) else set()
                boxes = {
                    value: w.Checkbox(
                        value=value in chosen,
                        description=text,
                        indent=False,
                        disabled=read_only,
                        layout=w.Layout(width="auto"),
                    )
                    for value, text in options
                }
                if on_change is not None:
                    for box in boxes.values():
                        box.observe(lambda _ch, iid=iid: on_change(iid, self.checked(iid)), names="value")
                self.ticks[iid] = boxes
                rows.append(w.VBox(list(boxes.values()), layout=w.Layout(margin="0 0 0 1em")))
            else:
                menu = w.Dropdown(
                    options=[(placeholder, ""), *[(text, value) for value, text in options]],
                    value=saved if saved in values else "",
                    description=f"Item {n}",
                    disabled=read_only,
                    layout=w.Layout(width="100%"),
                    style={"description_width": "4.5em"},
                )
                menu.add_class("framelab-menu")
                if on_change is not None:
                    menu.observe(lambda ch, iid=iid: on_change(iid, ch["new"]), names="value")
                self.menus[iid] = menu
                rows.append(menu)
        self.status = w.HTML()
        self.widget = w.VBox([*rows, self.status], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-exercise")

    def checked(self, item: str) -> list[str]:
        return [value for value, box in self.ticks[item].items() if box.value]


class PracticeDeck:
    """Practice items one at a time: answer, check, read why, move on.

    ``questions`` say what each item asks (for responses: which labels fit; for vignettes:
    what is going on, and what fits next). The right answers are the items' own fields.
    """

    def __init__(
        self,
        items: Sequence[dict[str, Any]],
        questions: Sequence[practice.Question] | None = None,
        on_check: Callable[[], None] | None = None,
        titles: Mapping[str, str] = TITLES,
    ):
        if not items:
            raise ValueError("there are no practice items to show")
        self.items = list(items)
        self.questions = list(questions) if questions is not None else practice.response_questions()
        self.titles = titles  # what the feedback calls each label (the repair rubric's names for ruptures)
        self.on_check_hook = on_check  # e.g. time-keeping (framelab.learner.activity)
        self.index = 0
        self.position = w.HTML()
        self.prompt = w.HTML()
        self.boxes: dict[str, w.Checkbox] = {}
        self.menus: dict[str, ChoiceGroup] = {}
        parts: list[w.Widget] = []
        for q in self.questions:
            if q.multi:
                parts.append(w.HTML(f"<p class='framelab-question'><b>{html.escape(q.prompt)}</b></p>"))
                self.boxes = {
                    value: w.Checkbox(value=False, description=text, indent=False, layout=w.Layout(width="auto"))
                    for value, text in q.options.items()
                }
                parts.append(w.VBox(list(self.boxes.values())))
            else:  # a radio group, named by the question
                menu = ChoiceGroup([(text, value) for value, text in q.options.items()], q.prompt)
                self.menus[q.field] = menu
                parts.append(menu)
        self.check = w.Button(description="Check", button_style="primary", tooltip="Check your answer")
        self.previous = w.Button(description="Previous", tooltip="Go back one item")
        self.next = w.Button(description="Next", tooltip="Go to the next item")
        self.feedback = w.HTML()
        self.check.on_click(lambda _: self.on_check())
        self.next.on_click(lambda _: self.go(+1))
        self.previous.on_click(lambda _: self.go(-1))
        self.widget = w.VBox(
            [self.position, self.prompt, *parts, w.HBox([self.check, self.previous, self.next]), self.feedback],
            layout=w.Layout(max_width="52em"),
        )
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-practice")
        self.show()

    @property
    def item(self) -> dict[str, Any]:
        return self.items[self.index]

    def show(self) -> None:
        item = self.item
        where = f"Practice item {self.index + 1} of {len(self.items)}"
        self.position.value = f"{STYLE}<p class='framelab-meta'>{where}</p>"
        if item.get("client"):
            self.prompt.value = quote("Client", item["client"]) + quote("Therapist", item["text"])
        else:
            self.prompt.value = quote("Vignette", item["text"])
        for box in self.boxes.values():
            box.value = False
        for menu in self.menus.values():
            menu.value = None
        self.feedback.value = ""
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index == len(self.items) - 1

    def go(self, step: int) -> None:
        self.index = max(0, min(len(self.items) - 1, self.index + step))
        self.show()

    def chosen(self) -> list[str]:
        return [value for value, box in self.boxes.items() if box.value]

    def on_check(self) -> bool:
        """Show feedback; True when every question was answered exactly right."""
        lines: list[str] = []
        all_right, answered = True, True
        for q in self.questions:
            if q.multi:
                verdict = practice.assess(self.chosen(), self.item[q.field], self.titles)
                lines += verdict.lines()
                all_right &= verdict.exact
                answered &= bool(verdict.chosen)
            else:
                ok, line = practice.check_single(self.menus[q.field].value, self.item[q.field], q.options)
                lines.append(line)
                all_right &= ok
                answered &= self.menus[q.field].value is not None
        if answered:
            lines.append("Why: " + self.item["rationale"])
        self.feedback.value = note(lines, all_right if answered else None, announce=True)
        if self.on_check_hook is not None:
            self.on_check_hook()
        return all_right


class ReplyPicker:
    """A one-turn role-play: the client speaks, you choose a reply, the client reacts."""

    def __init__(self, scenario: dict[str, Any], folder: Path | None = None):
        self.scenario = scenario
        self.folder = folder  # where saying a reply is recorded as this exercise done (activity.json)
        node = scenario["nodes"][scenario["start"]]
        replies = scenario["sample_replies"]
        if not replies:
            raise ValueError(f"scenario '{scenario['id']}' has no sample replies to choose from")
        # a stable order that does not always put the model reply first
        self.order = sorted(range(len(replies)), key=lambda i: hashlib.sha256(replies[i]["text"].encode()).hexdigest())
        letters = [chr(ord("A") + n) for n in range(len(self.order))]
        ctx = scenario["context"]
        cards = "".join(
            f"<div class='framelab-card'><b>{letter}.</b> {html.escape(replies[i]['text'])}</div>"
            for letter, i in zip(letters, self.order, strict=True)
        )
        self.setting = w.HTML(
            STYLE
            + heading(scenario["title"])
            + f"<p class='framelab-context'>{html.escape(ctx['stage'])} {html.escape(ctx['background'])}</p>"
            + quote("Client", node["client"])
            + "<p><b>Possible replies</b></p>"
            + cards
        )
        # a radio group: one choice, its state exposed to assistive technology, arrow keys move it
        self.choice = ChoiceGroup(
            [(letter, i) for letter, i in zip(letters, self.order, strict=True)], "Your reply", horizontal=True
        )
        self.say = w.Button(description="Say it", button_style="primary", tooltip="Give this reply to the client")
        self.reaction = w.HTML()
        self.say.on_click(lambda _: self.on_say())
        self.widget = w.VBox(
            [self.setting, w.HBox([self.choice, self.say], layout=w.Layout(align_items="center")), self.reaction],
            layout=w.Layout(max_width="52em"),
        )
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-reply-picker")

    def on_say(self) -> reactions.Reaction | None:
        if self.choice.value is None:
            self.reaction.value = note(["Choose a reply first."], announce=True)
            return None
        reply = self.scenario["sample_replies"][self.choice.value]
        result = reactions.react(self.scenario, self.scenario["start"], reply["labels"])
        moves = reactions.moves_made(reply["labels"])
        lines = [
            "What that reply did: " + ", ".join(TITLES[x] for x in reply["labels"]) + ".",
            reply["note"],
        ]
        if len(moves) < 3:
            lines.append("Try another reply to see how the client responds to it.")
        if self.folder is not None:
            activity.touch(self.folder, done=activity.reply_key(self.scenario["id"]))
        said = quote("Client", result.reaction) + note(lines, len(moves) == 3)
        self.reaction.value = f"<div role='alert'>{said}</div>"
        return result


class RolePlayView:
    """The role-play: the client speaks, you type a reply and tick the moves you meant, the client
    reacts to what your words did.

    All state lives in a :class:`framelab.roleplay.engine.Session`; this view only shows it (HTML from
    :mod:`framelab.views.roleplay_html`) and saves it beside the notebook after every turn. The detector
    starts loading in the background as soon as the view appears.
    """

    class Box(w.VBox):
        """The view's box: calls ``on_shown`` the first time a front end displays it (not under nbgrader)."""

        def __init__(self, children: list[w.Widget], on_shown: Callable[[], None], **kwargs: Any):
            super().__init__(children, **kwargs)
            self.on_shown: Callable[[], None] | None = on_shown

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            if self.on_shown is not None:
                shown, self.on_shown = self.on_shown, None
                shown()
            return super()._repr_mimebundle_(**kwargs)

    def __init__(self, scenario: dict[str, Any], folder: Any, detector: Any = None):
        from framelab.roleplay import engine as roleplay
        from framelab.views import roleplay_html as roleplay_view

        self.rp, self.html = roleplay, roleplay_view
        self.scenario = scenario
        self.detector = detector
        self.path = roleplay.transcript_path(Path(folder), scenario["id"])
        self.notice = ""
        try:
            self.session = roleplay.load(self.path, scenario) or roleplay.start(scenario)
        except roleplay.RolePlayError as exc:
            from framelab.scoring.answers import set_aside

            moved = set_aside(self.path)
            self.notice = f"Your saved conversation could not be read ({exc}); it was kept as {moved.name}."
            self.session = roleplay.start(scenario)
        ctx = scenario["context"]
        self.header = w.HTML(
            STYLE
            + heading(f"Role-play: {scenario['title']}")
            + f"<p style='color: var(--jp-content-font-color1)'>{html.escape(ctx['stage'])} "
            f"{html.escape(ctx['background'])}</p>"
        )
        self.log = w.HTML()  # every turn so far, in order
        self.reaction = w.HTML()  # the latest reaction: an aria-live region
        self.client = w.HTML()  # what the client says next
        self.progress = w.HTML()
        self.busy = w.HTML()
        self.reply = w.Textarea(
            placeholder="Type what you would say to the client...",
            description="Your reply",
            layout=w.Layout(width="100%", height="6em"),
            style={"description_width": "6em"},
        )
        self.ticks = {
            lab: w.Checkbox(value=False, description=text, indent=False, layout=w.Layout(width="auto"))
            for lab, text in roleplay_view.tick_options(scenario)
        }
        self.respond = w.Button(description="Respond", button_style="primary", tooltip="Say this to the client")
        self.restart = w.Button(description="Restart", tooltip="Start this conversation again")
        self.show_debrief = w.Button(description="Debrief", tooltip="See the transcript, feedback and model responses")
        self.feedback = w.HTML()
        self.debrief = w.HTML()
        self.respond.on_click(lambda _: self.on_respond())
        self.restart.on_click(lambda _: self.on_restart())
        self.show_debrief.on_click(lambda _: self.on_debrief())
        self.controls = w.VBox(
            [
                self.reply,
                w.HTML(
                    "<b>Which moves did you mean your reply to make?</b> Tick them: the client reacts to "
                    "your words, and the debrief sets what you meant beside what they did."
                ),
                w.VBox(list(self.ticks.values())),
            ]
        )
        self.widget = self.Box(
            [
                self.header,
                self.log,
                self.reaction,
                self.client,
                self.progress,
                self.controls,
                w.HBox([self.respond, self.restart, self.show_debrief]),
                self.busy,
                self.feedback,
                self.debrief,
            ],
            on_shown=self._start_loading,
            layout=w.Layout(max_width="52em"),
        )
        self.widget.add_class("framelab-roleplay")
        self.refresh()
        if self.notice:
            self.feedback.value = note([self.notice])

    def _start_loading(self) -> None:
        """Start the detector loading in the background, with a busy line until it is ready."""
        start = getattr(self.detector, "start", None)
        if start is None or getattr(self.detector, "ready", True):
            return
        self.busy.value = note(["Getting the client ready (loading the reply reader)..."])
        start(on_ready=self._loaded)

    def _loaded(self) -> None:
        self.busy.value = ""

    def refresh(self) -> None:
        shown = bool(self.debrief.value)
        self.log.value = self.html.history(self.session)
        self.reaction.value = self.html.reaction(self.session)
        self.client.value = self.html.prompt(self.scenario, self.session)
        self.progress.value = self.html.progress(self.session, shown)
        done = self.session.done
        for control in (self.reply, self.respond, *self.ticks.values()):
            control.disabled = done
        self.show_debrief.disabled = not self.session.turns or shown

    def on_respond(self) -> Any:
        ticked = [lab for lab, box in self.ticks.items() if box.value]
        self.respond.disabled = True
        if not getattr(self.detector, "ready", True):
            self.busy.value = note(["Reading your reply..."])
        try:
            turn = self.rp.respond(self.scenario, self.session, self.reply.value, ticked, self.detector)
        except self.rp.RolePlayError as exc:
            self.feedback.value = note([str(exc)[:1].upper() + str(exc)[1:] + "."])
            self.respond.disabled = self.session.done
            return None
        finally:
            self.busy.value = ""
        self.rp.save(self.session, self.path)
        activity.touch(self.path.parent)
        self.reply.value = ""
        for box in self.ticks.values():
            box.value = False
        self.feedback.value = self.html.turn_note(self.scenario, turn)
        self.debrief.value = ""  # a debrief read mid-conversation is out of date now
        if self.session.done:
            self.on_debrief()
        self.refresh()
        return turn

    def on_restart(self) -> None:
        self.session = self.rp.start(self.scenario)
        self.rp.save(self.session, self.path)
        self.feedback.value = ""
        self.debrief.value = ""
        self.refresh()

    def on_debrief(self) -> Any:
        text, d = self.html.debrief(self.scenario, self.session)
        self.debrief.value = text
        self.refresh()
        return d


class SelfCheckView:
    """Self-study: a button that scores this notebook's graded answers (``framelab check``).

    The course's bank is loaded in the background when the view is made, so that pressing the
    button scores the saved choices in this process at once; no nbgrader run is involved."""

    def __init__(self, notebook: Any, warm: bool = False):
        self.notebook = notebook
        self.button = w.Button(
            description="Check my graded answers",
            tooltip="Self-study: score your graded answers, with the reasons",
            layout=w.Layout(width="auto", align_self="flex-start"),
        )
        self.result = w.HTML(STYLE)
        self.button.on_click(lambda _: self.on_check())
        self.widget = w.VBox([self.button, self.result], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-selfcheck")
        if warm:
            from framelab.learner.selfcheck import warm as warm_bank

            warm_bank(Path(notebook).parent)

    def on_check(self) -> Any:
        from framelab.learner.selfcheck import SelfCheckError, check_notebook

        activity.touch(Path(self.notebook).parent)
        with busy(self.button, "Checking...", self.result):
            try:
                report = check_notebook(Path(self.notebook))
            except SelfCheckError as exc:
                message = str(exc)
                self.result.value = note([message[:1].upper() + message[1:]], announce=True)
                return None
        self.result.value = _report_html(report)
        return report


def _report_html(report: Any) -> str:
    rows = "".join(
        f"<div style='white-space: pre-wrap'>{html.escape(readable(line))}</div>"
        for line in report.render().splitlines()
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
    head = ["Module", "Status", "Graded items answered", "Score", "Role-plays finished", "Time spent"]
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
        + "</tbody></table></div><p class='framelab-small'>Role-plays counts the conversations with the client "
        "that each module offers. Time spent counts the stretches in which you saved answers, checked items or "
        "replied to the client (pauses over 10 minutes are not counted). The score appears in self-study only.</p>"
    )
