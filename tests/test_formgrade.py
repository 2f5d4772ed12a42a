"""What formgrader and feedback show, as plain functions (no nbgrader run)."""

from __future__ import annotations

import nbformat

from framelab.grading.formgrade import INSTRUCTOR, VIEW_NOTE, clear_object_reprs, drop_instructor_outputs
from framelab.scoring.display import show as shown


def result(text: str, **data: str):
    return nbformat.v4.new_output("execute_result", data={"text/plain": text, **data}, execution_count=1)


def test_widget_object_text_becomes_a_plain_note_and_real_results_stay():
    cell = nbformat.v4.new_code_cell("lesson.try_reply('coffee')")
    cell.outputs = [result("<framelab.views.widgets.ReplyPicker at 0x7fd69d922150>")]
    assert clear_object_reprs(cell)
    assert [o["output_type"] for o in cell.outputs] == ["stream"] and VIEW_NOTE in cell.outputs[0]["text"]
    kept = nbformat.v4.new_code_cell("1 + 1")
    kept.outputs = [result("2"), result("<object at 0x1>"), result("<framelab.x.Y at 0x1>", **{"text/html": "<b/>"})]
    assert not clear_object_reprs(kept) and len(kept.outputs) == 3  # not ours, or it has a real display


def test_instructor_outputs_are_dropped_and_nothing_else():
    cell = nbformat.v4.new_code_cell("check_answer(x, 'i1')")
    mine = nbformat.v4.new_output("display_data", data={"text/html": "<table>key</table>"}, metadata=dict(INSTRUCTOR))
    printed = nbformat.v4.new_output("stream", name="stdout", text="Item i1: answered.\n")
    cell.outputs = [printed, mine]
    drop_instructor_outputs(cell)
    assert cell.outputs == [printed]


def test_choices_are_shown_by_their_short_names():
    assert shown("vague_rule", "single_label") == "Vague rule"
    assert shown(["validate", "recenter"], "moves") == "Validate the feeling, Re-center on the work"
    assert shown("countertransference", "relation") == "Countertransference"
    assert shown(None, "single_label") == shown([], "moves") == "(no answer)"
    assert shown("made_up", "single_label") == "'made_up' (not a choice)"
    assert shown([{"x": 1}], "moves") == "(not a choice)"


def formgrader_page(notebook, base_url: str = "") -> str:
    """A submission's page as formgrader draws it: nbgrader's HTMLExporter set up as its server extension does."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    exporter = HTMLExporter(template_name="formgrade", extra_template_basedirs=[handlers.template_path])
    resources = {
        "assignment_id": "m1_double_bind",
        "notebook_id": "m1_double_bind",
        "submission_id": "s1",
        "index": 0,
        "total": 1,
        "base_url": base_url,
        "student": "trainee",
        "last_name": "",
        "first_name": "",
        "notebook_path": "autograded/trainee/m1_double_bind/m1_double_bind.ipynb",
    }
    page, _ = exporter.from_notebook_node(notebook, resources=resources)
    return page


def submitted_reflection():
    """Module 1's release notebook with its reflection written, as formgrader gets it back."""
    from conftest import ROOT

    notebook = nbformat.read(ROOT / "release" / "m1_double_bind" / "m1_double_bind.ipynb", as_version=4)
    answer = next(
        c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")
    )
    answer.source = "When my friend said no to a loan, it felt like a door closing."
    return notebook


def test_formgrader_shows_a_written_answer_as_the_trainees_answer_apart_from_the_course_text():
    """A reflection is drawn in a bordered panel headed "Student's answer"; the course text around it is not."""

    notebook = submitted_reflection()
    cells = formgrader_page(notebook).split('<div class="cell border-box-sizing text_cell rendered">')
    written = [c for c in cells if "a door closing" in c]
    course = [c for c in cells if "How your reflection is marked" in c]
    assert len(written) == 1 and len(course) == 1
    assert "panel panel-primary nbgrader_cell" in written[0] and "Student's answer" in written[0]
    assert "nbgrader_cell" not in course[0] and "Student" not in course[0]
