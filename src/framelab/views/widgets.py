"""Thin ipywidgets views over the plain logic in ``practice``, ``answers`` and ``checks``: the exercise's
menus, the practice deck and the reply picker. The role-play is :mod:`framelab.views.roleplay`; the
self-check and progress views are :mod:`framelab.views.progress`.

Each view builds its widgets, wires callbacks to plain functions, and exposes the widgets
as attributes so that tests can set values and click buttons without a browser.
Colours come from JupyterLab's theme variables, so the views read well in light and dark.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.core.vocabulary import LABELS, TITLES, menu_text
from framelab.learner import activity, mastery, practice
from framelab.roleplay import reactions
from framelab.views.choice import ChoiceGroup
from framelab.views.parts import STYLE, heading, note, quote

#: The first entry of a menu, read as an instruction.
PLACEHOLDER = "Choose a label"
PLACEHOLDER_OTHER = "Choose an answer"


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
        self.menus: dict[str, w.Dropdown] = {}
        self.ticks: dict[str, dict[str, w.Checkbox]] = {}
        rows: list[w.Widget] = []
        for n, item in enumerate(items, 1):
            rows.append(w.HTML(_item_head(n, item, len(items))))
            saved = picks.get(item["id"])
            if multi:
                rows.append(self._tick_row(item["id"], options, saved, on_change, read_only))
            else:
                rows.append(self._menu(n, item["id"], options, placeholder, saved, on_change, read_only))
        self.status = w.HTML()
        self.widget = w.VBox([*rows, self.status], layout=w.Layout(max_width="52em"))
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-exercise")

    def _tick_row(
        self,
        iid: str,
        options: Sequence[tuple[str, str]],
        saved: Any,
        on_change: Callable[[str, Any], None] | None,
        read_only: bool,
    ) -> w.Widget:
        chosen = set(saved) if isinstance(saved, list) else set()
        boxes = {
            value: w.Checkbox(
                value=value in chosen, description=text, indent=False, disabled=read_only, layout=w.Layout(width="auto")
            )
            for value, text in options
        }
        if on_change is not None:
            for box in boxes.values():
                box.observe(lambda _ch, iid=iid: on_change(iid, self.checked(iid)), names="value")
        self.ticks[iid] = boxes
        return w.VBox(list(boxes.values()), layout=w.Layout(margin="0 0 0 1em"))

    def _menu(
        self,
        n: int,
        iid: str,
        options: Sequence[tuple[str, str]],
        placeholder: str,
        saved: Any,
        on_change: Callable[[str, Any], None] | None,
        read_only: bool,
    ) -> w.Widget:
        menu = w.Dropdown(
            options=[(placeholder, ""), *[(text, value) for value, text in options]],
            value=saved if saved in {value for value, _ in options} else "",
            description=f"Item {n}",
            disabled=read_only,
            layout=w.Layout(width="100%"),
            style={"description_width": "4.5em"},
        )
        menu.add_class("framelab-menu")
        if on_change is not None:
            menu.observe(lambda ch, iid=iid: on_change(iid, ch["new"]), names="value")
        self.menus[iid] = menu
        return menu

    def checked(self, item: str) -> list[str]:
        return [value for value, box in self.ticks[item].items() if box.value]


def _item_head(n: int, item: dict[str, Any], total: int) -> str:
    """An exercise item's heading and its quotes (the client's line, then the response or vignette)."""
    head = (STYLE if n == 1 else "") + f"<h3 class='framelab-heading'>Item {n} of {total}</h3>"
    quotes = quote("Client", item["client"]) if item.get("client") else ""
    return head + quotes + quote("Therapist" if item.get("client") else "Vignette", item["text"])


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
        tally: tuple[Path, str] | None = None,
    ):
        if not items:
            raise ValueError("there are no practice items to show")
        self.all_items = list(items)
        self.items = self.all_items
        self.questions = list(questions) if questions is not None else practice.response_questions()
        self.titles = titles  # what the feedback calls each label (the repair rubric's names for ruptures)
        self.on_check_hook = on_check  # e.g. time-keeping (framelab.learner.activity)
        self.store = tally  # (module folder, deck name): where the running tally is kept, if anywhere
        self.tally = mastery.load(*tally) if tally else mastery.Tally()
        self.fields = [(q.field, q.multi) for q in self.questions]
        self.every = mastery.deck_keys(self.all_items, self.fields)
        self.counted = False  # the item shown has been counted in the tally
        self.index = 0
        self.position = w.HTML()
        self.tally_line = w.HTML()
        self.confusions = w.Button(
            description="Practise my confusions",
            tooltip="Items with the labels you have mixed up most",
            layout=w.Layout(width="auto"),
        )
        self.whole = w.Button(description="Back to the whole deck", layout=w.Layout(display="none", width="auto"))
        self.confusions.on_click(lambda _: self.focus(True))
        self.whole.on_click(lambda _: self.focus(False))
        self.prompt = w.HTML()
        self.boxes: dict[str, w.Checkbox] = {}
        self.menus: dict[str, ChoiceGroup] = {}
        parts = self._question_parts()
        self.check = w.Button(description="Check", button_style="primary", tooltip="Check your answer")
        self.previous = w.Button(description="Previous", tooltip="Go back one item")
        self.next = w.Button(description="Next", tooltip="Go to the next item")
        self.feedback = w.HTML()
        self.check.on_click(lambda _: self.on_check())
        self.next.on_click(lambda _: self.go(+1))
        self.previous.on_click(lambda _: self.go(-1))
        self.widget = w.VBox(
            [
                self.position,
                self.prompt,
                *parts,
                w.HBox([self.check, self.previous, self.next]),
                self.feedback,
                self.tally_line,
                w.HBox([self.confusions, self.whole]),
            ],
            layout=w.Layout(max_width="52em"),
        )
        self.widget.add_class("framelab-view")
        self.widget.add_class("framelab-practice")
        self.show()
        self.show_tally()

    def key_name(self, key: str) -> str:
        """A tally key as the deck names it: a label's title, or a single-choice answer's name."""
        name, _, value = key.partition(":")
        for q in self.questions:
            if q.field == name and value in q.options:
                return q.options[value].split(":")[0]
        return self.titles.get(key, key.replace("_", " "))

    def show_tally(self) -> None:
        text = mastery.summary(self.tally, self.every, self.key_name)
        mixed = mastery.top_confusions(self.tally)
        if mixed:
            pairs = [f"{self.key_name(m)} ({f'you chose {self.key_name(e)}' if e else 'missed'})" for m, e, _ in mixed]
            text += " Most often mixed up: " + "; ".join(pairs) + "."
        self.tally_line.value = f"<p class='framelab-meta framelab-tally' role='status'>{html.escape(text)}</p>"
        self.confusions.disabled = not mastery.confusion_items(self.all_items, self.tally, self.fields)

    def focus(self, confusions: bool) -> None:
        """Practise only the items holding the labels most often confused, or the whole deck again."""
        chosen = mastery.confusion_items(self.all_items, self.tally, self.fields) if confusions else []
        self.items = [self.all_items[i] for i in chosen] or self.all_items
        self.whole.layout.display = "flex" if self.items is not self.all_items else "none"
        self.index = 0
        self.show()

    def _question_parts(self) -> list[w.Widget]:
        """Each question's prompt and its tick boxes, or its radio group."""
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
        return parts

    @property
    def item(self) -> dict[str, Any]:
        return self.items[self.index]

    def show(self) -> None:
        item = self.item
        where = f"Practice item {self.index + 1} of {len(self.items)}"
        if self.items is not self.all_items:
            where += " (your confusions)"
        self.counted = False
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
        gold: set[str] = set()
        chosen: set[str] = set()
        for q in self.questions:
            picked = self.chosen() if q.multi else self.menus[q.field].value
            g, c = mastery.keys(self.item, q.field, q.multi, picked)
            gold, chosen = gold | g, chosen | c
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
        if answered and not self.counted:  # the first check of this showing counts, not re-checks
            self.counted = True
            mastery.record(self.tally, gold, chosen)
            if self.store is not None:
                mastery.save(*self.store, self.tally)
            self.show_tally()
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
