"""The self-study learner's course in a real browser (Debian's chromium, driven by Playwright), on
`make lab` in a workspace inside a copy of the course:

* the course home opens with progress and the next step;
* writing: a double-click (and a click) on an answer cell puts the cursor in it; typed text is saved
  and no cell is added;
* coming back: a module run, saved and closed, with its kernel gone, reopens with a Resume note in
  each interactive cell and never "Error displaying widget";
* the self-check asks before showing unanswered items' answers;
* a practice deck's running tally; the keyboard path through a role-play (type, tick, Respond);
* JupyterLab's own terminal runs `framelab progress` and `framelab check` as the README says;
* `framelab record` writes the record, opened and shot in the browser.

Screenshots go to test-output/selfstudy/ (the course home, a deck's tally, the record, a reopened module).
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import BIN, ROOT, copy_course, run
from test_browser import (
    TOKEN,
    chromium_page,
    dismiss_news,
    open_and_run,
    running_lab,
    shut_down_kernels,
    tab_to,
    unwindowed_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUT = ROOT / "test-output" / "selfstudy"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on a workspace inside a private copy of the course (so self-study checks have the key)."""
    tmp = tmp_path_factory.mktemp("selfstudy-lab")
    course = copy_course(tmp / "course")
    with running_lab(course / "workspace", tmp, settings=unwindowed_settings(tmp)) as url:
        yield url, course / "workspace", tmp / "lab.log"


@pytest.fixture(scope="module")
def page(lab):
    with chromium_page(OUT) as page:
        yield page


def open_notebook(page, url: str, path: str) -> None:
    page.goto(f"{url}/lab/tree/{path}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_timeout(1500)
    dismiss_news(page)


def save(page) -> None:
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)


def test_home_writing_reopening_self_check_tally_and_roleplay(lab, page):
    from playwright.sync_api import expect

    url, workspace, log = lab
    # the course home: where to start, progress and the next step, without running anything
    open_notebook(page, url, "home.ipynb")
    home = page.locator(".jp-OutputArea-output").first
    expect(home).to_contain_text("Next: start Module 0, Orientation")
    expect(home.locator("table")).to_contain_text("Time left")
    page.screenshot(path=str(OUT / "course-home.png"), full_page=True)

    # writing: a double-click on an answer cell, then typing at once
    module = "m3_three_moves"
    open_notebook(page, url, f"{module}/{module}.ipynb")
    cells_before = page.locator(".jp-Notebook .jp-Cell").count()
    answer = page.locator(".jp-MarkdownCell.framelab-answer-cell").first
    answer.scroll_into_view_if_needed()
    answer.dblclick(delay=120)  # at a person's pace: the first press opens the editor before the second lands
    expect(page.locator(".jp-Notebook.jp-mod-editMode")).to_have_count(1, timeout=5_000)
    typed = "I can hear how much this means to you. I won't come, and I'd like to understand what it means."
    page.keyboard.type(typed)  # the "write your answer here" line is selected: typing replaces it
    second = page.locator(".jp-MarkdownCell.framelab-answer-cell").nth(1)
    second.scroll_into_view_if_needed()
    second.click()  # one click is enough for an answer cell
    expect(page.locator(".jp-Notebook.jp-mod-editMode")).to_have_count(1, timeout=5_000)
    page.keyboard.type("Second answer.")
    save(page)
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells_before, "typing added cells"
    saved = json.loads((workspace / module / f"{module}.ipynb").read_text())
    texts = ["".join(c["source"]) for c in saved["cells"]]
    assert len(saved["cells"]) == cells_before
    assert typed in texts and "Second answer." in texts, [t for t in texts if "answer" in t.lower()][:5]
    answer.screenshot(path=str(OUT / "m3-answer-typed.png"))

    use_module_0(page, url, workspace)
    roleplay_by_keyboard(page, url, workspace)
    assert "without encryption" not in log.read_text() and "is not trusted" not in log.read_text()


