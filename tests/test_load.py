"""A whole cohort on one hub at once, and the faults a course meets, with nothing lost
(``make test-load``; not part of ``make test``).

On loopback: the hub from ``deploy/jupyterhub/`` (local process spawner, dummy authenticator,
configurable-http-proxy), a real PostgreSQL gradebook, the course environment built from the
wheel, and ``LOAD_TRAINEES`` trainees (default 40), each a real Unix account with its own server.
All their servers are started at once; then each trainee, in its own thread and through exactly
the requests JupyterLab makes, fetches Module 1 (nbgrader's Assignment List handlers), opens the
notebook (Contents API), starts a kernel (Sessions API) and, over the kernel's websocket, runs the
setup cell, one role-play turn (the role-play widget: reply, ticks, Respond) and chooses in the
graded exercise's menus (each change saves ``answers.json`` as the widgets do), then submits. The
grader collects and runs ``framelab grade --jobs 2`` into PostgreSQL.

It checks that every submission arrived exactly once with the answers saved, that every score is
the out-of-kernel score of those answers, and that no trainee can read another's work; it prints
the figures (servers ready, p50/p95 of fetch, save and submit, memory, grading time) and writes
them to ``test-output/load-figures.json``.

Then the faults, each on trainees of its own: the hub restarted while they work, the proxy killed,
a server killed while saving choices, the inbound folder read-only at submit, and PostgreSQL
restarted during ``framelab grade``. Each fault test starts on a hub that answers (:func:`hub`):
one that fails while the hub is down does not fail the next.

Every run makes Unix accounts of its own (a fresh prefix, ``fl`` and four hex digits) and holds a
machine-wide lock: two runs at once would distort each other's figures, and when two runs shared
the same account names, the first one's clean-up killed the second's servers and grading.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ROOT
from hubkit import (
    ASSIGNMENT,
    COURSE,
    Accounts,
    Course,
    MachineBusy,
    MemoryWatch,
    build_course,
    kill_user_processes,
    launch_hub,
    one_run_at_a_time,
    percentile,
    pids_of,
    postgres,
    problems,
    remove_stale_accounts,
    run_prefix,
    sh,
)
from labclient import Trainee, roleplay_turn_code, save_choices_code, setup_cell

from framelab.bank.loader import gold, load_bank
from framelab.core import safejson
from framelab.core.files import write_text_atomically
from framelab.grading import dbretry, exchange
from framelab.scoring import answers as store
from framelab.scoring.record import score_picks

pytestmark = [pytest.mark.load, pytest.mark.slow, pytest.mark.xdist_group("load")]

TRAINEES = int(os.environ.get("LOAD_TRAINEES", "40"))
#: The trainees each fault test works with (accounts of their own, under this run's prefix).
FAULTS = ("hub1", "hub2", "proxy", "killed", "closed")
EXERCISE = "backfires"
SCENARIO = "friends-when-we-finish"
REPLY = (
    "I can hear how much these sessions have meant to you, and I'm glad. I won't be able to be your "
    "friend outside our work, because that keeps this space safe for you. What is it like to hear that?"
)
FIGURES = ROOT / "test-output" / "load-figures.json"


# --------------------------------------------------------------------------- what each trainee picks


def options() -> list[str]:
    content = json.loads((ROOT / "release" / ASSIGNMENT / "content.json").read_text(encoding="utf-8"))
    return [value for value, _ in content["exercises"][EXERCISE]["options"]]


def planned_picks(n: int, key: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """Trainee ``n``'s choices: a different number of right items for each (from a different
    starting item), the rest alternately wrong and unanswered."""
    items = list(key)
    right = (n * 5 + 3) % (len(items) + 1)
    order = items[n % len(items) :] + items[: n % len(items)]
    picks = {}
    for position, item in enumerate(order):
        if position < right:
            picks[item] = key[item]
        elif position % 2 == 0:
            picks[item] = next(v for v in values[(n + position) % len(values) :] + values if v != key[item])
    return picks


# --------------------------------------------------------------------------- the course


@pytest.fixture(scope="module")
def course() -> Any:
    found = problems()
    if found:
        pytest.fail("The load test cannot run here: " + "; ".join(found))
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(one_run_at_a_time(f"make test-load in {ROOT}"))
        except MachineBusy as exc:
            pytest.fail(str(exc))
        left = remove_stale_accounts()
        if left:
            print(f"\nRemoved {len(left)} account(s) an earlier, interrupted load run left behind")
        accounts = Accounts.numbered(run_prefix(), TRAINEES, extra=FAULTS)
        top = Path(tempfile.mkdtemp(prefix="framelab-load-"))
        top.chmod(0o755)
        stack.callback(shutil.rmtree, top, ignore_errors=True)
        stack.callback(accounts.remove)  # first, so that a half-made set of accounts goes too
        accounts.create()
        pg = stack.enter_context(postgres(top / "pg"))
        c = build_course(top, pg, accounts)
        stack.callback(_stop_everything, c)
        launch_hub(c)
        bank = load_bank(ROOT / "modules")
        module = bank.module(ASSIGNMENT)
        items = bank.items()
        (ex,) = [e for e in module.meta.exercises if e.id == EXERCISE]
        key = {i: gold(items[i], ex.kind) for i in ex.items}
        yield {"c": c, "bank": bank, "module": module, "key": key, "values": options()}


def _stop_everything(c: Course) -> None:
    """Servers, hub, proxy and the accounts' processes, each bounded; every step runs even if one fails."""
    if c.hub is not None and c.proc is not None and c.proc.poll() is None:
        for user in c.accounts.trainees:
            with contextlib.suppress(requests.RequestException):
                c.hub.api("DELETE", f"/users/{user}/server", timeout=10)
    with contextlib.suppress(Exception):
        proxy = c.proxy_pid()
        c.stop_hub()
        with contextlib.suppress(ProcessLookupError):
            os.kill(proxy, signal.SIGTERM)
    for user in c.accounts.everyone:
        kill_user_processes(user)
    with contextlib.suppress(OSError):  # the hub's log (every server's output too), for a failed run
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(c.state / "hub.log", FIGURES.parent / "load-hub.log")


