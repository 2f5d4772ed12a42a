"""Markup a trainee submits never runs where an instructor or a trainee reads it, in a real browser.

Module 1 is submitted with the adversarial corpus's markup cases (``markup_*`` in tests/adversarial.py:
a written answer with ``<img onerror>`` and a ``javascript:`` link; ``display(HTML(...))``,
``display(Javascript(...))`` and a scripted SVG as outputs; HTML and SVG attachments), graded with
``framelab grade`` and given feedback. Each payload would set ``window.__pwned`` and write
``pwned.txt`` into the course root through the Jupyter contents API. In Debian's Chromium:

* formgrader itself (nbgrader's server extension on a Jupyter server in the course root, with
  Frame Lab's server extension) shows each submission; the flag stays unset, no request writes
  through the contents API, and no file appears in the course;
* each trainee's feedback page, opened as a file, runs nothing either;
* and the same notebook drawn without the course's cleaning *does* set the flag in this browser, so
  the payloads are real and the test can fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import BIN, ROOT
from test_lab import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

A = "m1_double_bind"
CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "framelab-markup-test"
MARKUP = ["markup_reflection", "markup_outputs", "markup_attachment"]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """Module 1 submitted with the markup cases (and blank, wrong, solution), graded, feedback made."""
    from adversarial import CHEATS, write_corpus

    from framelab.grading import command as grading
    from framelab.instructor.demo import prepare_course
    from framelab.instructor.feedback import generate

    course = tmp_path_factory.mktemp("markup") / "course"
    prepared = prepare_course(course, root=ROOT, trainees=1, assignments=[A], say=lambda *_: None)
    shutil.rmtree(course / "submitted", ignore_errors=True)
    write_corpus(course, A, prepared.bank, [c for c in CHEATS if c.name in MARKUP])
    run = grading.grade(course, A, jobs=2, progress=False)
    assert {o.student for o in run.by_status("graded")} >= set(MARKUP), run.summary()
    made = generate(course, A, jobs=2, allow_pending=True, progress=False)
    assert {o.student for o in made.by_status("made")} >= set(MARKUP), made.summary()
    return course


def pwned_files(course: Path) -> list[Path]:
    return [p for p in course.rglob("pwned*") if p.is_file()]


def start_server(course: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    cmd += [f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={course}", "--ServerApp.port_retries=0"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(
        cmd, cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
            return server
        except OSError:
            assert server.poll() is None, "jupyter server exited before serving"
            time.sleep(0.5)
    raise AssertionError("jupyter server did not answer in 120 s")


def visit(browser, url: str) -> tuple[object, list[str], str]:
    """Open ``url``, let every handler and timer fire; returns the flag, the writes asked for, and the text."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    writes: list[str] = []
    page.on("request", lambda r: writes.append(f"{r.method} {r.url}") if r.method in ("PUT", "POST") else None)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)
    flag = page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
    text = page.inner_text("body")
    page.close()
    return flag, writes, text


def test_formgrader_and_feedback_run_none_of_it(course, tmp_path):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.api import Gradebook
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        ids = {who: gb.find_submission_notebook(A, A, who).id for who in MARKUP}
    # the control: the reflection as submitted, drawn by a stock exporter with none of the course's cleaning
    raw = nbformat.read(course / "submitted" / "markup_reflection" / A / f"{A}.ipynb", as_version=4)
    control = tmp_path / "control.html"
    control.write_text(HTMLExporter().from_notebook_node(raw)[0], encoding="utf-8")
    port = 20000 + free_port() % 20000
    server = start_server(course, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            try:
                flag, _, _ = visit(browser, control.as_uri())
                assert flag == 1, "the payload did not run even uncleaned: this test would prove nothing"
                for who, sid in ids.items():
                    url = f"http://127.0.0.1:{port}/formgrader/submissions/{sid}/?token={TOKEN}"
                    flag, writes, text = visit(browser, url)
                    assert flag is None, f"{who}: a script ran in formgrader"
                    assert not [w for w in writes if "/api/contents" in w], f"{who}: {writes}"
                    assert "what this trainee chose in the menus" in text, f"{who}: formgrader drew no submission"
                    feedback = course / "feedback" / who / A / f"{A}.html"
                    flag, writes, _ = visit(browser, feedback.as_uri())
                    assert flag is None and not writes, f"{who}: a script ran in the feedback page"
                _, _, text = visit(
                    browser, f"http://127.0.0.1:{port}/formgrader/submissions/{ids[MARKUP[0]]}/?token={TOKEN}"
                )
                assert "A door closing." in text  # the trainee's own words are still there, as text
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert not pwned_files(course), pwned_files(course)
