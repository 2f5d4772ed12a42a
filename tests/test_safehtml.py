"""Untrusted HTML never runs: what a trainee wrote or printed, cleaned before any page shows it
(plain functions, the preprocessor, formgrader's and the feedback page's rendering; no browser)."""

from __future__ import annotations

import base64
import copy
import logging
import re

import nbformat
import pytest
from conftest import ROOT

from framelab.core.safehtml import (
    clean_attachments,
    clean_cell,
    clean_html,
    clean_notebook,
    clean_output,
    is_safe_block,
    markdown_risks,
)
from framelab.grading.formgrade import _row, item_table
from framelab.grading.preprocessors import SanitizeUntrusted

PWN = "'window.__pwned=1'"
HOSTILE_MARKUP = (
    f"<img src=x onerror={PWN}>",
    f"<script>{PWN}</script>",
    f"<svg onload='{PWN}'><circle/></svg>",
    f"<a href='javascript:{PWN}'>x</a>",
    f"<a href='JaVa&#09;Script:{PWN}'>y</a>",
    f"<iframe srcdoc='<script>{PWN}</script>'></iframe>",
    f"<div style='background:url(javascript:{PWN})'>z</div>",
    f"<form action='/api/contents/x' method=post><button formaction='javascript:{PWN}'>go</button></form>",
    "<base href='https://elsewhere.example/'>",
    f"<object data='javascript:{PWN}'></object>",
)


def runs_nothing(page: str) -> bool:
    """No script of the trainee's in ``page``, and no handler, script link, SVG or frame anywhere."""
    low = re.sub(r'onclick="toggle_name\((?:true|false)\);"', "", page.lower())  # formgrader's own buttons
    low = re.sub(r"<style[^>]*>.*?</style>", "", low, flags=re.DOTALL)  # the pages' own style sheets
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", low, re.DOTALL)
    return not any("__pwned" in s for s in scripts) and not re.search(
        r"\son[a-z]+\s*=|javascript:|<svg|<iframe|<object|<embed", low
    )


@pytest.mark.parametrize("markup", HOSTILE_MARKUP)
def test_hostile_html_is_cleaned_to_nothing_that_runs(markup):
    cleaned = clean_html(markup)
    low = cleaned.lower()
    for bad in ("onerror", "onload", "<script", "javascript", "<svg", "<iframe", "<form", "<base", "<object", "url("):
        assert bad not in low, (markup, cleaned)


def test_the_course_formgrader_table_passes_the_allow_list_unchanged():
    class Item:
        id, client, text = "i-1", "Could we be <friends>?", "I value this & I keep our frame."

    table = item_table([_row(1, Item(), "single_label", "boundary", "validate", "recenter")], "Exercise 1")
    assert clean_html(table) == re.sub(r"='([^']*)'", r'="\1"', table)  # only attribute quotes change


def test_safe_links_and_inline_pictures_stay():
    png = "data:image/png;base64,iVBORw0KGgo="
    text = f"<p>See <a href='https://example.org/x'>this</a>, <a href='#top'>top</a>.</p><img src='{png}' alt='a'>"
    cleaned = clean_html(text)
    assert 'href="https://example.org/x"' in cleaned and 'href="#top"' in cleaned and png in cleaned
    assert "<img>" in clean_html("<img src='https://tracker.example/p.png'>")  # no picture from elsewhere


def reflection(source: str, **attachments) -> dict:
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "reflection", "points": 4}
    if attachments:
        cell["attachments"] = attachments
    return cell


def test_an_honest_reflection_is_left_exactly_as_written():
    text = "When my client asked for coffee, I *felt* the pull.\n\n> a quote\n\n- one\n- two\n\nSee [APA](https://apa.org)."
    cell = reflection(text)
    assert markdown_risks(text) == [] and clean_cell(cell) == [] and cell.source == text


def test_a_reflection_with_markup_becomes_its_clean_rendering_and_stays_so():
    cell = reflection(f"I felt *torn*.\n\n<img src=x onerror={PWN}>\n\n[notes](javascript:{PWN})")
    found = clean_cell(cell)
    assert "raw HTML" in found and "a link that is not to a web page" in found
    assert "<em>torn</em>" in cell.source and "\n" not in cell.source and runs_nothing(cell.source)
    assert "onerror" not in cell.source and "javascript" not in cell.source.lower()
    again = copy.deepcopy(cell)
    assert clean_cell(again) == [] and again == cell and is_safe_block(cell.source)