def out_of_kernel(course: dict, picks: dict[str, Any]) -> float:
    return sum(score_picks({EXERCISE: picks}, course["module"], course["bank"]).values())


def gradebook_scores(c: Course) -> dict[str, list[float]]:
    from nbgrader.api import Gradebook

    with Gradebook(c.pg.url, COURSE) as gb:
        out: dict[str, list[float]] = {}
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out.setdefault(sub.student.id, []).append(sub.code_score)
        return out


def submissions(c: Course, user: str) -> list[Path]:
    return sorted(p for p in (c.exchange / COURSE / "inbound").iterdir() if p.name.startswith(f"{user}+"))


def saved_on_disk(user: str) -> dict[str, Any]:
    return store.read(Path(f"/home/{user}/{ASSIGNMENT}/{store.FILENAME}"))


# --------------------------------------------------------------------------- one trainee's session


def work(t: Trainee, picks: dict[str, Any], laps: dict[str, float]) -> dict[str, Any]:
    """Fetch, open, kernel, setup cell, one role-play turn, save choices; return what was saved."""

    def lap(name: str, fn, *args):
        start = time.monotonic()
        result = fn(*args)
        laps[name] = time.monotonic() - start
        return result

    lap("fetch", t.fetch)
    notebook = lap("open", t.open_notebook)
    lap("kernel", t.start_kernel)
    lap("setup", t.execute, setup_cell(notebook))
    said = lap("roleplay", t.execute, roleplay_turn_code(SCENARIO, REPLY, ["validate", "state_boundary", "recenter"]))
    assert "turns 1" in said, said
    lap("save", t.execute, save_choices_code(EXERCISE, picks))
    return safejson.loads(t.read_file(store.FILENAME), what=store.FILENAME)["exercises"]


