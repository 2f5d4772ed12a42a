"""What a module notebook calls. Kept small: the notebooks stay narrative plus these calls.

    from framelab.views.lesson import Lesson
    lesson = Lesson.here()                    # reads content.json beside the notebook
    lesson.practice()                         # practice deck with instant feedback (returns nothing;
                                              # the view is kept as lesson.view, for tests)
    lesson.try_reply("coffee-at-the-door")    # one-turn role-play
    answers = lesson.exercise("backfires").pick()   # graded menus, saved as you go

While nbgrader grades (``NBGRADER_EXECUTION`` is set) nothing interactive is displayed:
the saved answers are read and a one-line summary is printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from framelab.bank.variants import shown_items, trainee_id
from framelab.core.vocabulary import LABELS
from framelab.learner import activity
from framelab.scoring import answers as store
from framelab.scoring.checks import name_items


class ContentError(Exception):
    """The notebook's content file is missing or unreadable."""


def _grading() -> bool:
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _display(widget: Any) -> None:
    from IPython.display import display

    display(widget)


def _update_check_line(item: str, kind: str, line: str) -> None:
    """Replace the line an item's check cell showed (``checks.check_answer``), wherever it is."""
    try:
        from IPython.display import update_display

        from framelab.scoring.checks import display_id

        update_display({"text/plain": line}, raw=True, display_id=display_id(item, kind))
    except Exception:  # no kernel (a script or a test): there is no line to replace
        pass


def _detectors() -> Any:
    """The role-play's readers, loaded on first use (None where they cannot load: cue rules read instead)."""
    from framelab.detector.readers import LazyDetector

    return LazyDetector()


