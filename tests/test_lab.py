"""`make lab`: creates the workspace on first run, never overwrites it, honours PORT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(workspace: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"WORKSPACE={workspace}", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_until_serving(proc: subprocess.Popen, port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make lab exited early:\n{proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer on port {port} within {timeout} s")


def stop(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out


def test_make_lab_creates_then_keeps_the_workspace(tmp_path):
    workspace = tmp_path / "workspace"
    port = free_port()
    proc = start_lab(workspace, port)
    try:
        wait_until_serving(proc, port)
    finally:
        out = stop(proc)
    released = sorted(p.relative_to(ROOT / "release") for p in (ROOT / "release").rglob("*") if p.is_file())
    assert released, "release/ is empty"
    for rel in released:
        assert (workspace / rel).read_bytes() == (ROOT / "release" / rel).read_bytes(), rel
    assert f"127.0.0.1:{port}" in out, out[-2000:]

    # the trainee works: edits a notebook, saves answers, deletes a file they did not want
    notebook = next(p for p in sorted(workspace.rglob("*.ipynb")) if p.name != "home.ipynb")
    edited = notebook.read_bytes().replace(b'"cells": [', b'"cells": [', 1) + b"\n"
    notebook.write_bytes(edited)
    answers = notebook.parent / "answers.json"
    answers.write_text('{"format": "framelab-answers/1", "exercises": {"x": {"y": "validate"}}}\n')
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}

    port = free_port()
    proc = start_lab(workspace, port)
    try:
        wait_until_serving(proc, port)
    finally:
        out = stop(proc)
    after = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    for path, data in before.items():
        if path == workspace / "home.ipynb":  # the course home is the course's page, made afresh each time
            continue  # (unless the learner changed it: tests/test_selfstudy_course.py)
        assert after[path] == data, f"make lab changed {path}"
    assert (workspace / "home.ipynb").is_file()
    assert "kept" in out


def test_make_lab_prints_one_link_that_opens_and_hides_the_instructor_tools(tmp_path):
    """A trainee's lab: one link, with its token, that opens; formgrader, create assignment and the
    assignment and course lists are off (no exchange here); Validate stays."""
    import json
    import re

    port = free_port()
    proc = start_lab(tmp_path / "workspace", port)
    try:
        first = ""
        while "http" not in first:  # the link comes before the server's own (quiet) log
            first = proc.stdout.readline()
            assert first, "make lab ended without printing a link"
        wait_until_serving(proc, port)
        link = re.search(r"https?://\S+", first)[0]
        assert "token=" in link
        with urllib.request.urlopen(link, timeout=30) as resp:
            page = resp.read().decode()
            assert resp.status == 200 and "/login" not in resp.url, resp.url
        config = json.loads(
            re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)[1]
        )
        disabled = set(config["disabledExtensions"])
        for plugin in ("formgrader", "create-assignment", "assignment-list", "course-list", "menu"):
            assert f"@jupyter/nbgrader:{plugin}" in disabled
        assert "@jupyter/nbgrader:validate-assignment" not in disabled
        token = link.split("token=")[1]
        for path in ("formgrader", "assignments", "courses"):
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}?token={token}", timeout=30)
        time.sleep(2)  # let the server finish its start-up log
    finally:
        out = first + stop(proc)
    assert len(re.findall(r"https?://", out)) == 1, out[-3000:]  # one link, not the server's list of them
