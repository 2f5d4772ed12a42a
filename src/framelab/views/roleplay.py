"""The role-play view: the client speaks, the trainee types a reply and ticks the moves they meant, and
the client reacts to what the words did. State lives in :mod:`framelab.roleplay.engine`; the HTML in
:mod:`framelab.views.roleplay_html`."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.learner import activity
from framelab.views.parts import STYLE, heading, note


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
        self.session = self._saved_or_new()
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
        self.controls = self._controls(roleplay_view.tick_options(scenario))
        self.widget = self.Box(
            [
                self.header,
                self.log,
                self.reaction,
                self.client,
                self.progress,
                self.controls,
                w.HBox([self.respond, self.restart, self.show_debrief]),
                self.confirm,
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

    def _saved_or_new(self) -> Any:
        """The conversation saved beside the notebook, or a new one (an unreadable save is set aside)."""
        try:
            return self.rp.load(self.path, self.scenario) or self.rp.start(self.scenario)
        except self.rp.RolePlayError as exc:
            from framelab.scoring.answers import set_aside

            moved = set_aside(self.path)
            self.notice = f"Your saved conversation could not be read ({exc}); it was kept as {moved.name}."
            return self.rp.start(self.scenario)

    def _controls(self, tick_options: Any) -> w.Widget:
        """The reply box, the tick boxes and the buttons' actions."""
        self.reply = w.Textarea(
            placeholder="Type what you would say to the client...",
            description="Your reply",
            # "auto" fills the column; "100%" plus the widget's own margin was wider than it, so the
            # whole box of reply and tick boxes scrolled sideways
            layout=w.Layout(width="auto", height="6em"),
            style={"description_width": "6em"},
        )
        self.ticks = {
            lab: w.Checkbox(value=False, description=text, indent=False, layout=w.Layout(width="auto"))
            for lab, text in tick_options
        }
        self.respond = w.Button(description="Respond", button_style="primary", tooltip="Say this to the client")
        self.restart = w.Button(description="Restart", tooltip="Start this conversation again")
        self.show_debrief = w.Button(description="Debrief", tooltip="See the transcript, feedback and model responses")
        self.feedback = w.HTML()
        self.debrief = w.HTML()
        self.respond.on_click(lambda _: self.on_respond())
        self.restart.on_click(lambda _: self.ask_restart())
        self.confirm = self._confirm_row()
        self.show_debrief.on_click(lambda _: self.on_debrief())
        return w.VBox(
            [
                self.reply,
                w.HTML(
                    "<b>Which moves did you mean your reply to make?</b> Tick them: the client reacts to "
                    "your words, and the debrief sets what you meant beside what they did."
                ),
                w.VBox(list(self.ticks.values())),
            ]
        )

    def _confirm_row(self) -> w.Widget:
        """Restart asks first: a question and two buttons, hidden until Restart is pressed."""
        self.confirm_text = w.HTML()
        self.confirm_yes = w.Button(
            description="Yes, start again", button_style="warning", layout=w.Layout(width="auto")
        )
        self.confirm_no = w.Button(description="Keep this conversation", layout=w.Layout(width="auto"))
        self.confirm_yes.on_click(lambda _: self.on_restart())
        self.confirm_no.on_click(lambda _: self.cancel_restart())
        box = w.VBox([self.confirm_text, w.HBox([self.confirm_no, self.confirm_yes])])
        box.layout.display = "none"
        box.add_class("framelab-confirm")
        return box

    def ask_restart(self) -> None:
        """Restart pressed: say what starting again does, and wait for a yes (focus on the safe choice)."""
        kept = " It is finished, so it stays counted, and its transcript is kept beside the notebook."
        self.confirm_text.value = note(
            ["Start this conversation again? What you have said so far will be cleared from the screen."
             + (kept if self.session.done else "")],
            announce=True,
        )  # fmt: skip
        self.confirm.layout.display = "flex"
        self.confirm_no.focus()

    def cancel_restart(self) -> None:
        self.confirm.layout.display = "none"
        self.confirm_text.value = ""
        (self.restart if self.session.done else self.reply).focus()

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
            self.reply.focus()
            return None
        finally:
            self.busy.value = ""
        self.rp.save(self.session, self.path)
        sid = self.scenario["id"]
        activity.touch(self.path.parent, done=activity.roleplay_key(sid) if self.session.done else None)
        self.reply.value = ""
        for box in self.ticks.values():
            box.value = False
        self.feedback.value = self.html.turn_note(self.scenario, turn)
        self.debrief.value = ""  # a debrief read mid-conversation is out of date now
        if self.session.done:
            self.on_debrief()
        self.refresh()
        # the keyboard stays in the conversation: the reply box, or once it has ended (the box and Debrief are
        # disabled then, and the debrief is on screen below), Restart, which asks before it clears anything
        (self.restart if self.session.done else self.reply).focus()
        return turn

    def on_restart(self) -> None:
        """Start again (after the confirm step): a finished transcript is kept under a dated name."""
        self.rp.keep_finished(self.path, self.session)
        self.session = self.rp.start(self.scenario)
        self.rp.save(self.session, self.path)
        self.feedback.value = ""
        self.debrief.value = ""
        self.confirm.layout.display = "none"
        self.confirm_text.value = ""
        self.refresh()
        self.reply.focus()

    def on_debrief(self) -> Any:
        text, d = self.html.debrief(self.scenario, self.session)
        self.debrief.value = text
        self.refresh()
        return d
