"""``framelab.exchange.PrivateSubmit``: with a set-group inbound folder, a submission is closed
to everyone outside the instructors' group; without one, nbgrader's stock behaviour is kept.
(The hub test checks the same with real, separate Unix users.)"""

from __future__ import annotations

import os
import stat

import pytest
from conftest import copy_course, nbgrader

pytestmark = pytest.mark.slow

ASSIGNMENT = "m0_orientation"


def submit(tmp_path, setgid: bool):
    course = copy_course(tmp_path / "course")
    args = [f"--Exchange.root={tmp_path / 'exchange'}", f"--Exchange.cache={tmp_path / 'cache'}"]
    inbound = tmp_path / "exchange" / "framelab" / "inbound"
    inbound.mkdir(parents=True)
    inbound.chmod(0o2733 if setgid else 0o733)
    nbgrader("release_assignment", ASSIGNMENT, *args, cwd=course)
    home = tmp_path / "home"
    home.mkdir()
    nbgrader("fetch_assignment", ASSIGNMENT, "--course=framelab", *args, cwd=home)
    (home / ASSIGNMENT / "scratch.pyc").write_bytes(b"ignored by nbgrader's CourseDirectory.ignore")
    nbgrader(
        "submit",
        ASSIGNMENT,
        "--course=framelab",
        "--ExchangeFactory.submit=framelab.exchange.PrivateSubmit",
        *args,
        cwd=home,
    )
    (sub,) = inbound.iterdir()
    return inbound, sub


def modes(folder):
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}


def test_a_set_group_inbound_closes_the_submission_to_others(tmp_path):
    inbound, sub = submit(tmp_path, setgid=True)
    got = modes(sub)
    assert got["."] == 0o770
    files = {k: v for k, v in got.items() if k != "."}
    assert f"{ASSIGNMENT}.ipynb" in files and "timestamp.txt" in files and "submission_secret.txt" in files
    assert set(files.values()) == {0o640}, files
    assert "scratch.pyc" not in files  # nbgrader's ignore rules still apply
    gid = inbound.stat().st_gid
    assert {p.stat().st_gid for p in [sub, *sub.rglob("*")]} == {gid}


def test_without_a_set_group_inbound_nbgrader_is_unchanged(tmp_path):
    _, sub = submit(tmp_path, setgid=False)
    got = modes(sub)
    assert got["."] == 0o777  # stock nbgrader: hidden by an unguessable name only
    assert got[f"{ASSIGNMENT}.ipynb"] == 0o644  # readable by anyone who learns the name
    assert os.access(sub / f"{ASSIGNMENT}.ipynb", os.R_OK)
