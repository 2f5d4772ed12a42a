"""The worker side of ``framelab grade``: grading one submission in a worker process.

:func:`run_notebook` runs nbgrader's :class:`~nbgrader.converters.Autograde`, exactly as configured
for the course, on one trainee's snapshot, with every kernel in the operating-system sandbox
(:mod:`framelab.grading.sandbox`), into a private folder and a private copy of the gradebook (or, with a
server database, into the gradebook itself). It never writes the course's ``autograded/`` or
``submitted/``: :mod:`framelab.grading.command`, in the parent process, records the result.

A kernel that dies as it starts, or a gradebook server that goes away for a moment, is retried
within a bound; nbgrader's errors become a plain reason (:func:`plain_reason`). No one notebook may
take longer than :data:`NOTEBOOK_TIMEOUT`.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framelab.grading import dbretry
from framelab.grading.gradebook import extract

#: The marker a worker leaves in its work folder once it starts on a submission (should the worker
#: die, the parent grades the submissions that had started again, each on its own).
STARTED = "started"


def env_path() -> dict[str, str]:
    """nbgrader runs helpers such as ``alembic`` by name: put this environment's bin first."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[:1] != [bin_dir]:
        os.environ["PATH"] = bin_dir + os.pathsep + path
    return dict(os.environ)


@contextlib.contextmanager
def _cwd(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def load_app(course: Path, assignment: str, nbgrader_args: Sequence[str] = ()) -> Any:
    """An initialised ``AutogradeApp``: the course's config read exactly as the command reads it."""
    from nbgrader.apps import AutogradeApp

    env_path()
    with _cwd(course):
        app = AutogradeApp()
        app.initialize([assignment, "--log-level=ERROR", *nbgrader_args])
    return app


_APP: Any = None
_JOB: dict[str, Any] = {}
#: The parent's app, inherited by forked workers (so that they need not read the config again).
_FORKED: Any = None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _init_worker(
    course: str,
    assignment: str,
    nbgrader_args: Sequence[str],
    log: str | None,
    notebook_timeout: float = 0,
    snapshots_dir: str | None = None,
    sandbox: bool = False,
) -> None:
    """Runs once in each worker: quiet output, the course's nbgrader config (read once), the sandbox."""
    global _APP
    # Ctrl+C goes to the parent, which lets running submissions finish; kernels run in
    # their own session, so they never see it either
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    _APP = _FORKED if _FORKED is not None else load_app(Path(course), assignment, nbgrader_args)
    # nbgrader keeps its logger at DEBUG and filters in the handlers; here only errors matter
    # (they become the reasons in the summary), and skipping the rest saves real time
    for handler in list(_APP.log.handlers):
        _APP.log.removeHandler(handler)
    _APP.log.setLevel(logging.ERROR)
    if log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR)
        _APP.log.addHandler(handler)
    if sandbox:
        _sandbox_app(_APP)
    _JOB.update(course=course, assignment=assignment, notebook_timeout=notebook_timeout, snapshots=snapshots_dir)


def _sandbox_app(app: Any) -> None:
    """Make every kernel this app's Autograde starts run in the sandbox."""
    from nbgrader.converters import Autograde

    from framelab.grading.sandbox import sandboxed

    config = app.config.Autograde
    current = (
        config["autograde_preprocessors"]
        if "autograde_preprocessors" in config
        else Autograde.class_traits()["autograde_preprocessors"].default_value
    )
    app.config.Autograde.autograde_preprocessors = sandboxed(list(current))


