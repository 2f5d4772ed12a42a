"""Formgrader shows a reflection still to hand-grade as pending, never as a score counting it 0 (issue 28).

Module 1 is submitted by two simulated trainees and graded with ``framelab grade``; the second one's
reflection is then hand-graded, the first one's (4 points) is still waiting. In Debian's Chromium,
formgrader (nbgrader's server extension with Frame Lab's) lists the assignment's submissions, the
trainee's assignments and notebooks, and the notebook's submissions: the trainee's row reads "pending"
in its score columns, with no "N / 20"; the hand-graded trainee's row keeps its score. As a control, the same page
with Frame Lab's script blocked shows nbgrader's own "N / 20", so the test can fail. The same script
takes away formgrader's Autograde button (the server refuses it anyway: it would run trainee code
unsandboxed).
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from conftest import ROOT
from test_lab import free_port
from test_markup_browser import CHROMIUM, TOKEN, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

A = "m1_double_bind"
WAITING = "trainee001"
MARKED = "trainee002"
LIST = "the assignment's submissions"
SCORE = re.compile(r"\d+(\.\d+)? / \d+")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """Two simulated trainees graded; the second one's reflection hand-graded, the first one's waiting."""
    from nbgrader.api import Gradebook

    from framelab.grading import command as grading
    from framelab.instructor.demo import prepare_course

    course = tmp_path_factory.mktemp("pending") / "course"
    prepare_course(course, root=ROOT, trainees=2, assignments=[A], say=lambda *_: None)
    run = grading.grade(course, A, jobs=2, progress=False)
    graded = {o.student: o for o in run.by_status("graded")}
    assert set(graded) == {WAITING, MARKED}, run.summary()
    assert all(o.points and o.points[2] > 0 for o in graded.values()), "nothing to hand-grade: the test proves nothing"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for notebook in gb.find_submission(A, MARKED).notebooks:
            for grade in notebook.grades:
                if grade.needs_manual_grade:
                    grade.manual_score = grade.max_score
                    grade.needs_manual_grade = False  # as formgrader does when a score is entered
        gb.db.commit()
        assert not gb.find_submission(A, MARKED).needs_manual_grade
        assert gb.find_submission(A, WAITING).needs_manual_grade
    return course


def rows(page) -> list[tuple[str, str, str]]:
    """Each row of formgrader's table once drawn: its whole text (hidden names included), its score
    cell and its written-score cell."""
    page.wait_for_function("() => !document.querySelector('#main-table').innerText.includes('Loading')")
    page.wait_for_timeout(300)
    out = []
    for row in page.query_selector_all("#main-table tr"):
        cells = [row.query_selector(f"td.{name}") for name in ("score", "written-score")]
        out.append((row.text_content() or "", *(c.inner_text().strip() if c else "" for c in cells)))
    return out


def test_formgrader_shows_pending_work_as_pending(course):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    port = 20000 + free_port() % 20000
    server = start_server(course, port)
    base = f"http://127.0.0.1:{port}/formgrader"
    pages = {
        LIST: f"{base}/manage_submissions/{A}",
        "the trainee's assignments": f"{base}/manage_students/{WAITING}",
        "the trainee's notebooks": f"{base}/manage_students/{WAITING}/{A}",
        "the notebook's submissions": f"{base}/gradebook/{A}/{A}",
        "the trainees": f"{base}/manage_students",  # a total over assignments, asked of the API per trainee
    }
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            # formgrader's lists fetch their rows from its API: every request carries the token
            browser = chromium.new_context(extra_http_headers={"Authorization": f"token {TOKEN}"})
            try:
                for what, url in pages.items():
                    page = browser.new_page()
                    page.goto(f"{url}?token={TOKEN}", wait_until="load")
                    if what == "the trainees":  # marked once the trainee's submissions have been fetched
                        page.wait_for_selector("#main-table .framelab-pending", timeout=30_000)
                    table = rows(page)
                    # rows name the trainee, or on the trainee's own pages, the assignment
                    mine = [r for r in table if WAITING in r[0]] or [r for r in table if r[0].strip().startswith(A)]
                    assert mine, f"{what}: no row for {WAITING}: {table}"
                    for text, score, written in mine:
                        assert score == "pending", f"{what}: the score shows {score!r}: {text!r}"
                        assert written in ("pending", ""), f"{what}: the written score shows {written!r}: {text!r}"
                    if what == LIST:  # and no Autograde button (it would run trainee code unsandboxed)
                        assert not page.query_selector_all("#main-table .glyphicon-flash"), what
                        assert page.query_selector_all("#main-table .framelab-no-autograde"), what
                    if what in (LIST, "the notebook's submissions", "the trainees"):
                        marked = [r for r in table if MARKED in r[0]]
                        assert marked and SCORE.fullmatch(marked[0][1]), f"{what}: {marked}"
                    page.close()
                # the control: nbgrader's own page, without Frame Lab's script, counts the reflection as 0
                page = browser.new_page()
                page.route("**/framelab/formgrader/pending.js", lambda route: route.abort())
                page.goto(f"{pages[LIST]}?token={TOKEN}", wait_until="load")
                stock = [r for r in rows(page) if WAITING in r[0]]
                assert stock and SCORE.fullmatch(stock[0][1]), f"without the script: {stock}"
                assert page.query_selector_all("#main-table .glyphicon-flash")  # nbgrader's own Autograde button
                page.close()
            finally:
                chromium.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
