"""The pre/post diagnostic in a notebook: a thin view over :mod:`framelab.learner.diagnostic`.

It says plainly why the check is there and that it does not count, shows one menu per question,
saves each choice as it is made, and never shows an answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from framelab.learner import diagnostic as dx
from framelab.views.choice import ChoiceGroup


def _esc(text: str) -> str:
    import html

    return html.escape(text)


class DiagnosticView:
    """One stage's form: an introduction, a menu per item, and a line saying how many are saved."""

    def __init__(self, folder: Path, stage: str, public: dict[str, Any], trainee: str):
        self.folder = folder
        self.stage = stage
        self.form = dx.form_for(
            trainee, stage, counterbalance=bool(public.get("counterbalance")), seed=str(public.get("seed", ""))
        )
        self.items: list[dict[str, Any]] = list(public["forms"][self.form])
        self.status = w.HTML()
        self.menus: dict[str, ChoiceGroup] = {}
        try:
            saved = dx.read_record(folder / dx.RECORD_FILE)["answers"]
        except dx.DiagnosticError as exc:
            saved = {}
            self.status.value = _esc(str(exc))
        parts: list[w.Widget] = [w.HTML(f"<p>{_esc(dx.why(stage, len(self.items)))}</p>")]
        for n, item in enumerate(self.items, start=1):
            parts.append(w.HTML(self._question_html(n, item)))
            menu = ChoiceGroup([(text, value) for value, text in item["menu"].items()], f"Question {n}")
            if saved.get(item["id"]) in item["menu"]:
                menu.value = saved[item["id"]]
            menu.observe(lambda change, it=item, m=menu: self.save(it, m.value), names="index")
            self.menus[item["id"]] = menu
            parts.append(menu)
        self.results = w.HTML()
        parts += [self.status, self.results]
        self.widget = w.VBox(parts)
        if not self.status.value:
            self._count()

    def _question_html(self, n: int, item: dict[str, Any]) -> str:
        client = f"<p><b>Client:</b> {_esc(item['client'])}</p><p><b>Therapist:</b> " if item.get("client") else "<p>"
        head = f"<h3 class='framelab-heading'>Question {n} of {len(self.items)}: {_esc(item['question'])}</h3>"
        return f"{head}{client}{_esc(item['text'])}</p>"  # one level below the notebook's sections

    def save(self, item: dict[str, Any], value: Any) -> None:
        if value is None:
            return
        try:
            dx.save_choice(self.folder, self.stage, self.form, item["id"], value, item["menu"])
        except dx.DiagnosticError as exc:
            self.status.value = _esc(str(exc))
            return
        self._count()

    def _count(self) -> None:
        done = sum(m.value is not None for m in self.menus.values())
        shown = dx.self_study_results(self.folder) if done == len(self.items) else None
        if shown:  # self-study only, and only once both forms are done
            self.results.value = "".join(f"<p>{_esc(line)}</p>" for line in shown.splitlines())
        self.status.value = _esc(
            f"Saved: {done} of {len(self.items)} answered, in {dx.RECORD_FILE}. "
            + ("Thank you: that is all of them." if done == len(self.items) else "Answer the rest when you are ready.")
        )