def use_module_0(page, url: str, workspace: Path) -> None:
    """Module 0: the deck's tally, the self-check's question, then closed, kernel gone, and reopened."""
    from playwright.sync_api import expect

    module = "m0_orientation"
    open_and_run(page, url, module)
    deck = page.locator(".framelab-practice").first
    deck.scroll_into_view_if_needed()
    for n in range(1, 4):
        expect(deck).to_contain_text(f"Practice item {n} of", timeout=10_000)  # the kernel has moved on
        deck.get_by_role("checkbox").first.check()
        deck.get_by_role("button", name="Check").click()
        expect(deck.locator(".framelab-tally")).to_contain_text(f"of {n} checked items", timeout=10_000)
        deck.get_by_role("button", name="Next").click()
    deck.screenshot(path=str(OUT / "deck-tally.png"))

    check = page.locator(".framelab-selfcheck")
    check.scroll_into_view_if_needed()
    check.get_by_role("button", name="Check my graded answers").click()
    expect(check.get_by_role("alert")).to_contain_text("You have not answered 3 of the 3", timeout=60_000)
    check.screenshot(path=str(OUT / "self-check-asks.png"))
    check.get_by_role("button", name="Check my answered items").click()
    expect(check.get_by_role("alert")).to_contain_text("0 of 3 graded items right")
    expect(check.get_by_role("alert")).not_to_contain_text("the answer is")

    save(page)
    shut_down_kernels(url)
    page.goto("about:blank")
    open_notebook(page, url, f"{module}/{module}.ipynb")
    page.wait_for_timeout(3000)  # the widget manager has looked for its models
    notes = page.locator(".framelab-resume")
    expect(notes.first).to_be_visible(timeout=30_000)
    assert notes.count() >= 3, notes.count()
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
    notes.first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "reopened.png"))
    shut_down_kernels(url)


def roleplay_by_keyboard(page, url: str, workspace: Path) -> None:
    """Module 3's role-play by keyboard alone: type the reply, Tab to a tick box, Space, Tab on to Respond, Enter."""
    from playwright.sync_api import expect

    module = "m3_three_moves"
    open_and_run(page, url, module)
    play = page.locator(".framelab-roleplay").first
    play.scroll_into_view_if_needed()
    box = play.get_by_role("textbox").first
    box.focus()
    page.keyboard.type(
        "I can hear how much you'd like me there. I won't come, to keep this space yours. What made you ask?"
    )
    tick = play.get_by_role("checkbox").first
    tab_to(page, tick, 10)
    page.keyboard.press("Space")
    expect(tick).to_be_checked()
    respond = play.get_by_role("button", name="Respond")
    tab_to(page, respond, 12)
    page.keyboard.press("Enter")
    expect(play).to_contain_text("Turn 2", timeout=60_000)
    sideways = play.evaluate(
        """e => [e, ...e.querySelectorAll('*')].filter(x => x.scrollWidth > x.clientWidth + 1
            && ['auto', 'scroll'].includes(getComputedStyle(x).overflowX)).map(x => x.className)"""
    )
    assert not sideways, f"parts of the role-play scroll sideways: {sideways}"
    play.screenshot(path=str(OUT / "roleplay-keyboard.png"))
    shut_down_kernels(url)


def test_the_terminal_follows_the_readme_and_the_record_is_written(lab, page):
    """JupyterLab's own terminal (its REST and websocket API, as the Terminal tab uses them): framelab is on
    the PATH, and progress and check work from inside the workspace and a module folder."""
    url, workspace, _ = lab
    out = terminal(
        url, ["framelab progress", "cd m0_orientation && framelab check --no-validate", "command -v framelab"]
    )
    assert "command not found" not in out, out
    assert "Orientation" in out and "graded items right" in out, out
    assert str(BIN / "framelab") in out, out

    proc = run([str(BIN / "framelab"), "record"], cwd=workspace)
    record = Path(proc.stdout.split("record: ")[1].split(" (")[0])
    page.goto(record.as_uri())
    assert "record of course work" in page.content()
    page.screenshot(path=str(OUT / "record.png"), full_page=True)


def terminal(url: str, commands: list[str], timeout: float = 60) -> str:
    import asyncio

    from tornado.websocket import websocket_connect

    req = urllib.request.Request(f"{url}/api/terminals?token={TOKEN}", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as resp:
        name = json.load(resp)["name"]

    async def talk() -> str:
        ws = await websocket_connect(f"{url.replace('http', 'ws')}/terminals/websocket/{name}?token={TOKEN}")
        text = ""
        # the end marker is worked out by the shell, so that the echo of the typed line does not end the wait
        await ws.write_message(json.dumps(["stdin", " ; ".join(commands) + " ; echo FRAMELAB-$((1 + 1))-DONE\r"]))
        deadline = time.monotonic() + timeout
        while "FRAMELAB-2-DONE" not in text and time.monotonic() < deadline:
            msg = await asyncio.wait_for(ws.read_message(), timeout=timeout)
            if msg is None:
                break
            kind, *rest = json.loads(msg)
            if kind == "stdout":
                text += rest[0]
        ws.close()
        return text

    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # a loop of its own (Playwright runs one in this thread)
            return pool.submit(lambda: asyncio.run(talk())).result()
    finally:
        urllib.request.urlopen(
            urllib.request.Request(f"{url}/api/terminals/{name}?token={TOKEN}", method="DELETE"), timeout=30
        )
