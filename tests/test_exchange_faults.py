"""``framelab.exchange.PrivateSubmit`` when the exchange cannot take a submission: the inbound
folder is full, or read-only. The trainee gets one plain sentence; a half-made copy of the new
submission is removed; what was handed in before is untouched. (The load test checks the
read-only case again through the hub, as a real trainee account.)"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from conftest import copy_course, nbgrader
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.abc.exchange import ExchangeError
from traitlets.config import Config

from framelab.grading import exchange

pytestmark = pytest.mark.slow

ASSIGNMENT = "m0_orientation"


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash and mode: what 'untouched' means."""
    return {
        p.relative_to(folder).as_posix(): f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_mode:o}"
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {p.relative_to(folder).as_posix() + "/": "" for p in folder.rglob("*") if p.is_dir()}


@pytest.fixture
def handed_in(tmp_path) -> dict:
    """A course whose inbound folder (set-group, as deployed) already holds one submission."""
    course = copy_course(tmp_path / "course")
    root, cache = tmp_path / "exchange", tmp_path / "cache"
    args = [f"--Exchange.root={root}", f"--Exchange.cache={cache}"]
    inbound = root / "framelab" / "inbound"
    inbound.mkdir(parents=True)
    inbound.chmod(0o2733)
    nbgrader("release_assignment", ASSIGNMENT, *args, cwd=course)
    home = tmp_path / "home"
    home.mkdir()
    nbgrader("fetch_assignment", ASSIGNMENT, "--course=framelab", *args, cwd=home)
    submit = ["submit", ASSIGNMENT, "--course=framelab", "--ExchangeFactory.submit=framelab.exchange.PrivateSubmit"]
    nbgrader(*submit, *args, cwd=home)
    assert len(list(inbound.iterdir())) == 1
    return {"root": root, "cache": cache, "home": home, "inbound": inbound}


def submitter(h: dict) -> exchange.PrivateSubmit:
    config = Config()
    config.Exchange.root = str(h["root"])
    config.Exchange.cache = str(h["cache"])
    config.Exchange.assignment_dir = str(h["home"])
    config.CourseDirectory.course_id = "framelab"
    config.CourseDirectory.assignment_id = ASSIGNMENT
    coursedir = CourseDirectory(config=config)
    return exchange.PrivateSubmit(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)


def test_a_full_inbound_folder_gets_a_plain_message_and_touches_nothing(handed_in, monkeypatch):
    before = tree(handed_in["inbound"])
    real_copy, copied = shutil.copyfile, []

    def fills_up(src, dst, *a, **kw):
        if copied:  # the first file goes in, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        copied.append(dst)
        return real_copy(src, dst, *a, **kw)

    monkeypatch.setattr(exchange.shutil, "copyfile", fills_up)
    with pytest.raises(ExchangeError) as raised:
        submitter(handed_in).start()
    assert str(raised.value) == exchange.FULL
    assert "Traceback" not in str(raised.value) and "inbound" not in str(raised.value)
    assert copied, "the copy never started, so the test proved nothing"
    # the half-made new submission is gone; the earlier one is exactly as it was
    assert tree(handed_in["inbound"]) == before


def test_a_read_only_inbound_folder_gets_a_plain_message(handed_in, monkeypatch):
    before = tree(handed_in["inbound"])
    real_access = os.access
    inbound = str(handed_in["inbound"])
    # tests may run as root, for whom every folder is writable: answer as a trainee would be answered
    monkeypatch.setattr(exchange.os, "access", lambda p, m: False if str(p) == inbound else real_access(p, m))
    with pytest.raises(ExchangeError) as raised:
        submitter(handed_in).start()
    assert str(raised.value) == exchange.CLOSED
    assert tree(handed_in["inbound"]) == before


def test_a_full_home_folder_after_handing_in_still_hands_in(handed_in, monkeypatch):
    """The second copy (into the trainee's own cache) failing does not undo a complete hand-in."""
    real_copy = shutil.copyfile
    cache = str(handed_in["cache"])

    def cache_full(src, dst, *a, **kw):
        if str(dst).startswith(cache):
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        return real_copy(src, dst, *a, **kw)

    monkeypatch.setattr(exchange.shutil, "copyfile", cache_full)
    monkeypatch.setattr("shutil.copyfile", cache_full)  # nbgrader's own copy (stock do_copy) for the cache
    submitter(handed_in).start()
    subs = sorted(handed_in["inbound"].iterdir())
    assert len(subs) == 2
    newest = max(subs, key=lambda p: (p / "timestamp.txt").read_text())
    assert (newest / f"{ASSIGNMENT}.ipynb").is_file() and (newest / "submission_secret.txt").is_file()


@pytest.mark.parametrize(
    ("code", "message"),
    [(errno.ENOSPC, exchange.FULL), (errno.EDQUOT, exchange.FULL), (errno.EROFS, exchange.CLOSED)],
)
def test_plain_failure_names_the_cause(code, message):
    assert exchange.plain_failure(OSError(code, os.strerror(code))) == message


def test_an_unexpected_error_is_named_in_plain_words():
    text = exchange.plain_failure(OSError(errno.EIO, "Input/output error"))
    assert "Input/output error" in text and "safe in your own folder" in text