def run_notebook(student: str, work: str, gradebook_copy: str | None, db_url: str) -> dict[str, Any]:
    """Grade one snapshot with nbgrader's converter into a private folder (and gradebook)."""
    start = time.perf_counter()
    assignment = _JOB["assignment"]
    private = Path(work)
    private.mkdir(parents=True, exist_ok=True)
    os.chmod(private, 0o700)
    (private / STARTED).touch()  # tells the parent this one was running, should the worker die
    if gradebook_copy:
        db = private / "gradebook.db"
        shutil.copyfile(gradebook_copy, db)
        db_url = f"sqlite:///{db}"
    coursedir = _private_coursedir(student, private, db_url)
    os.environ["FRAMELAB_STUDENT"] = student  # the kernel shows this trainee's variant (bank.variants)
    _stopped_by_sandbox()  # forget an earlier notebook's
    ok, reason, db_waits, db_waited = _run_bounded(coursedir, db_url, retry_db=not gradebook_copy)
    if stopped := _stopped_by_sandbox():  # the whole tree past its memory bound: that is the reason
        ok, reason = False, stopped
    graded = private / "autograded" / student / assignment
    if ok and (too_big := oversized(graded)):  # before anything reaches the gradebook or autograded/
        ok, reason = False, too_big
    data = None
    if ok and gradebook_copy:
        try:
            data = extract(db_url, coursedir.course_id, assignment, student)
        except Exception as exc:
            ok, reason = False, plain_reason(f"{type(exc).__name__}: {exc}")
    return {
        "student": student,
        "ok": ok,
        "reason": reason,
        "data": data,
        "graded": str(graded),
        "seconds": time.perf_counter() - start,
        "db_waits": db_waits,
        "db_waited": db_waited,
    }


def _stopped_by_sandbox() -> str:
    """Why the sandbox stopped this worker's last notebook (its memory bound), or ""."""
    from framelab.grading.sandbox import take_stopped

    return take_stopped()


def _private_coursedir(student: str, private: Path, db_url: str) -> Any:
    """The course as this one run sees it: the snapshot for ``submitted/``, a private ``autograded/``."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(parent=_APP, root=_JOB["course"])
    coursedir.db_url = db_url
    if _JOB.get("snapshots"):
        coursedir.submitted_directory = _JOB["snapshots"]  # the snapshot, never the live submitted/
    coursedir.autograded_directory = str(private / "autograded")
    coursedir.assignment_id = _JOB["assignment"]
    coursedir.student_id = glob.escape(student)
    coursedir.notebook_id = "*"
    return coursedir


def _run_bounded(coursedir: Any, db_url: str, retry_db: bool) -> tuple[bool, str, int, float]:
    """nbgrader's autograde within the notebook's time bound, riding out a gradebook server's restart
    (``retry_db``). Returns (ok, the plain reason when not, database waits, seconds waited)."""
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException

    app = _APP
    collect = _Collect()
    app.log.addHandler(collect)
    ok, reason = True, ""
    limit = float(_JOB.get("notebook_timeout") or 0)
    if limit > 0:
        signal.signal(signal.SIGALRM, _too_long)
        signal.setitimer(signal.ITIMER_REAL, limit)
    db_waits, db_waited = 0, 0.0
    try:
        while True:
            try:
                _autograde(Autograde, NbGraderException, coursedir, app, collect)
                break
            except Exception as exc:
                # a gradebook server that went away (a restart) is not the submission's fault: wait for
                # it and grade again (nbgrader's writes are update-or-create: nothing is recorded twice)
                lost = dbretry.is_transient(exc) or dbretry.transient_text(collect.messages)
                if not retry_db or not lost or db_waits >= DB_RETRIES:
                    raise
                db_waits += 1
                db_waited += dbretry.wait_reachable(db_url)
    except NotebookTimeout:
        ok, reason = False, f"grading took longer than {limit:g} s (the notebook hangs or stalls its kernel)"
    except NbGraderException as exc:
        ok, reason = False, plain_reason(_reason(collect.messages) or str(exc))
    except Exception as exc:
        ok, reason = False, plain_reason(f"{type(exc).__name__}: {exc}")
    finally:
        if limit > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
        app.log.removeHandler(collect)
    return ok, reason, db_waits, db_waited


def _autograde(autograde: Any, failure: type, coursedir: Any, app: Any, collect: _Collect) -> None:
    for attempt in range(1 + STARTUP_RETRIES):
        collect.messages.clear()
        try:
            converter = autograde(coursedir=coursedir, parent=app)
            converter.force = True
            converter.start()
            return
        except failure:
            # a kernel that dies while starting (a race when many start at once) is the
            # machine's fault, not the submission's: try that submission again
            if attempt < STARTUP_RETRIES and any(p in m for m in collect.messages for p in STARTUP_FAILURES):
                continue
            raise


#: How large one graded notebook (its outputs included) may be. An honest one is well under 1 MB:
#: each output is cut at 20,000 characters, but not the number of outputs, and feedback reads the
#: whole notebook into memory (72 MB of outputs took 12.5 GB and 254 s there).
MAX_GRADED_BYTES = 5_000_000


def oversized(folder: Path, limit: int = MAX_GRADED_BYTES) -> str:
    """A plain reason when a graded notebook in ``folder`` is past ``limit`` bytes, or ""."""
    try:
        sizes = {p.name: p.lstat().st_size for p in folder.glob("*.ipynb")}
    except OSError as exc:
        return f"the graded notebook could not be read ({exc.strerror or exc})"
    for name, size in sorted(sizes.items()):
        if size > limit:
            return (
                f"{name} came out of grading {size / 1e6:.0f} MB in size (its outputs; at most {limit / 1e6:.0f} MB): "
                "its code prints far more than the module asks; ask the trainee to clear the extra output and resubmit"
            )
    return ""


#: The worker's entry point under its old name.
_grade_one = run_notebook

#: How nbgrader reports a kernel that failed to start, and how often such a submission is retried.
STARTUP_FAILURES = ("before replying to kernel_info", "Kernel didn't respond", "Kernel died before")
STARTUP_RETRIES = 2
#: How often one submission waits for a gradebook server that went away, and is graded again.
DB_RETRIES = 3

#: No one submission may take longer than this to grade (each cell also has nbgrader's own
#: ``Execute.timeout``; a notebook that stalls its kernel would otherwise wait that long per cell).
NOTEBOOK_TIMEOUT = 300.0


class NotebookTimeout(BaseException):
    """One submission took longer than the whole-notebook bound. A ``BaseException``, like
    ``KeyboardInterrupt``, so that nbgrader's own ``except Exception`` does not swallow it."""


