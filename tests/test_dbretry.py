"""``framelab.grading.dbretry``: a lost connection is retried within a bound; a real error is not; a real
PostgreSQL server stopped and started again mid-operation is ridden out."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from framelab.grading import dbretry

REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5999 failed: Connection refused'
SHUTDOWN = "terminating connection due to administrator command"


def sa_error(message: str) -> OperationalError:
    """What SQLAlchemy raises over psycopg when the server is away."""

    class DriverOperationalError(Exception):
        pass

    DriverOperationalError.__name__ = "OperationalError"
    return OperationalError("SELECT 1", {}, DriverOperationalError(message))


class Clock:
    """A fake clock: sleeping moves it on, so the bounds are tested without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def flaky(failures: list[BaseException], result: str = "done"):
    calls = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result

    return fn, calls


@pytest.mark.parametrize(
    "exc",
    [
        sa_error(REFUSED),
        sa_error(SHUTDOWN),
        sa_error("the database system is starting up"),
        sa_error("server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_lost_connections_are_transient(exc):
    assert dbretry.is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("INSERT", {}, Exception('duplicate key value violates unique constraint "submission_pkey"')),
        sa_error('relation "grade" does not exist'),
        ValueError("connection refused"),  # the words alone, in an unrelated error, are not enough
        KeyError("student"),
    ],
)
def test_real_errors_are_not_transient(exc):
    assert not dbretry.is_transient(exc)


def test_an_error_wrapped_by_nbgrader_is_found_through_its_cause():
    try:
        try:
            raise sa_error(REFUSED)
        except OperationalError as inner:
            raise RuntimeError("autograding failed") from inner
    except RuntimeError as outer:
        assert dbretry.is_transient(outer)


def test_nbgraders_logged_messages_are_read():
    assert dbretry.transient_text(["Some notebook", f"(psycopg.OperationalError) {REFUSED}"])
    assert not dbretry.transient_text(["AssertionError: item m1-r013 is not answered"])


def test_call_waits_doubling_and_succeeds_when_the_server_is_back():
    clock, retries = Clock(), dbretry.Retries()
    fn, calls = flaky([sa_error(REFUSED), sa_error(REFUSED), sa_error(SHUTDOWN)])
    assert dbretry.call(fn, what="recording a score", retries=retries, sleep=clock.sleep, clock=clock) == "done"
    assert len(calls) == 4
    assert clock.slept == [0.5, 1.0, 2.0]
    assert retries.count == 3 and retries.waited == 3.5
    assert "3 times" in retries.summary() and "no submission was lost" in retries.summary()


def test_call_raises_a_real_error_at_once():
    clock = Clock()
    fn, calls = flaky([IntegrityError("INSERT", {}, Exception("duplicate key"))])
    with pytest.raises(IntegrityError):
        dbretry.call(fn, what="x", sleep=clock.sleep, clock=clock)
    assert len(calls) == 1 and clock.slept == []


def test_call_gives_up_at_the_attempt_bound_with_a_plain_message():
    clock = Clock()
    fn, calls = flaky([sa_error(REFUSED)] * 100)
    with pytest.raises(dbretry.GradebookUnavailable) as raised:
        dbretry.call(fn, what="recording a score", attempts=4, sleep=clock.sleep, clock=clock)
    assert len(calls) == 4
    text = str(raised.value)
    assert "recording a score" in text and "run framelab grade again" in text and "\n" not in text


def test_call_gives_up_at_the_time_bound():
    clock = Clock()
    fn, calls = flaky([sa_error(REFUSED)] * 100)
    with pytest.raises(dbretry.GradebookUnavailable):
        dbretry.call(fn, what="x", attempts=100, deadline=20, sleep=clock.sleep, clock=clock)
    assert clock.now <= 20 and sum(clock.slept) <= 20
    assert len(calls) < 100


def test_nothing_retried_says_nothing():
    assert dbretry.Retries().summary() == ""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as the 'postgres' account: needs root here")
def test_a_real_postgres_restart_is_ridden_out():
    from hubkit import postgres
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    with postgres(Path(tempfile.mkdtemp(prefix="framelab-dbretry-"))) as pg:
        engine = create_engine(pg.url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE scores (student TEXT PRIMARY KEY, score REAL)"))
        pg.stop("fast")
        assert not dbretry.reachable(pg.url)
        restarter = threading.Timer(2.0, pg.start)
        restarter.start()
        retries = dbretry.Retries()

        def record() -> None:
            with engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO scores VALUES ('t1', 12) ON CONFLICT (student) DO UPDATE SET score = 12")
                )

        start = time.monotonic()
        dbretry.call(record, what="recording t1's score", retries=retries, deadline=60)
        restarter.join()
        assert retries.count >= 1 and time.monotonic() - start < 60
        assert dbretry.wait_reachable(pg.url, deadline=30) < 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT student, score FROM scores")).all() == [("t1", 12.0)]
        engine.dispose()


def test_the_parents_gradebook_steps_ride_out_a_server_restart(monkeypatch):
    """gradebook.patiently (every write framelab grade's parent makes) waits for a server that went away."""
    from framelab.grading import gradebook

    class OperationalError(Exception):
        pass

    calls, undone = [], []

    def step():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return "written"

    monkeypatch.setattr(dbretry, "wait_reachable", lambda url: 2.5)
    retries = dbretry.Retries()
    url = "postgresql+psycopg://grader@127.0.0.1:5999/gradebook"
    assert gradebook.patiently(step, url, undo=lambda: undone.append(1), retries=retries) == "written"
    assert (len(calls), len(undone), retries.count, retries.waited) == (2, 1, 1, 2.5)
    assert "could not be reached once" in retries.summary()


def test_a_server_that_stays_away_is_one_plain_line(monkeypatch):
    from framelab.grading import gradebook

    def gone(url):
        raise dbretry.GradebookUnavailable("The gradebook's database could not be reached for 90 s while ...")

    def step():
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(dbretry, "wait_reachable", gone)
    with pytest.raises(gradebook.GradebookLocked, match="could not be reached for 90 s"):
        gradebook.patiently(step, "postgresql+psycopg://grader@127.0.0.1:5999/gradebook")


def test_a_real_error_is_not_retried():
    from framelab.grading import gradebook

    def step():
        raise ValueError("no such column: score")

    with pytest.raises(ValueError, match="no such column"):
        gradebook.patiently(step, "postgresql+psycopg://grader@127.0.0.1:5999/gradebook")
