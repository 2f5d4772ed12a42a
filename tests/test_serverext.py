"""The instructor's Jupyter server (framelab.grading.serverext): a Content-Security-Policy on every page
where formgrader runs, and formgrader's unsandboxed Autograde button switched off with a way forward."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from conftest import BIN, ROOT, copy_course
from test_lab import free_port

from framelab.grading.serverext import (
    FORMGRADER,
    INSTRUCTOR_CSP,
    STATIC,
    autograde_refusal,
    formgrader_enabled,
    with_pending_script,
)


def test_the_refusal_names_the_trainee_and_the_sandboxed_command():
    answer = autograde_refusal("m1_double_bind", "t7")
    assert answer["success"] is False and answer["log"] == answer["error"]
    assert "no sandbox" in answer["error"] and "framelab grade m1_double_bind --student t7" in answer["error"]


def test_it_acts_only_where_formgrader_runs():
    assert formgrader_enabled(SimpleNamespace(jpserver_extensions={FORMGRADER: True}))
    assert not formgrader_enabled(SimpleNamespace(jpserver_extensions={FORMGRADER: False}))
    assert not formgrader_enabled(SimpleNamespace(jpserver_extensions={}))


def test_the_policy_allows_nothing_from_elsewhere():
    rules = dict(r.split(" ", 1) for r in INSTRUCTOR_CSP.split("; "))
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'self'" and rules["form-action"] == "'self'"
    for kind in ("default-src", "script-src", "style-src", "img-src", "connect-src", "font-src"):
        sources = rules[kind].split()
        assert all(s.startswith("'") or s in ("data:", "blob:") for s in sources), (kind, sources)
    assert "http" not in INSTRUCTOR_CSP and "*" not in INSTRUCTOR_CSP


def test_the_pending_script_is_added_to_a_formgrader_page_once():
    page = b"<html><head><title>nbgrader</title></head><body>11 / 20</body></html>"
    once = with_pending_script(page, "/user/grader/")
    assert once.count(b'<script src="/user/grader/framelab/formgrader/pending.js"></script></head>') == 1
    assert with_pending_script(once, "/user/grader/") == once
    assert with_pending_script(b'{"score": 11}', "/") == b'{"score": 11}'  # not a page: left alone
    assert (STATIC / "pending.js").is_file()


def the_grader_config() -> dict:
    namespace: dict = {"get_config": lambda: SimpleNamespace(ServerApp=SimpleNamespace())}
    exec((ROOT / "deploy" / "jupyterhub" / "grader_server_config.py").read_text(), namespace)
    return namespace["c"].ServerApp.jpserver_extensions


def test_the_hubs_grader_server_and_the_environment_name_it():
    assert the_grader_config()["framelab.grading.serverext"] is True
    shipped = json.loads((ROOT / "src" / "framelab" / "data" / "server-config" / "framelab.json").read_text())
    assert shipped["ServerApp"]["jpserver_extensions"] == {"framelab.grading.serverext": True}


def start_server(course, port: int, token: str, formgrader: bool) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    cmd += [f"--ServerApp.token={token}", f"--ServerApp.root_dir={course}", "--ServerApp.port_retries=0"]
    cmd.append(f"--ServerApp.jpserver_extensions={FORMGRADER}={formgrader}")
    if os.getuid() == 0:
        cmd.append("--allow-root")
    return subprocess.Popen(
        cmd, cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def wait_for(server: subprocess.Popen, base: str) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/api", timeout=1)
            return
        except OSError:
            assert server.poll() is None, "jupyter server exited before serving"
            time.sleep(0.5)
    raise AssertionError("jupyter server did not answer in 120 s")


def request(url: str, token: str, method: str = "GET") -> tuple[int, dict, str]:
    req = urllib.request.Request(
        url, method=method, headers={"Authorization": f"token {token}"}, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


@pytest.mark.slow
@pytest.mark.parametrize("formgrader", [True, False])
def test_a_real_server_sets_the_policy_and_refuses_autograde_only_with_formgrader(tmp_path, formgrader):
    course = copy_course(tmp_path / "course")
    port, token = 20000 + free_port() % 20000, "framelab-serverext-test"
    server = start_server(course, port, token, formgrader)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(server, base)
        for page in ("/lab", "/api/status"):  # a page, and the API (which adds a rule of its own)
            status, headers, _ = request(base + page, token)
            policy = headers.get("Content-Security-Policy", "")
            assert status == 200 and policy.startswith(INSTRUCTOR_CSP) is formgrader, (page, policy)
        status, _, body = request(f"{base}/formgrader/api/submission/m1_double_bind/t1/autograde", token, "POST")
        if formgrader:
            assert status == 200 and json.loads(body) == autograde_refusal("m1_double_bind", "t1")
        else:
            assert status == 404
        assert not (course / "autograded").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