class Lesson:
    """One module's public content, as seen from its notebook's folder."""

    def __init__(self, content: dict[str, Any], folder: Path):
        self.content = content
        self.folder = folder
        self.answers_path = folder / store.FILENAME
        #: The view the last helper showed. Helpers return nothing, so a notebook prints no object text.
        self.view: Any = None

    @classmethod
    def here(cls, folder: str | Path = ".") -> Lesson:
        folder = Path(folder).resolve()
        path = folder / "content.json"
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContentError(
                f"content.json is missing from {folder}. It comes with the notebook: copy it back "
                "from the course release (or ask your instructor), then run this cell again."
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContentError(f"{path} is damaged ({exc}). Copy it again from the course release.") from None
        lesson = cls(content, folder)
        if not _grading():
            from framelab.learner.selfcheck import warm

            warm(folder)  # the course's bank, for checking and progress, loads while the learner reads
            mod = content["module"]
            print(f"Module {mod['id'][1:]}: {mod['title']}. Ready.")
            print(f"Your exercise choices are saved in {store.FILENAME}, next to this notebook.")
        return lesson

    def _show(self, view: Any) -> None:
        self.view = view
        if not _grading():
            _display(view.widget)

    def _worked(self) -> None:
        """Count time spent on this module (see :mod:`framelab.learner.activity`)."""
        activity.touch(self.folder)

    def progress(self) -> None:
        """Self-study: your progress in every module of this workspace."""
        from framelab.views.progress import ProgressView

        if _grading():
            return  # nothing to show, and no time to spend reading the course
        self._show(ProgressView(self.folder.parent, background=True))

    # ---------------------------------------------------------------- practice

    def practice_items(self, situation: str | None = None, max_difficulty: int = 3) -> list[dict[str, Any]]:
        items = [
            it
            for it in self.content["practice"]
            if (situation is None or it["situation"] == situation) and it["difficulty"] <= max_difficulty
        ]
        return sorted(items, key=lambda it: it["difficulty"])

    def practice(self, situation: str | None = None, max_difficulty: int = 3) -> None:
        """Show the practice deck (easiest first)."""
        from framelab.learner.practice import response_questions, risk_question
        from framelab.views.widgets import PracticeDeck

        items = [it for it in self.practice_items(situation, max_difficulty) if it.get("rubric") != "repair"]
        questions = response_questions()
        if items and all(it.get("risk_check") for it in items):  # replies to messages that carry risk
            questions.append(risk_question())
        deck = PracticeDeck(items, questions, on_check=self._worked, tally=(self.folder, situation or "labels"))
        self._show(deck)

    def practice_repair(self, max_difficulty: int = 3) -> None:
        """Show the practice deck of replies to ruptures, read with the repair rubric's names (easiest first)."""
        from framelab.core.rubrics import REPAIR, RUBRICS
        from framelab.learner.practice import repair_questions
        from framelab.views.widgets import PracticeDeck

        items = [it for it in self.practice_items(max_difficulty=max_difficulty) if it.get("rubric") == "repair"]
        self._show(
            PracticeDeck(
                items,
                repair_questions(),
                on_check=self._worked,
                titles=RUBRICS[REPAIR].titles,
                tally=(self.folder, "repair"),
            )
        )

    def _vignette_deck(self, family: str, max_difficulty: int) -> None:
        from framelab.learner.practice import VIGNETTE_QUESTIONS
        from framelab.views.widgets import PracticeDeck

        questions = VIGNETTE_QUESTIONS[family]()
        first = questions[0].field  # a vignette of this family always has it
        items = sorted(
            (v for v in self.content["practice_vignettes"] if v["difficulty"] <= max_difficulty and v.get(first)),
            key=lambda v: v["difficulty"],
        )
        deck = PracticeDeck(items, questions, on_check=self._worked, tally=(self.folder, family))
        self._show(deck)

    def practice_vignettes(self, max_difficulty: int = 3) -> None:
        """Show the vignette practice deck (what is going on, and what fits next), as ``lesson.view``."""
        self._vignette_deck("relation", max_difficulty)

    def practice_boundaries(self, max_difficulty: int = 3) -> None:
        """Show the boundary-vignette practice deck (which boundary; crossing or violation), as ``lesson.view``."""
        self._vignette_deck("boundary", max_difficulty)

    def practice_alliance(self, max_difficulty: int = 3) -> None:
        """Show the alliance practice deck (does this strengthen or strain the alliance?), as ``lesson.view``."""
        self._vignette_deck("alliance", max_difficulty)

    def scenario(self, scenario_id: str) -> dict[str, Any]:
        for sc in self.content["scenarios"]:
            if sc["id"] == scenario_id:
                return sc
        known = ", ".join(s["id"] for s in self.content["scenarios"])
        raise KeyError(f"no scenario '{scenario_id}' in this module (there are: {known})")

    def roleplay(self, scenario_id: str, detector: Any = "auto") -> None:
        """Show the role-play for a scenario, resuming a saved conversation. The view is kept as ``lesson.view``.

        ``detector="auto"`` proposes labels for each reply with :mod:`framelab.detector`, loaded on
        the first reply (not when the cell runs); ``None`` turns it off."""
        from framelab.views.roleplay import RolePlayView

        if detector == "auto":
            from framelab.detector.readers import LazyDetector

            detector = LazyDetector()
        view = RolePlayView(self.scenario(scenario_id), self.folder, detector)
        self._show(view)

    def try_reply(self, scenario_id: str) -> None:
        """Show a one-turn role-play."""
        from framelab.views.widgets import ReplyPicker

        picker = ReplyPicker(self.scenario(scenario_id), self.folder)
        self._show(picker)

    def self_check(self) -> None:
        """Self-study: a button that scores this notebook's graded answers."""
        from framelab.views.progress import SelfCheckView

        if _grading():
            return
        self._show(SelfCheckView(self.folder / f"{self.folder.name}.ipynb", warm=True))

    def saved(self) -> None:
        """Print the choices saved in ``answers.json``, in words."""
        from framelab.views.writing import saved_choices

        try:
            answers = store.read(self.answers_path)
        except store.AnswerFileError as exc:
            print(exc)
            return
        print(saved_choices(answers, self.content))

    def written_feedback(self) -> None:
        """Self-study: a button for feedback on this notebook's written answers, as saved."""
        from framelab.views.writing import WrittenFeedbackView

        if _grading():
            return
        self._show(WrittenFeedbackView(self.folder / f"{self.folder.name}.ipynb", _detectors()))

    def record(self) -> None:
        """Self-study: a button that writes the dated completion record for the whole workspace."""
        from framelab.views.writing import RecordView

        if _grading():
            return
        self._show(RecordView(self.folder.parent))

    def diagnostic(self, stage: str) -> None:
        """The pre/post diagnostic (``"pre"`` in Module 0, ``"post"`` in Module 6): recorded, never graded."""
        from framelab.learner.diagnostic import DiagnosticError, load_public, trainee_id
        from framelab.views.diagnostic import DiagnosticView

        if _grading():
            return  # recorded in its own file; nothing to grade or show
        try:
            self._show(DiagnosticView(self.folder, stage, load_public(self.folder), trainee_id()))
        except DiagnosticError as exc:
            print(exc)

    # ---------------------------------------------------------------- graded exercises

    def exercise(self, exercise_id: str) -> Exercise:
        try:
            spec = self.content["exercises"][exercise_id]
        except KeyError:
            known = ", ".join(self.content["exercises"])
            raise KeyError(f"no exercise '{exercise_id}' in this module (there are: {known})") from None
        return Exercise(self, exercise_id, spec)

    def item(self, exercise_id: str, place: int) -> str:
        """The id of the item this notebook shows at ``place`` (from 1) of an exercise: a test cell's item.
        With variants on, it is this trainee's draw (:func:`framelab.bank.variants.shown_items`)."""
        rows = self.exercise(exercise_id).rows
        if not 1 <= place <= len(rows):
            raise IndexError(f"exercise '{exercise_id}' has {len(rows)} items; there is no item {place}")
        return str(rows[place - 1]["id"])


class Exercise:
    """A graded exercise's menus, bound to the answers file."""

    def __init__(self, lesson: Lesson, exercise_id: str, spec: dict[str, Any]):
        self.lesson = lesson
        self.id = exercise_id
        self.spec = spec
        folder = str(lesson.content.get("module", {}).get("folder", ""))
        self.rows = shown_items(spec, folder, trainee_id(os.environ))  # a variant, or the fixed form
        self.item_ids = [it["id"] for it in self.rows]
        self.view: Any = None
        name_items(self.item_ids)

    def _saved(self) -> tuple[dict[str, Any], str | None]:
        """The saved picks for this exercise, and a message if the file had to be set aside."""
        path = self.lesson.answers_path
        try:
            return dict(store.read(path).get(self.id, {})), None
        except store.AnswerFileError as exc:
            if _grading():
                return {}, f"Saved answers could not be used: {exc}"
            moved = store.set_aside(path)
            return {}, f"{exc} It has been kept as {moved.name}; nothing was deleted."

    def _answered(self, value: Any) -> bool:
        values = {v for v, _ in self.spec.get("options", [])} or set(LABELS)
        if type(value) is list:
            return bool(value) and all(type(v) is str and v in values for v in value)
        return type(value) is str and value in values

    @staticmethod
    def _status(text: str) -> str:
        import html

        return f"<p class='framelab-meta' role='status' aria-live='polite'>{html.escape(text)}</p>"

    def _refresh_check(self, item: str, picks: dict[str, Any]) -> None:
        """Replace the item's check line below (shown when its check cell ran) with the current one."""
        from framelab.scoring.checks import AnswerProblem, status_line

        kind = self.spec.get("kind", "single_label")
        try:
            line = status_line(picks, item, kind)
        except AnswerProblem as exc:
            line = str(exc)
        _update_check_line(item, kind, line)

    def pick(self, solution: dict[str, Any] | None = None) -> dict[str, Any]:
        """Show the menus and return the picks, a plain ``dict`` kept up to date as you choose.

        ``solution`` is the instructor's key in the source notebook: it is shown read-only
        and never written to the answers file.
        """
        if solution is not None:
            picks: dict[str, Any] = {k: v for k, v in solution.items() if k in self.item_ids and type(v) in (str, list)}
            note = "Instructor's copy: the key is shown and nothing is saved."
        else:
            saved, note = self._saved()
            picks = {k: v for k, v in saved.items() if k in self.item_ids}
        answered = sum(1 for i in self.item_ids if self._answered(picks.get(i)))
        summary = f"{answered} of {len(self.item_ids)} items answered in “{self.spec['title']}”."
        if _grading():
            print(summary if note is None else f"{summary} {note}")
            return picks
        from framelab.views.widgets import LabelPicker

        def save(item: str, value: Any) -> None:
            if value:
                picks[item] = value
            else:
                picks.pop(item, None)
            store.write(self.lesson.answers_path, self.id, picks)
            self.lesson._worked()
            done = sum(1 for i in self.item_ids if self._answered(picks.get(i)))
            self.view.status.value = self._status(f"Saved. {done} of {len(self.item_ids)} items answered.")
            self._refresh_check(item, picks)

        options = [(value, text) for value, text in self.spec.get("options", [])] or None
        self.view = LabelPicker(
            self.rows,
            picks,
            None if solution is not None else save,
            options=options,
            multi=bool(self.spec.get("multi")),
            read_only=solution is not None,
        )
        self.view.status.value = self._status(f"{summary}{' ' + note if note else ''}")
        _display(self.view.widget)
        return picks
