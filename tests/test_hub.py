"""Frame Lab on JupyterHub, end to end on loopback (``make test-hub``; also part of ``make test``).

The hub is ``deploy/jupyterhub/jupyterhub_config.py`` with configurable-http-proxy, the local
process spawner (each user's server runs as that Unix user) and the dummy authenticator. The course
environment is built by ``deploy/jupyterhub/install-course-env.sh`` from framelab's wheel. The
gradebook is a real PostgreSQL server on a loopback port.

1. The grader account (the instructors' shared account) releases Module 1.
2. Two trainees, through their own servers on the hub, fetch it, answer (one right, one partly
   wrong) and submit through the exchange, exactly as the Assignment List does.
3. The grader collects and runs ``framelab grade``; both scores are checked in PostgreSQL.
4. Neither trainee can read the other's submission, the course's ``source/``, the other's
   server, or the formgrader service; an instructor can reach formgrader.

It needs root (users are real accounts), Debian's ``postgresql`` and npm's
``configurable-http-proxy``; ``make system-deps`` installs both. Without them it fails and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from conftest import BIN, ROOT, copy_course
from hubkit import SYSTEM_PYTHON, problems, remove_account, sh
from pgserver import free_port, postgres

from framelab.bank.loader import gold, load_bank

pytestmark = [pytest.mark.slow, pytest.mark.hub, pytest.mark.xdist_group("hub")]

COURSE = "framelab"
ASSIGNMENT = "m1_double_bind"
GROUP = "fl-instructors"  # the Unix group that may read submissions
GRADER = "fl-grader"  # the instructors' shared account: owns the course, runs formgrader
INSTRUCTOR = "fl-instructor"
RIGHT, PARTIAL = "fl-trainee-a", "fl-trainee-b"


def require() -> None:
    missing = problems()
    if missing:
        pytest.fail("The hub test cannot run here: " + "; ".join(missing))


def make_users() -> None:
    remove_users()  # accounts an earlier run left behind go first, homes and all: every run starts from empty homes
    sh("groupadd", "-f", GROUP)
    for user in (GRADER, INSTRUCTOR, RIGHT, PARTIAL):
        sh("useradd", "--create-home", "--shell", "/bin/bash", user)
    sh("usermod", "-aG", GROUP, GRADER)


def remove_users() -> None:
    for user in (GRADER, INSTRUCTOR, RIGHT, PARTIAL):
        remove_account(user)  # with its processes: a trainee's server outlives the hub that spawned it
    sh("groupdel", GROUP, check=False)


class Hub:
    def __init__(self, url: str, token: str):
        self.url = url
        self.admin = {"Authorization": f"token {token}"}

    def api(self, method: str, path: str, headers: dict | None = None, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers or self.admin, timeout=30, **kw)

    def start_server(self, user: str) -> None:
        r = self.api("POST", f"/users/{user}/server")
        assert r.status_code in (201, 202), r.text
        for _ in range(240):
            model = self.api("GET", f"/users/{user}").json()
            if model.get("servers", {}).get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start: {model}")

    def token_for(self, user: str) -> dict[str, str]:
        r = self.api("POST", f"/users/{user}/tokens", json={"note": "framelab hub test"})
        assert r.status_code == 201, r.text
        return {"Authorization": f"token {r.json()['token']}"}

    def server(self, method: str, user: str, path: str, headers: dict | None = None, **kw) -> requests.Response:
        return requests.request(
            method, f"{self.url}/user/{user}/{path}", headers=headers or self.admin, timeout=120, **kw
        )


#: One hub per test process, made by the first test that needs it and kept until the session ends:
#: a module-scoped fixture can be torn down and made again between tests when pytest-xdist hands
#: out work, and a second hub with the same Unix accounts would kill the first one's processes.
_HUB: dict[str, object] = {}


@pytest.fixture
def hub_course(request) -> dict:
    if "result" not in _HUB:
        stack = contextlib.ExitStack()
        request.config.add_cleanup(stack.close)
        try:
            _HUB["result"] = _start(stack)
        except BaseException as exc:  # every test that needs the hub reports the same failure
            _HUB["result"] = exc
    result = _HUB["result"]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[return-value]


def _start(stack: contextlib.ExitStack) -> dict:
    require()
    make_users()
    stack.callback(remove_users)
    top = Path(tempfile.mkdtemp(prefix="framelab-hub-"))
    top.chmod(0o755)
    stack.callback(shutil.rmtree, top, ignore_errors=True)
    db_url = stack.enter_context(postgres())
    procs: list[subprocess.Popen] = []
    stack.callback(_stop, procs)
    return _run_course(top, db_url, procs)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    for user in (RIGHT, PARTIAL, GRADER):
        sh("pkill", "-u", user, check=False)


def _run_course(top: Path, db_url: str, procs: list[subprocess.Popen]) -> dict:
    started = time.monotonic()
    laps: dict[str, float] = {}
    exchange, env, conf, state = top / "exchange", top / "env", top / "hubconf", top / "hubstate"
    # the course environment, from the wheel, as the deployment guide says
    sh(str(BIN / "python"), "-m", "build", "--wheel", "--outdir", str(top / "dist"), str(ROOT))
    wheel = next((top / "dist").glob("framelab-*.whl"))
    sh(
        "bash",
        str(ROOT / "deploy" / "jupyterhub" / "install-course-env.sh"),
        str(env),
        str(wheel),
        env={
            **os.environ,
            "PYTHON": str(SYSTEM_PYTHON),
            "FRAMELAB_EXCHANGE": str(exchange),
            "FRAMELAB_GRADER_USER": GRADER,
            "FRAMELAB_INSTRUCTORS_GROUP": GROUP,
        },
    )
    laps["course environment"] = time.monotonic() - started
    # the course folder: the grader's alone
    course = copy_course(top / "course")
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(f'\nc.CourseDirectory.db_url = "{db_url}"\n')
    sh("chown", "-R", f"{GRADER}:{GRADER}", str(course))
    course.chmod(0o700)
    shutil.copytree(ROOT / "deploy" / "jupyterhub", conf)
    state.mkdir()
    # the grader releases Module 1 (the assignment goes into the PostgreSQL gradebook on the way)
    grader_env = {"PATH": f"{env / 'bin'}:/usr/bin:/bin"}
    sh(
        str(env / "bin" / "nbgrader"),
        "generate_assignment",
        ASSIGNMENT,
        "--force",
        user=GRADER,
        cwd=course,
        env=grader_env,
    )
    sh(str(env / "bin" / "nbgrader"), "release_assignment", ASSIGNMENT, user=GRADER, cwd=course, env=grader_env)
    # the hub
    port, token = free_port(), secrets.token_hex(16)
    hub_env = {
        **os.environ,
        "FRAMELAB_ENV": str(env),
        "FRAMELAB_COURSE_ID": COURSE,
        "FRAMELAB_GRADER_USER": GRADER,
        "FRAMELAB_COURSE_ROOT": str(course),
        "FRAMELAB_INSTRUCTORS": INSTRUCTOR,
        "FRAMELAB_TRAINEES": f"{RIGHT},{PARTIAL}",
        "FRAMELAB_HUB_PORT": str(port),
        "FRAMELAB_HUB_API_PORT": str(free_port()),
        "FRAMELAB_PROXY_API_PORT": str(free_port()),
        "FRAMELAB_FORMGRADER_PORT": str(free_port()),
        "FRAMELAB_HUB_AUTH": "dummy",
        "FRAMELAB_HUB_ADMIN_TOKEN": token,
    }
    log = (state / "hub.log").open("w")
    procs.append(
        subprocess.Popen(
            [str(env / "bin" / "jupyterhub"), "-f", str(conf / "jupyterhub_config.py")],
            cwd=state,
            env=hub_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    hub = Hub(f"http://127.0.0.1:{port}", token)
    for _ in range(120):
        try:
            if hub.api("GET", "/").ok:
                break
        except requests.ConnectionError:
            pass
        if procs[0].poll() is not None:
            raise AssertionError("the hub stopped:\n" + (state / "hub.log").read_text()[-4000:])
        time.sleep(0.5)
    laps["hub up"] = time.monotonic() - started
    # two trainees fetch, answer and submit through their own servers on the hub
    bank = load_bank(ROOT / "modules")
    module = bank.module(ASSIGNMENT)
    items = bank.items()
    key = {ex.id: {i: gold(items[i], ex.kind) for i in ex.items} for ex in module.meta.exercises}
    partial = {
        ex.id: {i: v for n, (i, v) in enumerate(picks.items()) if n % 2 == 0}
        for ex, picks in zip(module.meta.exercises, key.values(), strict=True)
    }
    expected = {RIGHT: sum(len(p) for p in key.values()), PARTIAL: sum(len(p) for p in partial.values())}
    for user, picks in ((RIGHT, key), (PARTIAL, partial)):
        hub.start_server(user)
        listed = hub.server("GET", user, f"assignments?course_id={COURSE}")
        assert listed.ok and ASSIGNMENT in listed.text, listed.text[:2000]
        r = hub.server("POST", user, "assignments/fetch", data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert r.ok and json.loads(r.text).get("success"), r.text[:2000]
        if user == PARTIAL:  # this trainee's notebook also tries to reach the course root while graded
            plant_in_notebook(hub, user, course)
        answers = {"format": "framelab-answers/1", "exercises": picks}
        body = {"type": "file", "format": "text", "content": json.dumps(answers)}
        r = hub.server("PUT", user, f"api/contents/{ASSIGNMENT}/answers.json", json=body)
        assert r.status_code in (200, 201), r.text
        r = hub.server("POST", user, "assignments/submit", data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert r.ok and json.loads(r.text).get("success"), r.text[:2000]
    laps["two submissions"] = time.monotonic() - started
    forge_a_submission(top, exchange, course)
    # the grader collects and grades into PostgreSQL
    collected = sh(str(env / "bin" / "nbgrader"), "collect", ASSIGNMENT, user=GRADER, cwd=course, env=grader_env)
    graded = sh(
        str(env / "bin" / "framelab"),
        "grade",
        ASSIGNMENT,
        "--jobs",
        "2",
        "--no-progress",
        user=GRADER,
        cwd=course,
        env=grader_env,
    )
    laps["collected and graded"] = time.monotonic() - started
    return {
        "top": top,
        "env": env,
        "course": course,
        "exchange": exchange,
        "db_url": db_url,
        "hub": hub,
        "expected": expected,
        "graded": graded.stdout,
        "collected": collected.stdout + collected.stderr,
        "laps": laps,
    }


FORGED = f"{RIGHT}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"


def forge_a_submission(top: Path, exchange: Path, course: Path) -> None:
    """The other trainee makes a folder in the inbound folder in this trainee's name, later than theirs,
    holding a blank notebook: stock nbgrader collects it in place of the trainee's own work."""
    blank = top / "forged"
    shutil.copytree(course / "release" / ASSIGNMENT, blank)
    (blank / "timestamp.txt").write_text("2099-01-01 00:00:00.000000 UTC")
    for path in [blank, *blank.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    inbound = exchange / COURSE / "inbound"
    sh("sh", "-c", f'mkdir "{inbound / FORGED}" && cp -R "{blank}/." "{inbound / FORGED}/"', user=PARTIAL)


PLANTED = "planted-by-a-trainee.txt"


def plant_in_notebook(hub: Hub, user: str, course: Path) -> None:
    """Add a cell to the trainee's notebook that writes into the course root (the grader's own folder)."""
    path = f"api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    r = hub.server("GET", user, path)
    assert r.ok, r.text[:2000]
    model = json.loads(r.text)
    attack = (
        "import pathlib\n"
        f"for where in ({str(course)!r}, {str(course / 'source')!r}):\n"
        "    try:\n"
        f"        (pathlib.Path(where) / {PLANTED!r}).write_text('reached')\n"
        "    except OSError as exc:\n"
        "        print('blocked:', exc)\n"
    )
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": attack}
    model["content"]["cells"].insert(1, cell)
    r = hub.server("PUT", user, path, json={"type": "notebook", "format": "json", "content": model["content"]})
    assert r.status_code in (200, 201), r.text[:2000]


def auto_scores(db_url: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE) as gb:
        return {s.student.id: s.code_score for s in gb.assignment_submissions(ASSIGNMENT)}


def test_release_fetch_submit_collect_and_grade_on_the_hub(hub_course):
    print("timings (s from start):", {k: round(v, 1) for k, v in hub_course["laps"].items()})
    assert "2 graded, 0 failed" in hub_course["graded"], hub_course["graded"]
    expected = hub_course["expected"]
    assert 0 < expected[PARTIAL] < expected[RIGHT] == 16
    assert auto_scores(hub_course["db_url"]) == {RIGHT: expected[RIGHT], PARTIAL: expected[PARTIAL]}
    # graded in the sandbox as the grader account: the trainee's cell could not write into the course root
    assert "WITHOUT the sandbox" not in hub_course["graded"]
    assert not list(hub_course["course"].rglob(PLANTED))


def test_a_submission_made_in_a_peers_name_is_refused_and_the_peers_own_graded(hub_course):
    forged = hub_course["exchange"] / COURSE / "inbound" / FORGED
    assert forged.is_dir()  # the other trainee could make it (the inbound folder takes anyone's hand-in)
    assert f"{FORGED}: made by {PARTIAL}, not by {RIGHT}" in hub_course["collected"], hub_course["collected"]
    # and the trainee it names keeps the score of their own work (the test above: all 16)
    assert auto_scores(hub_course["db_url"])[RIGHT] == hub_course["expected"][RIGHT] == 16


def test_the_inbound_folder_keeps_trainees_out_of_each_others_work(hub_course):
    inbound = hub_course["exchange"] / COURSE / "inbound"
    mine = [p for p in inbound.iterdir() if p.name.startswith(f"{RIGHT}+") and p.name != FORGED]
    assert len(mine) == 1, list(inbound.iterdir())
    notebook = mine[0] / f"{ASSIGNMENT}.ipynb"
    assert notebook.is_file()
    # the other trainee cannot list the inbound folder, read the submission even knowing its name,
    # or add anything to it
    assert sh("ls", str(inbound), user=PARTIAL, check=False).returncode != 0
    denied = sh("cat", str(notebook), user=PARTIAL, check=False)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    assert sh("touch", str(mine[0] / "planted.txt"), user=PARTIAL, check=False).returncode != 0
    # while its owner and the grader can
    assert sh("cat", str(notebook), user=RIGHT, check=False).returncode == 0
    assert sh("cat", str(notebook), user=GRADER, check=False).returncode == 0


def test_trainees_cannot_reach_the_course_each_other_or_formgrader(hub_course):
    course, hub = hub_course["course"], hub_course["hub"]
    source_nb = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for path in (course / "source", course / "modules", source_nb):
        assert sh("ls", str(path), user=PARTIAL, check=False).returncode != 0, path
    # framelab in the trainees' environment comes from the wheel: there is no answer key to check against
    check = sh(
        str(hub_course["env"] / "bin" / "framelab"),
        "check",
        f"/home/{PARTIAL}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "--no-validate",
        user=PARTIAL,
        check=False,
    )
    assert check.returncode != 0 and "answer key" in check.stderr, check.stdout + check.stderr
    # through the hub: one trainee's token does not open the other's server or the formgrader service
    trainee = hub.token_for(PARTIAL)
    assert hub.server("GET", PARTIAL, "api/contents", headers=trainee).status_code == 200
    assert hub.server("GET", RIGHT, "api/contents", headers=trainee).status_code in (403, 404)
    formgrader = f"{hub.url}/services/{COURSE}/formgrader"
    assert requests.get(formgrader, headers=trainee, timeout=60, allow_redirects=False).status_code == 403
    instructor = hub.token_for(INSTRUCTOR)
    page = requests.get(formgrader, headers=instructor, timeout=120)
    assert page.status_code == 200 and "formgrader" in page.text.lower()


def test_a_trainee_fetches_feedback_through_the_exchange(hub_course):
    course, env = hub_course["course"], hub_course["env"]
    grader_env = {"PATH": f"{env / 'bin'}:/usr/bin:/bin"}
    # the grader makes feedback (the reflections are not hand-graded here, hence --allow-pending) and
    # releases it into the exchange, as the README's cycle says
    made = sh(
        str(env / "bin" / "framelab"),
        "feedback",
        ASSIGNMENT,
        "--allow-pending",
        "--jobs",
        "2",
        "--no-progress",
        user=GRADER,
        cwd=course,
        env=grader_env,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    nbgrader = str(env / "bin" / "nbgrader")
    released = sh(nbgrader, "release_feedback", ASSIGNMENT, user=GRADER, cwd=course, env=grader_env)
    assert released.returncode == 0, released.stdout + released.stderr
    # the trainee fetches it through their own server (the Assignment List's "Fetch Feedback")
    r = hub_course["hub"].server(
        "POST", RIGHT, "assignments/fetch_feedback", data={"course_id": COURSE, "assignment_id": ASSIGNMENT}
    )
    assert r.ok, r.text[:2000]
    pages = list(Path(f"/home/{RIGHT}/{ASSIGNMENT}/feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, list(Path(f"/home/{RIGHT}/{ASSIGNMENT}").rglob("*"))
    assert pages[0].stat().st_uid == int(sh("id", "-u", RIGHT).stdout)  # the trainee's own file
    text = pages[0].read_text(encoding="utf-8")
    shown = re.findall(r"Score[^<]{0,80}", text)[:3]
    assert "Written response" in text and shown, f"not a feedback page: {shown} {text[:300]!r}"
    # and only their own: the other trainee fetched nothing, and cannot read this page
    assert not list(Path(f"/home/{PARTIAL}/{ASSIGNMENT}").glob("feedback/*/*.html"))
    assert sh("cat", str(pages[0]), user=PARTIAL, check=False).returncode != 0


def test_the_formgrader_page_the_grader_sees_has_the_policy_and_no_autograde(hub_course):
    from framelab.grading.serverext import INSTRUCTOR_CSP, PENDING_PATH

    hub = hub_course["hub"]
    instructor = hub.token_for(INSTRUCTOR)
    base = f"{hub.url}/services/{COURSE}"
    page = requests.get(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}", headers=instructor, timeout=120)
    assert page.status_code == 200, page.text[:2000]
    assert page.headers.get("Content-Security-Policy") == INSTRUCTOR_CSP
    # the page loads Frame Lab's script, which takes the Autograde button away (tests/test_pending_browser.py
    # shows it in Chromium), from the server itself
    assert f'src="/services/{COURSE}/{PENDING_PATH}"' in page.text
    script = requests.get(f"{base}/{PENDING_PATH}", headers=instructor, timeout=60)
    assert script.status_code == 200 and "framelab-no-autograde" in script.text
    # and the button's own request, made anyway, is refused with the sandboxed command
    xsrf = {**instructor, "X-XSRFToken": page.cookies.get("_xsrf", "")}
    r = requests.post(
        f"{base}/formgrader/api/submission/{ASSIGNMENT}/{RIGHT}/autograde",
        headers=xsrf,
        cookies=page.cookies,
        timeout=60,
    )
    assert r.status_code == 200 and f"framelab grade {ASSIGNMENT} --student {RIGHT}" in r.json()["error"], r.text
