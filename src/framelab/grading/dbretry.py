"""Riding out a gradebook server that goes away for a moment (a restart, a fail-over, a dropped
connection) instead of failing a trainee's submission for it.

Three pieces, for :mod:`framelab.grading.command` and anything else that writes to the gradebook:

* :func:`is_transient` (an exception) and :func:`transient_text` (nbgrader's logged error
  messages, which is all a grading worker sees) tell a lost connection from a real error;
* :func:`call` runs an operation, and when the server is away, waits (doubling, bounded in
  attempts *and* in time) and runs it again;
* :func:`wait_reachable` waits, within a bound, until the database accepts connections again;
* :class:`Retries` counts what happened, for one plain line in the grading summary.

Only operations that can safely run twice may be retried: nbgrader's gradebook writes are
"update or create" (a submission is never recorded twice), and autograding a submission again
replaces its earlier result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

#: Lower-case fragments of the messages PostgreSQL, psycopg, SQLAlchemy and SQLite give when the
#: server is away or busy for a moment, never for a wrong query or bad data.
TRANSIENT_MESSAGES = (
    "connection refused",
    "could not connect to server",
    "connection failed",
    "server closed the connection unexpectedly",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "connection reset by peer",
    "connection timed out",
    "consuming input failed",
    "the connection is closed",
    "connection is lost",
    "ssl syscall error",
    "database is locked",
)
#: Exception class names that mean "the connection", whatever the driver.
TRANSIENT_CLASSES = ("OperationalError", "InterfaceError", "DisconnectionError", "AdminShutdown")

#: Defaults: up to 8 attempts, waits of 0.5, 1, 2, 4, 8, 8, 8 s, and never more than 90 s in all.
ATTEMPTS = 8
FIRST_DELAY = 0.5
MAX_DELAY = 8.0
DEADLINE = 90.0


class GradebookUnavailable(RuntimeError):
    """The gradebook stayed unreachable past the bound; the message says what to do."""


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes and contexts, and SQLAlchemy's wrapped driver error (``.orig``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        orig = getattr(e, "orig", None)
        todo += [e.__cause__, e.__context__, orig if isinstance(orig, BaseException) else None]


def transient_text(messages: str | Iterable[str]) -> bool:
    """Whether logged error text says the database was away (not that the query or data were wrong)."""
    text = messages if isinstance(messages, str) else "\n".join(messages)
    text = text.lower()
    return any(fragment in text for fragment in TRANSIENT_MESSAGES)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost or refused connection to the database, worth trying again."""
    for e in _chain(exc):
        if isinstance(e, ConnectionError | TimeoutError):
            return True
        if type(e).__name__ in TRANSIENT_CLASSES and transient_text(str(e)):
            return True
        if type(e).__name__ in ("DisconnectionError", "AdminShutdown"):
            return True
    return False


@dataclass
class Retries:
    """What the retries did during one run, for the summary."""

    count: int = 0
    waited: float = 0.0
    events: list[str] = field(default_factory=list)

    def note(self, what: str, exc: BaseException, delay: float) -> None:
        self.count += 1
        self.waited += delay
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.events.append(f"{what}: {first[:200]}")

    def merge(self, other: Retries) -> None:
        self.count += other.count
        self.waited += other.waited
        self.events += other.events

    def summary(self) -> str:
        """One plain line, or '' when nothing had to be retried."""
        if not self.count:
            return ""
        times = "once" if self.count == 1 else f"{self.count} times"
        return (
            f"The gradebook's database could not be reached {times} during grading; each time grading "
            f"waited and tried again ({self.waited:.1f} s of waiting in all), so no submission was lost to it."
        )


def call(
    fn: Callable[[], T],
    *,
    what: str,
    retries: Retries | None = None,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
    deadline: float = DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    recover: Callable[[BaseException], float] | None = None,
) -> T:
    """Run ``fn``; while it fails because the database is away, wait and run it again, at most
    ``attempts`` times and ``deadline`` seconds in all. Any other error is raised at once; a
    database still away at the bound raises :class:`GradebookUnavailable` with a plain message.

    The wait doubles from ``first_delay``; or, given ``recover``, that is called with the error
    instead (to roll back and wait until the database answers again, :func:`wait_reachable`) and
    returns the seconds it waited."""
    start, delay = clock(), first_delay
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            pause = 0.0 if recover is not None else delay
            if attempt == attempts or clock() - start + pause > deadline:
                raise GradebookUnavailable(unavailable(what, clock() - start, exc)) from exc
            if recover is not None:
                waited = recover(exc)
            else:
                sleep(delay)
                waited, delay = delay, min(delay * 2, max_delay)
            if retries is not None:
                retries.note(what, exc, waited)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def unavailable(what: str, seconds: float, exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return (
        f"The gradebook's database could not be reached for {seconds:.0f} s while {what} ({first}). "
        "Check that the database server is running, then run framelab grade again: submissions "
        "already graded are kept and are not graded twice."
    )


def reachable(db_url: str) -> bool:
    """Whether the database at ``db_url`` accepts a connection and a trivial query now."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        if is_transient(exc):
            return False
        raise
    finally:
        engine.dispose()


def wait_reachable(
    db_url: str,
    *,
    deadline: float = DEADLINE,
    every: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Wait until the database accepts connections; return the seconds waited. Past ``deadline``,
    raise :class:`GradebookUnavailable`."""
    start = clock()
    while not reachable(db_url):
        if clock() - start + every > deadline:
            raise GradebookUnavailable(unavailable("waiting for it to come back", clock() - start, ConnectionError()))
        sleep(every)
    return clock() - start