def _too_long(signum: int, frame: Any) -> None:
    raise NotebookTimeout


#: nbgrader's and nbclient's own errors, and what they mean for the instructor.
_PLAIN = (
    ("DeadKernelError", "the notebook stopped its own kernel (os._exit, or a crash): nothing could be graded"),
    ("ValidationError", "the notebook's grading metadata was changed or damaged, so nbgrader refused it"),
    ("KeyError: 'grade_id'", "the notebook's grading metadata was changed (a grade id is missing)"),
    ("NotJSONError", "the notebook is not valid JSON: the upload was cut short or edited by hand"),
    ("JSONDecodeError", "the notebook is not valid JSON: the upload was cut short or edited by hand"),
    ("CellTimeoutError", "a cell ran past the time limit"),
    ("NotebookTimeout", "grading took longer than the whole-notebook limit (the notebook hangs or stalls its kernel)"),
)


def plain_reason(technical: str) -> str:
    """What went wrong, in words an instructor can act on, with nbgrader's own line after it."""
    for key, words in _PLAIN:
        if key in technical:
            return f"{words} ({technical[:160]})"
    return technical


def _reason(messages: list[str]) -> str:
    """The most telling line of nbgrader's error log: the last line of a traceback."""
    tracebacks = [m for m in messages if m.startswith("Traceback")]
    if tracebacks:
        lines = [line.strip() for line in tracebacks[-1].strip().splitlines()]
        words = [line for line in lines if any(ch.isalpha() for ch in line)]
        errors = [line for line in words if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
        return (errors or words or [""])[-1][:300]
    useful = [m for m in messages if m.strip() and not m.startswith(("There was an error processing", "Please see"))]
    return useful[0].strip().splitlines()[0][:300] if useful else ""
