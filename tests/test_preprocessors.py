"""The course's nbgrader preprocessors; grading pre-flight, plain reasons and retries (no nbgrader run)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
from conftest import ROOT

from framelab.bank.loader import gold
from framelab.grading.command import plain_reason, preflight
from framelab.grading.preprocessors import LimitOutputChars, TeachingFeedback
from framelab.scoring import answers as store

ASSIGNMENT = "m1_double_bind"


def test_long_outputs_are_cut_and_short_ones_kept():
    cell = nbformat.v4.new_code_cell("print('x' * 10_000_000)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 10_000_000),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1.0"}, execution_count=1),
    ]
    cut, _ = LimitOutputChars(max_chars=1000).preprocess_cell(cell, {}, 0)
    assert len(cut.outputs[0]["text"]) < 1100 and "10,000,000 characters, 1,000 kept" in cut.outputs[0]["text"]
    assert cut.outputs[1]["data"]["text/plain"] == "1.0"  # a short result (partial credit) is untouched


def test_feedback_shows_the_verdict_and_rationale_not_the_hidden_test(tmp_path, bank, monkeypatch):
    module = bank.module(ASSIGNMENT)
    ex = module.meta.exercises[0]
    items = bank.items()
    first, second = ex.items[0], ex.items[1]
    folder = tmp_path / "autograded" / "ana" / ASSIGNMENT
    folder.mkdir(parents=True)
    wrong = next(v for v in ("validate", "collapse_frame") if v != gold(items[second], ex.kind))
    store.write(folder / store.FILENAME, ex.id, {first: gold(items[first], ex.kind), second: wrong})
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:  # what GetGrades leaves on each test cell
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            meta["score"] = 1.0 if meta["grade_id"] == f"{ex.id}__{first}" else 0.0
    monkeypatch.chdir(tmp_path)
    os.symlink(ROOT / "modules", tmp_path / "modules")
    out, _ = TeachingFeedback().preprocess(nb, {"nbgrader": {"assignment": ASSIGNMENT, "student": "ana"}})

    text = "\n".join(c.source for c in out.cells)
    assert f"grade_answer({ex.id}" not in text and "HIDDEN TESTS" not in text
    verdicts = {c.metadata["nbgrader"]["grade_id"]: c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade")}
    right, missed = verdicts[f"{ex.id}__{first}"], verdicts[f"{ex.id}__{second}"]
    assert right.cell_type == "markdown" and "right." in right.source and "The answer is" not in right.source
    assert "The answer is" in missed.source and items[second].rationale[:40] in missed.source.replace("&#x27;", "'")
    assert "Item 2 of" in missed.source and "(0 of 1 point)" in missed.source


def test_preflight_names_what_is_wrong(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    assert "it has no notebook at all" in preflight(folder, [ASSIGNMENT])
    (folder / f"{ASSIGNMENT} (copy).ipynb").write_text("{}", encoding="utf-8")
    assert f"it has: {ASSIGNMENT} (copy).ipynb" in preflight(folder, [ASSIGNMENT])
    (folder / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [\n', encoding="utf-8")
    assert re.search(r"not valid JSON.*\(line 2\b", preflight(folder, [ASSIGNMENT]))
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()), encoding="utf-8")
    assert preflight(folder, [ASSIGNMENT]) == ""


def test_nbgraders_errors_become_plain_reasons():
    assert plain_reason("nbclient.exceptions.DeadKernelError: Kernel died").startswith(
        "the notebook stopped its own kernel"
    )
    assert "grading metadata" in plain_reason("KeyError: 'grade_id'")
    assert plain_reason("SomethingNew: odd") == "SomethingNew: odd"  # unknown: shown as it is


def test_the_course_config_uses_these_preprocessors():
    config = Path(ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    assert '"framelab.preprocessors.TeachingFeedback"' in config
    assert '"framelab.preprocessors.LimitOutputChars"' in config


def steps_off(steps, config=None) -> list[str]:
    """The steps that would never run, registered as nbgrader registers them (each as it is, not
    switched on: a step that is off by default stays off unless the config switches it on)."""
    from nbconvert.exporters import NotebookExporter
    from traitlets.utils.importstring import import_item

    exporter = NotebookExporter(config=config) if config is not None else NotebookExporter()
    exporter._preprocessors = []  # as nbgrader's converters do: only the listed steps
    for step in steps:
        exporter.register_preprocessor(import_item(step) if isinstance(step, str) else step)
    assert len(exporter._preprocessors) == len(steps)
    return [type(p).__name__ for p in exporter._preprocessors if not p.enabled]


def test_every_step_the_course_config_lists_runs():
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    lists = {
        "Autograde.autograde_preprocessors": config.Autograde.autograde_preprocessors,
        "GenerateFeedback.preprocessors": config.GenerateFeedback.preprocessors,
        "HTMLExporter.preprocessors": config.HTMLExporter.preprocessors,
    }
    for where, steps in lists.items():
        assert steps, where
        assert steps_off(steps, config) == [], f"nbgrader_config.py's {where} lists steps that never run"


def test_a_listed_step_that_is_off_is_caught():
    # the check above can fail: nbgrader's own default list holds two steps that are off
    from nbgrader.converters import Autograde

    stock = Autograde.class_traits()["autograde_preprocessors"].default_args[0]
    assert sorted(steps_off(stock)) == ["ClearMetadataPreprocessor", "IgnorePattern"]


def test_a_kernel_that_fails_to_start_is_retried(tmp_path, monkeypatch):
    """A kernel dying before it replies (a port race when many start at once) is the machine's
    fault: that submission is graded again, up to STARTUP_RETRIES times, then reported."""
    import shutil

    import nbgrader.converters
    from nbgrader.converters.base import NbGraderException

    from framelab.grading import command as grading
    from framelab.grading import worker as gradeworker

    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    app = grading.load_app(tmp_path, ASSIGNMENT)
    monkeypatch.setattr(gradeworker, "_APP", app)  # the worker side's state (framelab.grading.worker)
    monkeypatch.setattr(gradeworker, "_JOB", {"course": str(tmp_path), "assignment": ASSIGNMENT, "notebook_timeout": 0})
    starts: list[int] = []

    def fake(fail_times: int) -> type:
        class Fake:
            def __init__(self, coursedir: object, parent: object) -> None:
                self.log = app.log

            def start(self) -> None:
                starts.append(1)
                if len(starts) <= fail_times:
                    self.log.error(
                        "Traceback (most recent call last):\nRuntimeError: Kernel died before replying to kernel_info"
                    )
                    raise NbGraderException("failed")

        return Fake

    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    monkeypatch.setattr(nbgrader.converters, "Autograde", fake(1))
    assert grading._grade_one("ana", str(tmp_path / "w1"), None, db)["ok"] and len(starts) == 2
    starts.clear()
    monkeypatch.setattr(nbgrader.converters, "Autograde", fake(99))
    res = grading._grade_one("ben", str(tmp_path / "w2"), None, db)
    assert not res["ok"] and len(starts) == 1 + grading.STARTUP_RETRIES
    assert "kernel_info" in res["reason"]