def test_a_tex_link_is_shown_as_text_where_mathjax_never_looks():
    cell = reflection(f"$\\href{{javascript:{PWN}}}{{click}}$")
    assert clean_cell(cell) and "<pre>" in cell.source and clean_cell(cell) == []


def test_code_in_a_reflection_stays_code():
    text = "I tried `<img src=x onerror=alert(1)>` as an example."
    assert markdown_risks(text) == []  # a code span is shown as text by the page's own renderer


def output(kind: str, data: dict, **metadata) -> dict:
    return nbformat.v4.new_output(kind, data=data, metadata=metadata)


def test_outputs_html_and_javascript_and_svg():
    html_out = output("display_data", {"text/html": f"<b>hi</b><img src=x onerror={PWN}>", "text/plain": "hi"})
    js_out = output("display_data", {"application/javascript": PWN, "text/plain": "<IPython.Javascript>"})
    js_only = output("display_data", {"application/javascript": PWN})
    svg = f"<svg xmlns='http://www.w3.org/2000/svg'><script>{PWN}</script><circle r='4'/></svg>"
    svg_out = output("display_data", {"image/svg+xml": svg})
    assert clean_output(html_out) == ["HTML"] and html_out["data"]["text/html"] == "<b>hi</b><img>"
    assert clean_output(js_out) == ["application/javascript"] and set(js_out["data"]) == {"text/plain"}
    clean_output(js_only)
    assert "removed" in js_only["data"]["text/plain"] and "application/javascript" not in js_only["data"]
    clean_output(svg_out)
    shown = svg_out["data"]["text/html"]
    assert shown.startswith('<img src="data:image/svg+xml;base64,') and "image/svg+xml" not in svg_out["data"]
    assert clean_html(shown) == shown  # an SVG inside <img> runs none of its scripts, and the allow-list keeps it
    assert base64.b64decode(shown.split(",", 1)[1].split('"')[0]).decode() == svg


def test_pictures_must_be_real_base64_and_metadata_is_dropped():
    bad = output("display_data", {"image/png": f'x" onerror="{PWN}', "text/plain": "pic"}, width='1" onload="x')
    good = output("display_data", {"image/png": "iVBORw0KGgo=\n"}, framelab="instructor")
    assert "image/png" in clean_output(bad) and "image/png" not in bad["data"] and bad["metadata"] == {}
    assert clean_output(good) == [] and good["metadata"] == {"framelab": "instructor"}


def test_attachments_keep_pictures_only():
    png = base64.b64encode(b"\x89PNG fake").decode()
    page = base64.b64encode(f"<script>{PWN}</script>".encode()).decode()
    kept, dropped = clean_attachments(
        {"p.png": {"image/png": png}, "x.html": {"text/html": page}, "bad.png": {"image/png": '"><script>'}}
    )
    assert kept == {"p.png": {"image/png": png}} and len(dropped) == 2
    cell = reflection("![me](attachment:x.html) and ![p](attachment:p.png)", **{"x.html": {"text/html": page}})
    found = clean_cell(cell)
    assert "attachment 'x.html'" in found and "a missing attachment" in found and cell["attachments"] == {}
    assert "text/html" not in cell.source and runs_nothing(cell.source)


def test_raw_cells_tags_and_grade_ids_cannot_write_markup():
    raw = nbformat.v4.new_raw_cell(f"<script>{PWN}</script>")
    raw.metadata["format"] = "text/html"
    code = nbformat.v4.new_code_cell("1")
    code.metadata["tags"] = ["ok-tag", f'x" onmouseover="{PWN}']
    odd = nbformat.v4.new_markdown_cell("text")
    odd.metadata["nbgrader"] = {"grade_id": f'"><img src=x onerror={PWN}>', "grade": True}
    nb = nbformat.v4.new_notebook(cells=[raw, code, odd])
    nb.metadata["widgets"] = {"state": {}}
    lines = clean_notebook(nb)
    assert len(lines) == 4 and "format" not in raw.metadata and code.metadata["tags"] == ["ok-tag"]
    assert "nbgrader" not in odd.metadata and "widgets" not in nb.metadata


