"""One real-browser test: JupyterLab serves Module 3, and its views render and respond.

Debian's chromium, driven by Playwright. A missing browser fails this test; it is not skipped.
Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT
from test_lab import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
OUT = ROOT / "test-output" / "browser"
TOKEN = "framelab-browser-test"
MODULE = "m3_three_moves"
NOTEBOOK = f"{MODULE}/{MODULE}.ipynb"


@pytest.fixture
def lab(tmp_path):
    workspace = tmp_path / "workspace"
    port = free_port()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"WORKSPACE={workspace}", f"PORT={port}"],
        cwd=ROOT,
        # a private layout store, so no tabs are restored from another session
        env={
            **os.environ,
            "JUPYTER_TOKEN": TOKEN,
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "layouts"),
            # the test switches themes: keep that out of the real user settings
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, "make lab exited before serving"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", workspace
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def dismiss_news(page) -> None:
    """JupyterLab may ask once whether to fetch news; answer no (there is no network)."""
    no = page.get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click()


def run_all(page) -> None:
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells").first.click()


def test_module_3_renders_and_the_client_responds(lab):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    url, workspace = lab
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            drive(page, url)
        except Exception:
            page.screenshot(path=str(OUT / "failure.png"))
            raise
        finally:
            browser.close()

    saved = list((workspace / MODULE).glob("roleplay-*.json"))
    assert saved, "the role-play did not save its transcript beside the notebook"


def drive(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/lab/tree/{NOTEBOOK}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_timeout(2000)
    dismiss_news(page)
    run_all(page)

    # the graded menus and the practice deck render
    page.wait_for_selector(".framelab-exercise", timeout=90_000)
    page.wait_for_selector(".framelab-practice", timeout=30_000)

    # the role-play: type a reply, tick its moves, respond
    play = page.locator(".framelab-roleplay").first
    play.scroll_into_view_if_needed()
    expect(play).to_contain_text("Turn 1", timeout=30_000)
    expect(play).to_contain_text("Client", timeout=30_000)
    play.get_by_role("textbox", name="Your reply").fill(
        "I'd love to, honestly, but things are mad at the moment. Maybe after the summer?"
    )
    # keyboard only: focus the box and press Space, as a screen-reader user would
    dodge = play.get_by_role("checkbox", name="Gentle dodge")
    dodge.focus()
    page.keyboard.press("Space")
    expect(dodge).to_be_checked()
    play.get_by_role("checkbox", name="Mixed message").check()
    play.get_by_role("button", name="Respond").click()
    page.wait_for_function(
        "() => document.querySelector('.framelab-roleplay').innerText.includes('Turn 2')", timeout=30_000
    )
    # the detector's second opinion: what it heard, with confidence and cue phrases
    expect(play).to_contain_text("The detector heard: Gentle dodge (", timeout=30_000)
    play.screenshot(path=str(OUT / "roleplay-light.png"))

    # finish with a full reply until the debrief opens
    for _ in range(4):
        if play.get_by_role("button", name="Respond").is_disabled():
            break
        play.get_by_role("textbox", name="Your reply").fill(
            "I can hear how much this means to you. I won't, because keeping this to our sessions keeps it "
            "safe for you. Could we look at what made you ask?"
        )
        for name in ("Validate the feeling", "State the boundary", "Re-center on the work"):
            play.get_by_role("checkbox", name=name).check()
        play.get_by_role("button", name="Respond").click()
        page.wait_for_timeout(1500)
    page.wait_for_function(
        "() => document.querySelector('.framelab-roleplay').innerText.includes('Model responses')",
        timeout=30_000,
    )
    text = play.inner_text()
    assert "Debrief" in text and "Level 3" in text
    play.screenshot(path=str(OUT / "debrief-light.png"))

    # dark theme: the same view stays readable (theme colours, not fixed ones)
    page.keyboard.press("Control+Shift+C")  # the command palette
    page.locator(".lm-CommandPalette-input").fill("JupyterLab Dark")
    page.locator(".lm-CommandPalette-item").filter(has_text="JupyterLab Dark").first.click()
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    play.scroll_into_view_if_needed()
    play.screenshot(path=str(OUT / "debrief-dark.png"))
