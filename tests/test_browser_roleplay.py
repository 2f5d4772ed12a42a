"""The role-play in a real browser (Debian's chromium, driven by Playwright), on `make lab` in a fresh
workspace: Module 3's role-play is played by keyboard through a backfire (a cold rule), a repair that lands,
and a re-centring question; after each Respond the keyboard focus is back in the reply box; Restart asks
first and, answered "keep", clears nothing.

Screenshots go to test-output/roleplay/ (the rupture, the repair, the re-centring answer, the confirm step).
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from test_browser import chromium_page, open_and_run, running_lab, shut_down_kernels, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUT = ROOT / "test-output" / "roleplay"
MODULE = "m3_three_moves"
COLD = "I'm afraid the ethics code and our service policy don't permit that."
REPAIR = (
    "I'm sorry, that came out cold, and I got that wrong. Thank you for telling me. "
    "What was it like for you to hear me say it that way?"
)
QUESTION = "What do you think made today feel like the moment to ask me?"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roleplay-lab")
    with running_lab(tmp / "workspace", tmp) as url:
        yield url, tmp / "workspace"


@pytest.fixture(scope="module")
def page(lab):
    with chromium_page(OUT) as page:
        yield page


def say(page, play, text: str, turn: int) -> None:
    """Type into the focused reply box (no click: focus must already be there), Tab to Respond, Enter."""
    from playwright.sync_api import expect

    box = play.get_by_role("textbox").first
    expect(box).to_be_focused(timeout=15_000)
    page.keyboard.type(text)
    respond = play.get_by_role("button", name="Respond")
    tab_to(page, respond, 14)
    page.keyboard.press("Enter")
    expect(play).to_contain_text(f"Turn {turn + 1}.", timeout=90_000)


def test_a_backfire_a_repair_and_a_recentring_question_by_keyboard_and_restart_asks_first(lab, page):
    from playwright.sync_api import expect

    url, workspace = lab
    open_and_run(page, url, MODULE)
    play = page.locator(".framelab-roleplay").first
    play.scroll_into_view_if_needed()
    play.get_by_role("textbox").first.focus()  # the first time only: after this, Respond gives focus back

    say(page, play, COLD, 1)  # a cold rule: the client reacts and waits, and the conversation goes on
    expect(play.locator("[role='alert']")).to_contain_text("the smile goes", timeout=15_000)
    expect(play).to_contain_text("one hand on the zip of her bag", timeout=15_000)  # the scenario's pause line
    play.screenshot(path=str(OUT / "1-rupture.png"))

    say(page, play, REPAIR, 2)  # the repair lands: the client goes on
    expect(play.locator("[role='alert']")).to_contain_text("Thank you", timeout=15_000)
    play.screenshot(path=str(OUT / "2-repair.png"))

    say(page, play, QUESTION, 3)  # a re-centring question gets an answer, not another question echoed back
    answer = play.locator("[role='alert']")
    expect(answer).to_contain_text("(slowly)", timeout=15_000)
    assert not re.match(r"Client:\s*(\([^)]*\)\s*)?(What|Why|How)\b[^.?!]*\?", answer.inner_text().strip())
    play.screenshot(path=str(OUT / "3-recentre.png"))
    expect(play.get_by_role("textbox").first).to_be_focused()

    # Restart asks first; "keep" clears nothing and sends the keyboard back to the conversation
    play.get_by_role("button", name="Restart").click()
    expect(play).to_contain_text("Start this conversation again?", timeout=15_000)
    keep = play.get_by_role("button", name="Keep this conversation")
    expect(keep).to_be_focused(timeout=15_000)
    play.screenshot(path=str(OUT / "4-restart-asks.png"))
    page.keyboard.press("Enter")
    expect(play).not_to_contain_text("Start this conversation again?", timeout=15_000)
    expect(play).to_contain_text(COLD)
    expect(play.get_by_role("textbox").first).to_be_focused(timeout=15_000)
    saved = workspace / MODULE / "roleplay-graduation-day.json"
    assert saved.exists() and COLD in saved.read_text()
    shut_down_kernels(url)