def trainee_run(c: Course, user: str, token: str, picks: dict[str, Any]) -> dict[str, Any]:
    t = Trainee(c.hub, user, token)
    laps: dict[str, float] = {}
    try:
        saved = work(t, picks, laps)
        start = time.monotonic()
        result = t.submit()
        laps["submit"] = time.monotonic() - start
        assert result.get("success"), result
        return {"user": user, "laps": laps, "saved": saved}
    except Exception as exc:  # one trainee's failure is reported with the others', after the figures
        return {"user": user, "laps": laps, "error": f"{type(exc).__name__}: {str(exc)[-1500:]}"}
    finally:
        t.close()


# --------------------------------------------------------------------------- the load run


@pytest.fixture(scope="module")
def load_run(course) -> dict[str, Any]:
    c: Course = course["c"]
    faults = {c.accounts.named(f) for f in FAULTS}
    users = [u for u in c.accounts.trainees if u not in faults]
    plan = {u: planned_picks(n, course["key"], course["values"]) for n, u in enumerate(users)}
    load_before = os.getloadavg()[0]
    with MemoryWatch(users) as memory:
        start = time.monotonic()
        # everyone logs in at once (the hub answers a start request when the server is up or after
        # 10 s, so the requests go out together, not one after another)
        with ThreadPoolExecutor(max_workers=len(users)) as pool:
            list(pool.map(c.hub.spawn, users))
        ready = c.hub.wait_ready(users, limit=max(600, 30 * len(users)))
        tokens = {u: c.hub.token_for(u) for u in users}
        with ThreadPoolExecutor(max_workers=len(users)) as pool:
            runs = list(pool.map(lambda u: trainee_run(c, u, tokens[u], plan[u]), users))
        worked = time.monotonic() - start
    c.as_grader(str(c.env / "bin" / "nbgrader"), "collect", ASSIGNMENT)
    start = time.monotonic()
    graded = c.as_grader(str(c.env / "bin" / "framelab"), "grade", ASSIGNMENT, "--jobs", "2", "--no-progress")
    grading = time.monotonic() - start
    figures = summarise(users, ready, worked, runs, memory, grading)
    figures["load_average_before"] = round(load_before, 1)
    write_figures(figures)
    return {"users": users, "plan": plan, "runs": {r["user"]: r for r in runs}, "graded": graded, "figures": figures}


def summarise(users, ready, worked, runs, memory: MemoryWatch, grading: float) -> dict[str, Any]:
    def stat(name: str) -> dict[str, float]:
        values = [r["laps"][name] for r in runs if name in r["laps"]]
        return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}

    servers, kernels = memory.per("server"), memory.per("kernel")

    def mb(recs: list[dict[str, Any]]) -> dict[str, float]:
        sizes = [r["hwm_mb"] for r in recs] or [0.0]
        return {"median": round(percentile(sizes, 0.5), 1), "max": round(max(sizes), 1), "count": len(recs)}

    figures = {
        "trainees": len(users),
        "trainees_failed": [r["user"] for r in runs if "error" in r],
        "cores": os.cpu_count(),
        "servers_ready_s": round(ready, 1),
        "login_to_all_submitted_s": round(worked, 1),
        **{f"{name}_s": stat(name) for name in ("fetch", "open", "kernel", "setup", "roleplay", "save", "submit")},
        "machine_peak_mb_over_idle": round(memory.peak_mb - memory.base_mb, 0),
        "machine_peak_mb": round(memory.peak_mb, 0),
        "server_peak_rss_mb": mb(servers),
        "kernel_peak_rss_mb": mb(kernels),
        "cpu_s_per_trainee": round(sum(r["cpu"] for r in servers + kernels) / max(1, len(users)), 2),
        "grading_s": round(grading, 1),
        "grading_per_submission_core_s": round(grading * 2 / max(1, len(users)), 2),
    }
    return figures


def write_figures(figures: dict[str, Any]) -> None:
    """Print the figures as a table and write them to test-output/load-figures.json."""
    print("\n" + figures_table(figures))
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(FIGURES, json.dumps(figures, indent=1) + "\n")
    print(f"(also in {FIGURES.relative_to(ROOT)})")