def hostile_notebook() -> nbformat.NotebookNode:
    """Module 1's release with every attack class the issue names, as a trainee could submit it."""
    nb = nbformat.read(ROOT / "release" / "m1_double_bind" / "m1_double_bind.ipynb", as_version=4)
    answer = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = f"A door closing. <img src=x onerror={PWN}> [more](javascript:{PWN})"
    code = nbformat.v4.new_code_cell("display(HTML(...)); display(Javascript(...)); display(SVG(...))")
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' onload='{PWN}'><script>{PWN}</script></svg>"
    code.outputs = [
        output("display_data", {"text/html": f"<img src=x onerror={PWN}><script>{PWN}</script>"}),
        output("display_data", {"application/javascript": PWN}),
        output("display_data", {"image/svg+xml": svg}),
    ]
    page = base64.b64encode(f"<script>{PWN}</script>".encode()).decode()
    pic = nbformat.v4.new_markdown_cell("![look](attachment:look.html)")
    pic["attachments"] = {"look.html": {"text/html": page}}
    nb.cells += [code, pic]
    return nb


def test_the_preprocessor_cleans_and_names_the_notebook_in_one_line(caplog):
    nb = hostile_notebook()
    resources = {"nbgrader": {"student": "t1", "assignment": "m1_double_bind", "notebook": "m1_double_bind"}}
    with caplog.at_level(logging.WARNING):
        SanitizeUntrusted().preprocess(nb, resources)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("t1/m1_double_bind/m1_double_bind: made safe to show")
    assert clean_notebook(nb) == []  # cleaning is done once: the result is already clean


def test_the_course_config_cleans_at_autograde_and_before_every_page():
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    steps = list(config.Autograde.autograde_preprocessors)
    sanitise = steps.index("framelab.preprocessors.SanitizeUntrusted")
    assert steps.index("nbgrader.preprocessors.Execute") < sanitise < steps.index("framelab.formgrade.FormgraderView")
    assert list(config.HTMLExporter.preprocessors) == ["framelab.preprocessors.SanitizeUntrusted"]
    assert SanitizeUntrusted().enabled  # nbgrader lists autograde steps without switching them on


def course_exporter(template: str):
    """An HTMLExporter as formgrader makes its own: the course's config, formgrader's template."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    config.HTMLExporter.template_name = template
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return HTMLExporter(config=config)


def test_formgraders_page_runs_none_of_the_trainees_markup():
    from test_formgrade import formgrader_page

    resources = {"assignment_id": "m1_double_bind", "notebook_id": "m1_double_bind", "submission_id": "s1"}
    resources |= {"index": 0, "total": 1, "base_url": "", "student": "t1", "last_name": "", "first_name": ""}
    resources["notebook_path"] = ""
    page, _ = course_exporter("formgrade").from_notebook_node(hostile_notebook(), resources=resources)
    assert "A door closing." in page and runs_nothing(page)
    unclean = formgrader_page(hostile_notebook())  # the same page without the course's config: it would run
    assert not runs_nothing(unclean)


def test_the_feedback_page_runs_nothing_and_says_so_first_in_its_head():
    from traitlets.config import PyFileConfigLoader

    from framelab.instructor.feedback import FeedbackExporter

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    info = {"notebook": "m1_double_bind", "score": 1.0, "max_score": 20.0, "late_penalty": 0.0}
    nb = hostile_notebook()
    for cell in nb.cells:  # as nbgrader's GetGrades leaves them
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader["score"] = 0.0
    page, _ = FeedbackExporter(config=config).from_notebook_node(nb, resources={"nbgrader": info})
    first = page.split("<head>", 1)[1].lstrip().split(">", 1)[0]  # the first element in <head>
    assert first.startswith("<meta ") and 'http-equiv="Content-Security-Policy"' in first
    assert "default-src 'none';" in first and "script-src" not in first
    assert "A door closing." in page and runs_nothing(page)


def test_attachments_stored_as_lines_are_read_whole():
    lines = ["iVBORw0K\n", "Ggo=\n"]  # a notebook file may store base64 data as a list of lines
    kept, dropped = clean_attachments({"p.png": {"image/png": lines}})
    assert kept == {"p.png": {"image/png": lines}} and dropped == []
