"""The real browser: all seven modules in JupyterLab, run from the top, used, and checked with axe-core.

Debian's chromium (/usr/bin/chromium), driven by Playwright; npm's axe-core, installed once into
test-output/node/ (git-ignored). A missing browser or npm fails the test; it is not skipped.

For every module: Run All leaves no error output, no object text (``<framelab.views.widgets.X at 0x...>``)
and no line printed twice; axe-core, scoped to the notebook's output areas (what the course draws),
finds no violation of WCAG 2.1 A/AA or axe's best practices, in the light and the dark theme.
Across the modules, each kind of view is used once: a graded menu (its check line is replaced),
tick boxes, the practice deck (by keyboard), the one-turn reply (by keyboard), a role-play reply,
"Check my graded answers" and the progress Refresh. Every single choice is a radio group: the test
moves it with the arrow keys (light and dark) and checks that the kernel got the new choice. Every
written answer cell is drawn as an answer area (border and tint) unlike the course text above it,
in both themes; formgrader's page sets the answer apart too. Screenshots go to test-output/browser/,
the axe results to test-output/browser/axe.json. (FRAMELAB_BROWSER_ONLY=m3 runs the modules whose folder
starts with m3 only, while working on one view; the suite runs them all.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_lab import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
OUT = ROOT / "test-output" / "browser"
NODE = ROOT / "test-output" / "node"
AXE = NODE / "node_modules" / "axe-core" / "axe.min.js"
TOKEN = "framelab-browser-test"
MODULES = [
    "m0_orientation",
    "m1_double_bind",
    "m2_transference",
    "m3_three_moves",
    "m4_boundary_map",
    "m5_alliance",
    "m6_capstone",
]
VIEWS = ".framelab-view, .framelab-roleplay"
#: Tags of the axe rules applied: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core 4 from npm, installed into a test-only folder the first time."""
    if not AXE.exists():
        npm = shutil.which("npm")
        assert npm, "npm is missing: install Debian's npm (apt-get install npm) for axe-core"
        NODE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(NODE), "--no-audit", "--no-fund", "axe-core@4"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    # inside the course folder, as a self-study learner's is, so that checking has the answer key
    workspace = ROOT / "test-output" / "browser-workspace"
    if workspace.exists():
        shutil.rmtree(workspace)
    with running_lab(workspace, tmp, settings=unwindowed_settings(tmp)) as url:
        yield url, workspace


def unwindowed_settings(tmp: Path) -> Path:
    """A private JupyterLab settings folder in which every cell stays in the page (no windowing), so that
    each output can be checked."""
    settings = tmp / "settings"
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    return settings


@contextmanager
def running_lab(workspace: Path, tmp: Path, settings: Path | None = None) -> Iterator[str]:
    """`make lab` on ``workspace`` at a free port, with a private layout store (and ``settings``, where given)
    so that nothing comes from or goes to another session, its output in ``tmp/lab.log``; yields its address
    once it answers, and stops it after."""
    port = free_port()
    env = {**os.environ, "JUPYTER_TOKEN": TOKEN, "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "layouts")}
    if settings is not None:
        env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    with (tmp / "lab.log").open("w") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"WORKSPACE={workspace}", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield wait_until_serving(proc, port, tmp / "lab.log")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path | None = None) -> str:
    """The lab's address once `make lab` answers on ``port`` (two minutes at most); fails at once, with its
    log where there is one, if it exits first."""
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
            return f"http://127.0.0.1:{port}"
        except OSError:
            assert proc.poll() is None, "make lab exited before serving" + (f":\n{log.read_text()}" if log else "")
            time.sleep(0.5)
    raise AssertionError(f"make lab did not answer on port {port} within two minutes")