#: The table's rows: a lap's key in the figures, and what it measures.
LAPS = (
    ("fetch", "fetch Module 1 (Assignment List)"),
    ("open", "open the notebook (Contents API)"),
    ("kernel", "start a kernel (Sessions API, websocket)"),
    ("setup", "run the setup cell"),
    ("roleplay", "one role-play turn"),
    ("save", "save choices (answers.json)"),
    ("submit", "submit"),
)


def figures_table(f: dict[str, Any]) -> str:
    """The load run's figures, one plain row each."""

    def rss(key: str) -> str:
        m = f[key]
        return f"median {m['median']:.0f} MB, max {m['max']:.0f} MB ({m['count']} processes)"

    failed = f["trainees_failed"]
    rows = [
        ("trainees", f"{f['trainees']} at once" + (f", {len(failed)} failed: {', '.join(failed)}" if failed else "")),
        ("machine", f"{f['cores']} cores, load average {f.get('load_average_before', '?')} before the run"),
        ("all servers ready", f"{f['servers_ready_s']:.1f} s after the start requests"),
        ("login to all submitted", f"{f['login_to_all_submitted_s']:.1f} s"),
        *[(label, f"p50 {f[f'{key}_s']['p50']:.2f} s, p95 {f[f'{key}_s']['p95']:.2f} s") for key, label in LAPS],
        ("machine memory at peak", f"{f['machine_peak_mb']:.0f} MB, {f['machine_peak_mb_over_idle']:.0f} MB over idle"),
        ("a trainee's server, peak resident", rss("server_peak_rss_mb")),
        ("a trainee's kernel, peak resident", rss("kernel_peak_rss_mb")),
        ("CPU a trainee (server and kernel)", f"{f['cpu_s_per_trainee']:.1f} core-seconds"),
        (
            "framelab grade --jobs 2",
            f"{f['grading_s']:.1f} s ({f['grading_per_submission_core_s']:.2f} core-seconds a submission)",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    rule = "-" * (width + 2 + max(len(value) for _, value in rows))
    return "\n".join(["Load run figures", rule, *(f"{name:<{width}}  {value}" for name, value in rows), rule])


def test_every_trainee_worked_and_submitted_with_the_answers_they_saved(load_run):
    failed = {u: r["error"] for u, r in load_run["runs"].items() if "error" in r}
    assert not failed, "\n\n".join(f"{u}: {e}" for u, e in failed.items())
    for user in load_run["users"]:
        run = load_run["runs"][user]
        # what the widgets saved is exactly what the trainee chose
        assert run["saved"] == {EXERCISE: load_run["plan"][user]}, user


def test_every_submission_arrived_exactly_once_with_the_saved_answers(course, load_run):
    c: Course = course["c"]
    for user in load_run["users"]:
        (sub,) = submissions(c, user)  # exactly one
        assert store.read(sub / store.FILENAME) == {EXERCISE: load_run["plan"][user]}, user
        collected = c.course / "submitted" / user / ASSIGNMENT / store.FILENAME
        assert store.read(collected) == {EXERCISE: load_run["plan"][user]}, user


def test_every_score_equals_the_out_of_kernel_score_of_the_saved_answers(course, load_run):
    graded = load_run["graded"].stdout
    n = len(load_run["users"])
    assert f"{n} graded, 0 failed" in graded, graded
    expected = {u: [out_of_kernel(course, load_run["plan"][u])] for u in load_run["users"]}
    assert len({v[0] for v in expected.values()}) >= min(3, n), "the plan should give a spread of scores"
    assert gradebook_scores(course["c"]) == expected


def test_no_trainee_can_read_another_trainees_work(course, load_run):
    c: Course = course["c"]
    users = load_run["users"]
    inbound = c.exchange / COURSE / "inbound"
    for me, other in zip(users, users[1:] + users[:1], strict=True):
        (theirs,) = submissions(c, other)
        for path in (theirs / store.FILENAME, theirs / f"{ASSIGNMENT}.ipynb", Path(f"/home/{other}/{ASSIGNMENT}")):
            denied = sh("cat" if path.suffix else "ls", str(path), user=me, check=False)
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, (me, path)
        assert sh("ls", str(inbound), user=me, check=False).returncode != 0
    # nor through the hub: one trainee's token does not open another's server
    first, second = users[0], users[1]
    token = c.hub.token_for(first)
    r = requests.get(
        f"{c.hub.url}/user/{second}/api/contents/{ASSIGNMENT}", headers={"Authorization": f"token {token}"}
    )
    assert r.status_code in (403, 404), r.status_code


def test_figures_are_measured(load_run):
    f = load_run["figures"]
    assert f["trainees"] == len(load_run["users"]) and f["servers_ready_s"] > 0 and f["grading_s"] > 0
    assert f["server_peak_rss_mb"]["count"] >= f["trainees"] and f["kernel_peak_rss_mb"]["count"] >= f["trainees"]
    assert f["server_peak_rss_mb"]["median"] > 20 and f["kernel_peak_rss_mb"]["median"] > 20


# --------------------------------------------------------------------------- 3. only what trainees can use

INSTRUCTOR_PLUGINS = {
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
}


def lab_page_config(url: str, token: str) -> dict[str, Any]:
    r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=120)
    assert r.status_code == 200, (url, r.status_code)
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', r.text, re.S)
    assert found, r.text[:1000]
    return json.loads(found.group(1))


def test_trainees_see_no_instructor_menus_and_instructors_do(course, load_run):
    c: Course = course["c"]
    trainee = load_run["users"][0]
    page = lab_page_config(f"{c.hub.url}/user/{trainee}/lab", c.hub.token_for(trainee))
    disabled = set(page["disabledExtensions"])
    assert disabled >= INSTRUCTOR_PLUGINS, disabled
    # what trainees use stays: the Assignment List and the validate button
    assert not disabled & {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}
    assert "@jupyter/nbgrader" in {e["name"] for e in page["federated_extensions"]}
    # the formgrader service, as an instructor, has them all
    instructor = c.hub.token_for(c.accounts.instructor)
    page = lab_page_config(f"{c.hub.url}/services/{COURSE}/lab", instructor)
    assert not set(page["disabledExtensions"]) & INSTRUCTOR_PLUGINS, page["disabledExtensions"]
    assert "@jupyter/nbgrader" in {e["name"] for e in page["federated_extensions"]}


# --------------------------------------------------------------------------- 2. faults


@pytest.fixture
def hub(course, load_run) -> Course:
    """The course, with its hub answering. A fault test that failed while the hub was down (or a crash
    that took it down) must not fail the next test as well: the hub is started again here, and the
    output says so. The earlier test has failed already; a hub that cannot start fails this one too."""
    c: Course = course["c"]
    if not c.hub.up():
        print("\nThe hub was not answering before this test (an earlier test left it down): starting it again")
        c.stop_hub()  # a process that runs but does not answer
        c.start_hub()
    return c


def start_working(c: Course, user: str, picks: dict[str, Any]) -> Trainee:
    """A trainee whose server is up, with Module 1 fetched, the setup cell run and ``picks`` saved."""
    c.hub.spawn(user)
    c.hub.wait_ready([user], limit=300)
    t = Trainee(c.hub, user, c.hub.token_for(user))
    t.fetch()
    notebook = t.open_notebook()
    t.start_kernel()
    t.execute(setup_cell(notebook))
    t.execute(save_choices_code(EXERCISE, picks))
    return t


def halves(course: dict) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    key = course["key"]
    items = list(key)
    first = {i: key[i] for i in items[: len(items) // 2]}
    rest = {i: key[i] for i in items[len(items) // 2 :]}
    return first, rest, dict(key)


def server_and_kernel_pids(user: str) -> set[int]:
    return set(pids_of(user))


def wait_for(check, limit: float, what: str, every: float = 1.0):
    start, last = time.monotonic(), None
    while time.monotonic() - start < limit:
        try:
            result = check()
            if result:
                return result
        except (requests.RequestException, AssertionError, OSError) as exc:
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what} within {limit:.0f} s (last: {last})")


def finish_and_submit(c: Course, t: Trainee, rest: dict[str, Any], whole: dict[str, Any]) -> None:
    """The trainee reconnects to the same kernel (the lesson from before is still there), saves the
    rest of their choices and submits; exactly one submission arrives, holding every answer."""
    t.close()
    t.connect()
    t.execute(save_choices_code(EXERCISE, rest))
    assert t.submit().get("success")
    t.close()
    (sub,) = submissions(c, t.user)
    assert store.read(sub / store.FILENAME) == {EXERCISE: whole}


def test_hub_restart_loses_no_server_and_no_answer(course, hub):
    c: Course = hub
    first, rest, whole = halves(course)
    users = [c.accounts.named("hub1"), c.accounts.named("hub2")]
    trainees = [start_working(c, u, first) for u in users]
    before = {u: server_and_kernel_pids(u) for u in users}
    assert all(len(p) >= 2 for p in before.values()), before  # a server and a kernel each
    c.stop_hub()
    try:
        # the hub is down: the trainees' servers and kernels keep running, their answers on disk
        assert {u: server_and_kernel_pids(u) for u in users} == before
        assert {u: saved_on_disk(u) for u in users} == {u: {EXERCISE: first} for u in users}
    finally:
        c.start_hub()  # whatever was found: a hub that cannot start again fails here, with its log
    c.hub.wait_ready(users, limit=300)
    assert {u: server_and_kernel_pids(u) for u in users} == before, "a server or kernel was started again"
    for t in trainees:
        finish_and_submit(c, t, rest, whole)


def test_proxy_killed_is_started_again_and_work_goes_on(course, hub):
    c: Course = hub
    first, rest, whole = halves(course)
    user = c.accounts.named("proxy")
    t = start_working(c, user, first)
    before = server_and_kernel_pids(user)
    old = c.proxy_pid()
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: c.proxy_pid() != old and c.proxy_pid(), 60, "the hub did not start a new proxy")
    wait_for(lambda: t.get("api/status", timeout=10).ok, 60, "the trainee's server was not reachable again")
    assert new != old
    assert server_and_kernel_pids(user) == before, "the trainee's server or kernel was started again"
    assert saved_on_disk(user) == {EXERCISE: first}
    finish_and_submit(c, t, rest, whole)


def test_a_server_killed_while_saving_leaves_a_whole_answers_file(course, hub):
    c: Course = hub
    first, _, _ = halves(course)
    user = c.accounts.named("killed")
    t = start_working(c, user, first)
    item = next(iter(first))
    a, b = first[item], next(v for v in course["values"] if v != first[item])
    # the trainee keeps changing one menu: every change rewrites answers.json
    code = (
        f"_ex = lesson.exercise({EXERCISE!r})\n_ex.pick()\n"
        f"for _n in range(200000):\n    _ex.view.menus[{item!r}].value = [{a!r}, {b!r}][_n % 2]\n"
    )
    t.send(code)
    path = Path(f"/home/{user}/{ASSIGNMENT}/{store.FILENAME}")
    seen = wait_for(lambda: _changed(path, first, item), 60, "the kernel did not start saving")
    assert seen
    killed = kill_user_processes(user)  # server and kernel, mid-save
    assert killed
    t.close()
    # the file is whole and holds one of the two states the trainee chose, never a mix or a fragment
    after = store.read(path)[EXERCISE]
    assert after == first or after == {**first, item: b}, after
    # the hub notices; the trainee starts again and hands in what was saved
    # (400: the hub already found it dead)
    wait_for(lambda: c.hub.api("DELETE", f"/users/{user}/server").status_code in (202, 204, 400), 120, "not stopped")
    wait_for(lambda: not c.hub.api("GET", f"/users/{user}").json()["servers"], 120, "the server stayed listed")
    c.hub.spawn(user)
    c.hub.wait_ready([user], limit=300)
    t = Trainee(c.hub, user, c.hub.token_for(user))
    assert t.submit().get("success")
    (sub,) = submissions(c, user)
    assert store.read(sub / store.FILENAME) == {EXERCISE: after}


def _changed(path: Path, first: dict[str, Any], item: str) -> bool:
    data = store.read(path).get(EXERCISE, {})
    return data.get(item) != first[item]


def inbound_tree(inbound: Path) -> dict[str, tuple[int, int, int]]:
    return {
        p.relative_to(inbound).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(inbound.rglob("*"))
    }


def test_a_read_only_inbound_folder_tells_the_trainee_plainly_and_touches_nothing(course, hub):
    c: Course = hub
    _, _, whole = halves(course)
    user = c.accounts.named("closed")
    t = start_working(c, user, whole)
    inbound = c.exchange / COURSE / "inbound"
    mode = inbound.stat().st_mode & 0o7777
    before = inbound_tree(inbound)
    inbound.chmod(0o2555)  # the instructors closed it (or the file system went read-only)
    try:
        result = t.submit()
    finally:
        inbound.chmod(mode)
    assert result.get("success") is False
    assert result["value"].strip().splitlines()[-1].endswith(exchange.CLOSED), result["value"][-600:]
    assert inbound_tree(inbound) == before
    assert saved_on_disk(user) == {EXERCISE: whole}  # the trainee's own copy is untouched
    # once it is open again, the same work is handed in
    assert t.submit().get("success")
    t.close()
    (sub,) = submissions(c, user)
    assert store.read(sub / store.FILENAME) == {EXERCISE: whole}


def grading_started(course_root: Path) -> bool:
    """Whether a ``framelab grade`` worker has started on a submission (its work folder's marker)."""
    return any(course_root.glob(".framelab-grade-*/s*/started"))


def summary_rows(text: str, user: str) -> list[list[str]]:
    """The rows of ``framelab grade``'s summary table that name ``user``."""
    return [line.split() for line in text.splitlines() if line.split()[:1] == [user]]


def test_postgres_restarted_during_grading_grades_everyone_once(course, load_run):
    c: Course = course["c"]
    users = load_run["users"][: min(8, len(load_run["users"]))]
    args = [str(c.env / "bin" / "framelab"), "grade", ASSIGNMENT, "--jobs", "2", "--no-progress", "--force"]
    for u in users:
        args += ["--student", u]
    env = {"HOME": f"/home/{c.accounts.grader}", "USER": c.accounts.grader, **c.grader_env}
    cmd = ["runuser", "-u", c.accounts.grader, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *args]
    out = c.top / "grade-restart.log"
    with out.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=c.course, stdout=fh, stderr=subprocess.STDOUT)
        try:
            # the fault comes once a worker has started on a submission (it is about to write to the
            # gradebook), with the others still to grade and record
            wait_for(lambda: grading_started(c.course) or proc.poll() is not None, 300, "grading did not start", 0.2)
            assert proc.poll() is None, "grading finished before the fault: " + out.read_text()[-2000:]
            c.pg.stop("fast")
            time.sleep(3)
            c.pg.start()
            proc.wait(timeout=900)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = out.read_text()
    print("\nframelab grade, with PostgreSQL restarted while it graded:\n" + text)
    assert proc.returncode == 0, text
    # the summary says what happened: every trainee graded, none failed or skipped, the waits for the database
    assert f"{len(users)} graded, 0 failed, 0 already graded (skipped)" in text, text
    found = re.search(r"could not be reached (once|\d+ times) during grading; .*\(([\d.]+) s of waiting in all\)", text)
    assert found, text
    assert float(found.group(2)) <= dbretry.DEADLINE, "grading waited past its bound"
    # each trainee once in the summary, graded, with one row in the gradebook holding the score of record
    scores = gradebook_scores(c)
    for u in users:
        assert [row[1] for row in summary_rows(text, u)] == ["graded"], (u, text)
        assert scores[u] == [out_of_kernel(course, load_run["plan"][u])], u
        assert (c.course / "autograded" / u / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), u