@contextmanager
def chromium_page(out: Path) -> Iterator[Any]:
    """One page of headless Chromium (1280 x 1000), with ``out`` emptied for its screenshots; a screenshot
    of the page is kept there if the test fails."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            yield page
        except Exception:
            page.screenshot(path=str(out / "failure.png"))
            raise
        finally:
            browser.close()


def test_every_module_runs_cleanly_and_passes_axe(lab, axe_script):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    url, workspace = lab
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    results: dict[str, dict[str, list]] = {}
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            for module in [m for m in MODULES if m.startswith(os.environ.get("FRAMELAB_BROWSER_ONLY", "m"))]:
                open_and_run(page, url, module)
                problems += output_problems(page, module)
                USE.get(module, lambda page: None)(page)
                shoot(page, module, "light")
                problems += answer_cell_problems(page, module, "light")
                results[module] = {"light": run_axe(page, axe_script)}
                set_theme(page, "JupyterLab Dark")
                USE_DARK.get(module, lambda page: None)(page)
                shoot(page, module, "dark")
                problems += answer_cell_problems(page, module, "dark")
                results[module]["dark"] = run_axe(page, axe_script)
                set_theme(page, "JupyterLab Light")
                shut_down_kernels(url)
        except Exception:
            page.screenshot(path=str(OUT / "failure.png"))
            raise
        finally:
            (OUT / "axe.json").write_text(json.dumps(results, indent=1))
            browser.close()

    assert not problems, "\n".join(problems)
    found = [
        f"{module} ({theme}): {v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(n["html"][:160] for n in v["nodes"][:3])
        for module, themes in results.items()
        for theme, violations in themes.items()
        for v in violations
    ]
    assert not found, "axe-core found, in the course's own outputs:\n" + "\n".join(found)
    if "m3_three_moves" in results:
        assert list((workspace / "m3_three_moves").glob("roleplay-*.json")), "the role-play did not save its transcript"
    if "m0_orientation" in results:
        assert (workspace / "m0_orientation" / "answers.json").exists(), "the graded menu did not save the choice"


# --------------------------------------------------------------------------- steps


def open_and_run(page, url: str, module: str) -> None:
    page.goto(f"{url}/lab/tree/{module}/{module}.ipynb?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_timeout(2000)  # the kernel's session settles
    dismiss_news(page)
    for _ in range(3):  # a Run All given while the kernel is still connecting can be lost: give it again
        page.keyboard.press("Escape")
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells").first.click()
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
                ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))",
                timeout=20_000,
            )
            break
        except Exception:
            continue
    # every code cell has run: its prompt shows a number, not [ ] or [*]
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=180_000,
    )
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_timeout(1000)  # the widgets' views render after the kernel is idle


def dismiss_news(page) -> None:
    """JupyterLab may ask once whether to fetch news; answer no (there is no network)."""
    no = page.get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click()


def output_problems(page, module: str) -> list[str]:
    """Error output, object text, or a line printed twice in one cell's output."""
    problems = []
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'],"
        " .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
    )
    for n in range(errors.count()):
        problems.append(f"{module}: error output: {errors.nth(n).inner_text()[:300]}")
    areas = page.locator(".jp-Cell .jp-OutputArea")
    for n in range(areas.count()):
        text = areas.nth(n).inner_text()
        if re.search(r"<[\w.]+ (object )?at 0x[0-9a-f]+>", text):
            problems.append(f"{module}: object text in an output: {text[:200]}")
        lines = [x.strip().strip("'\"") for x in text.splitlines() if x.strip().strip("'\"")]
        doubled = {x for x in lines if lines.count(x) > 1 and x.startswith("Item ")}
        if doubled:
            problems.append(f"{module}: printed twice: {sorted(doubled)[:3]}")
    if not page.locator(VIEWS).count():
        problems.append(f"{module}: no Frame Lab view rendered")
    shared = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea [role=radiogroup]')].map(
            g => [...new Set([...g.querySelectorAll('input[type=radio]')].map(r => r.name))].join(' '))"""
    )
    if len(set(shared)) != len(shared) or any(" " in names or not names for names in shared):
        problems.append(f"{module}: radio groups do not each have one name of their own: {shared}")
    return problems


def run_axe(page, script: Path) -> list[dict]:
    """axe-core on the notebook's output areas only (JupyterLab's own interface is not ours)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run('.jp-OutputArea-output', {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({html: n.html, target: n.target, summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


def set_theme(page, name: str) -> None:
    # a widget's text box keeps its keys from JupyterLab (the role-play puts focus back in its reply box)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")  # the command palette
    page.locator(".lm-CommandPalette-input").fill(name)
    page.locator(".lm-CommandPalette-item").filter(has_text=name).first.click()
    light = "true" if "Light" in name else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000)
    page.wait_for_timeout(300)


def shoot(page, module: str, theme: str) -> None:
    """One screenshot per view, so that each can be looked at."""
    views = page.locator(VIEWS)
    for n in range(views.count()):
        view = views.nth(n)
        kind = (view.get_attribute("class") or "").split()
        name = next((c for c in kind if c.startswith("framelab-") and c != "framelab-view"), "framelab-view")
        view.scroll_into_view_if_needed()
        view.screenshot(path=str(OUT / f"{module}-{n:02d}-{name[9:]}-{theme}.png"))


def shut_down_kernels(url: str) -> None:
    """Each module's kernel is stopped once it has been checked (the machine has 2 cores)."""
    with urllib.request.urlopen(f"{url}/api/kernels?token={TOKEN}", timeout=30) as resp:
        kernels = json.load(resp)
    for kernel in kernels:
        req = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}?token={TOKEN}", method="DELETE")
        urllib.request.urlopen(req, timeout=30)


# --------------------------------------------------------------------------- one use of each kind of view


def use_menu_and_progress(page) -> None:
    """Module 0: a graded menu (its check line below is replaced), then the progress Refresh."""
    from playwright.sync_api import expect

    menu = page.locator(".framelab-exercise select").first
    release = (ROOT / "release" / "m0_orientation" / "m0_orientation.ipynb").read_text(encoding="utf-8")
    iid = re.search(r'check_answer\(\w+, \\"(m0-[\w-]+)\\"', release)[1]  # the first item's check cell
    line = page.locator(".jp-OutputArea-output").filter(has_text="Item 1:")
    expect(line).to_contain_text("not answered yet")
    menu.select_option(index=1)
    expect(line).to_have_text("Item 1: answered.", timeout=10_000)  # its place, as the menu says
    assert not page.locator(".jp-OutputArea-output").filter(has_text=iid).count()  # never the bank's id
    progress = page.locator(".framelab-progress")
    progress.scroll_into_view_if_needed()
    start = time.perf_counter()
    expect(progress).to_contain_text("Up to date", timeout=60_000)  # the scores, worked out in the background
    print(f"\nprogress scores ready {time.perf_counter() - start:.2f} s after the view was used")
    button = progress.get_by_role("button", name="Refresh")
    expect(button).to_be_enabled(timeout=60_000)  # the first reading (the course's bank) has finished
    button.scroll_into_view_if_needed()
    start = time.perf_counter()
    button.evaluate("b => b.click()")  # pressed now (Playwright's own click first waits for the page to settle)
    expect(progress.locator("td").filter(has_text="1 of 3").first).to_be_visible(timeout=30_000)
    expect(button).to_be_enabled(timeout=30_000)
    expect(button).to_be_enabled()
    print(f"\nprogress Refresh in the browser: {time.perf_counter() - start:.2f} s")


def use_reply_practice_and_self_check(page) -> None:
    """Module 1: the one-turn reply and the practice deck by keyboard, then "Check my graded answers"."""
    from playwright.sync_api import expect

    picker = page.locator(".framelab-reply-picker")
    picker.scroll_into_view_if_needed()
    said = say_by_keyboard(page, picker, "Space", 0)  # Space chooses the focused reply
    said = say_by_keyboard(page, picker, "ArrowRight", 1, said)  # the arrow moves the choice, and the kernel has it

    deck = page.locator(".framelab-practice").first
    deck.scroll_into_view_if_needed()
    deck.get_by_role("checkbox").first.focus()
    page.keyboard.press("Space")
    deck.get_by_role("button", name="Check").focus()
    page.keyboard.press("Enter")
    expect(deck.get_by_role("alert")).to_contain_text("Why:", timeout=10_000)

    check = page.locator(".framelab-selfcheck")
    check.scroll_into_view_if_needed()
    button = check.get_by_role("button", name="Check my graded answers")
    button.scroll_into_view_if_needed()
    for press in ("first press (may wait for the answer key, still loading)", "second press"):
        start = time.perf_counter()
        button.evaluate("b => b.click()")  # pressed now (Playwright's own click first waits for the page to settle)
        # nothing is answered yet: it asks before showing any answer, and shows only answered items if told
        expect(check.get_by_role("alert")).to_contain_text("not answered", timeout=60_000)
        check.get_by_role("button", name="Check my answered items").click()
        expect(check.get_by_role("alert")).to_contain_text("graded items right", timeout=60_000)
        expect(check.get_by_role("alert")).not_to_contain_text("the answer is")
        expect(button).to_be_enabled(timeout=30_000)
        print(f"\nCheck my graded answers in the browser, {press}: {time.perf_counter() - start:.2f} s")
        check.evaluate("v => v.querySelector('[role=alert]').remove()")  # so that the next answer is seen anew


def tab_to(page, target, most: int) -> None:
    """Press Tab, at most ``most`` times, until ``target`` has focus, as a keyboard user reaches it; then check
    that it has."""
    from playwright.sync_api import expect

    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            break
    expect(target).to_be_focused()


def say_by_keyboard(page, picker, key: str, expected: int, before: str = "") -> str:
    """In the reply picker's radio group: come back to it with Shift+Tab from "Say it", press ``key``, check that
    reply ``expected`` (0 = A) is the one checked and focused, then Tab to "Say it" and press Enter.
    Returns what the client said, which must differ from ``before`` (the kernel got the new choice)."""
    from playwright.sync_api import expect

    group = picker.get_by_role("radiogroup", name="Your reply")
    radios = group.get_by_role("radio")
    say = picker.get_by_role("button", name="Say it")
    if before:  # a reply is chosen: Shift+Tab from "Say it" comes back to it (the group is one stop)
        say.focus()
        page.keyboard.press("Shift+Tab")
    else:
        radios.first.focus()  # as Tab from above reaches it, when nothing is chosen yet
    page.keyboard.press(key)
    for n in range(radios.count()):
        (expect(radios.nth(n)).to_be_checked if n == expected else expect(radios.nth(n)).not_to_be_checked)()
    expect(radios.nth(expected)).to_be_focused()
    page.keyboard.press("Tab")  # Tab leaves the group
    expect(say).to_be_focused()
    page.keyboard.press("Enter")
    reaction = picker.get_by_role("alert")
    expect(reaction).to_contain_text("What that reply did", timeout=10_000)
    if before:
        expect(reaction).not_to_have_text(before, timeout=10_000)
    return reaction.inner_text()


def use_reply_in_dark(page) -> None:
    """Module 1 again, in the dark theme: the arrow key moves the reply picker's choice on to C."""
    picker = page.locator(".framelab-reply-picker")
    picker.scroll_into_view_if_needed()
    say_by_keyboard(page, picker, "ArrowRight", 2, picker.get_by_role("alert").inner_text())


def choose_by_keyboard(page, theme: str) -> None:
    """Module 2's practice deck: its first question's radio group, moved with ArrowDown (and back with
    ArrowUp), then Check by keyboard: the feedback names what the kernel has as chosen."""
    from playwright.sync_api import expect

    deck = page.locator(".framelab-practice").first
    deck.scroll_into_view_if_needed()
    group = deck.get_by_role("radiogroup", name="What is going on here?")
    other = deck.get_by_role("radiogroup", name="What fits best next?")
    radios = group.get_by_role("radio")
    radios.first.focus()
    page.keyboard.press("Space")
    expect(radios.first).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(radios.nth(1)).to_be_checked()
    expect(radios.first).not_to_be_checked()
    expect(radios.nth(1)).to_be_focused()
    expect(other.get_by_role("radio", checked=True)).to_have_count(0)  # the other question is a group of its own
    outline = radios.nth(1).evaluate("r => getComputedStyle(r).outlineStyle")
    assert outline == "solid", f"the focused option shows no focus ring in the {theme} theme ({outline})"
    group.screenshot(path=str(OUT / f"m2_transference-radiogroup-{theme}.png"))
    chosen = radios.nth(1).evaluate("r => r.closest('label').textContent")
    deck.get_by_role("button", name="Check").focus()
    page.keyboard.press("Enter")
    expect(deck.get_by_role("alert")).to_contain_text(chosen, timeout=10_000)  # "Right: ..." or "You chose: ..."
    radios.nth(1).focus()
    page.keyboard.press("ArrowUp")
    expect(radios.first).to_be_checked()


def answer_cell_problems(page, module: str, theme: str) -> list[str]:
    """Each written answer cell (nbgrader's Markdown answer) is marked and drawn as an answer area: a
    border and a background that the course text above it does not have, headed "Your answer"."""
    release = json.loads((ROOT / "release" / module / f"{module}.ipynb").read_text(encoding="utf-8"))
    from framelab.learner.written import answer_cells

    expected = len(answer_cells(release["cells"]))  # nbgrader's answer cells, and the cell under a locked task
    cells = page.locator(".jp-Notebook .jp-MarkdownCell.framelab-answer-cell")
    if cells.count() != expected:
        return [f"{module} ({theme}): {cells.count()} answer cells marked, the notebook has {expected}"]
    problems = []
    look = """c => { const w = c.querySelector('.jp-Cell-inputWrapper'), s = getComputedStyle(w);
        return {border: s.borderTopWidth + ' ' + s.borderTopStyle, background: s.backgroundColor,
                label: getComputedStyle(w, '::before').content}; }"""
    for n in range(expected):
        cell = cells.nth(n)
        course = cell.locator(
            "xpath=preceding-sibling::div[contains(@class,'jp-MarkdownCell')"
            " and not(contains(@class,'framelab-answer-cell'))][1]"
        )
        mine, theirs = cell.evaluate(look), course.evaluate(look)
        if mine["border"] == theirs["border"] or mine["background"] == theirs["background"]:
            problems.append(f"{module} ({theme}): answer cell {n + 1} looks like the course text: {mine} / {theirs}")
        if mine["label"] != '"Your answer"':
            problems.append(f"{module} ({theme}): answer cell {n + 1} is not headed 'Your answer' ({mine['label']})")
        if n == 0:
            cell.scroll_into_view_if_needed()
            cell.screenshot(path=str(OUT / f"{module}-answer-cell-{theme}.png"))
    return problems


def test_formgrader_sets_a_written_answer_apart(tmp_path):
    """Formgrader's page for a submission, drawn by nbgrader's own template with its style sheets, in
    Chromium: the written answer has a border and a heading that the course text does not."""
    from nbgrader.server_extensions import formgrader
    from playwright.sync_api import sync_playwright
    from test_formgrade import formgrader_page, submitted_reflection

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    OUT.mkdir(parents=True, exist_ok=True)
    static_root = Path(formgrader.__file__).parent.parent  # .../formgrader/static/... under base_url
    page_path = tmp_path / "formgrade.html"
    page_path.write_text(formgrader_page(submitted_reflection(), base_url=static_root.as_uri()), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(page_path.as_uri())
            answer = page.locator(".nbgrader_cell").filter(has_text="a door closing")
            course = page.locator(".text_cell_render").filter(has_text="How your reflection is marked")
            assert answer.count() == 1 and course.count() == 1
            assert "Student's answer" in answer.locator(".panel-heading").inner_text()
            style = "e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopStyle]; }"
            assert answer.evaluate(style) == ["1px", "solid"], "bootstrap's panel style did not load"
            assert (
                course.evaluate(style)[1] == "none"
                and course.locator("xpath=ancestor::div[contains(@class,'nbgrader_cell')]").count() == 0
            )
            answer.scroll_into_view_if_needed()
            answer.screenshot(path=str(OUT / "formgrader-answer.png"))
        finally:
            browser.close()


def use_ticks_and_roleplay(page) -> None:
    """Module 3: a tick-box graded item, and one reply in the role-play."""
    from playwright.sync_api import expect

    ticks = page.locator(".framelab-exercise").first.get_by_role("checkbox").first
    ticks.scroll_into_view_if_needed()
    ticks.check()
    play = page.locator(".framelab-roleplay").first
    play.scroll_into_view_if_needed()
    play.get_by_role("textbox").first.fill(
        "I can hear how much this means to you. I won't, because keeping this to our sessions keeps it "
        "safe for you. Could we look at what made you ask?"
    )
    play.get_by_role("checkbox", name=re.compile("Validate the feeling")).check()
    play.get_by_role("button", name="Respond").click()
    expect(play).to_contain_text("Turn 2", timeout=60_000)
    # ticks and words disagree: all three moves ticked, a 'not now' written. The client follows the words
    play.get_by_role("textbox").first.fill(
        "Oh I would love to come, honestly, but I am so snowed under this month. Maybe another time, after we finish?"
    )
    for move in ("Validate the feeling", "State the boundary", "Re-center"):
        play.get_by_role("checkbox", name=re.compile(move)).check()
    play.get_by_role("button", name="Respond").click()
    # a backfire no longer ends the conversation: the client pulls back and there is a turn to repair
    expect(play).to_contain_text("Turn 3", timeout=60_000)
    expect(play).to_contain_text("What you meant: Validate the feeling, State the boundary, Re-center on the work.")
    expect(play).to_contain_text("What your words did: Gentle dodge")
    expect(play.get_by_role("alert").first).to_contain_text("So you would have come")


USE = {
    "m0_orientation": use_menu_and_progress,
    "m1_double_bind": use_reply_practice_and_self_check,
    "m2_transference": lambda page: choose_by_keyboard(page, "light"),
    "m3_three_moves": use_ticks_and_roleplay,
}
#: ... and in the dark theme
USE_DARK = {
    "m1_double_bind": use_reply_in_dark,
    "m2_transference": lambda page: choose_by_keyboard(page, "dark"),
}
