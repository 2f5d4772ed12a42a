"""Parallel autograding through nbgrader's own converter (``framelab grade``).

Stock ``nbgrader autograde`` grades one submission after another. Here each submission is
graded by nbgrader's :class:`~nbgrader.converters.Autograde`, exactly as configured for the
course, in one of N worker processes. SQLite is not safe for concurrent writers, so with the
default SQLite gradebook:

* the parent takes one consistent snapshot of the gradebook (SQLite's backup API);
* each worker grades a submission into a private copy of that snapshot and a private
  ``autograded`` folder, so workers never share a file;
* the parent alone writes the real gradebook: it copies the submission's rows (student,
  submission, per-cell grades and comments) from the private copy, commits, and only then
  moves the graded notebook into ``autograded/``.

A submission therefore counts as graded only once both its gradebook rows and its
``autograded/<student>/<assignment>`` folder are in place, which is what resuming checks.
With a server database (``CourseDirectory.db_url`` pointing at PostgreSQL, say), the
database serialises writers itself and the workers write to it directly.

Nothing under ``submitted/`` is ever written. One failed submission is reported with its
reason and never stops the others.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

Status = str  # "graded" | "failed" | "skipped"
STARTED = "started"


@dataclass
class Outcome:
    """What happened to one trainee's submission."""

    student: str
    status: Status
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    reason: str = ""


@dataclass
class GradeRun:
    assignment: str
    jobs: int
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    #: whether classification items were rescored out of kernel (needs the bank in ``modules/``)
    checked: bool = True

    def by_status(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.by_status("failed")

    def summary(self) -> str:
        """A plain-text table: one row per trainee, then the totals."""
        rows = sorted(self.outcomes, key=lambda o: (o.status != "failed", o.student))
        width = max([len("trainee"), *(len(o.student) for o in rows)])
        lines = [f"{'trainee':<{width}}  {'status':<8}  {'score':>11}  {'seconds':>7}  reason"]
        for o in rows:
            score = f"{o.score:g} / {o.max_score:g}" if o.score is not None and o.max_score is not None else ""
            secs = f"{o.seconds:.1f}" if o.status != "skipped" else ""
            lines.append(f"{o.student:<{width}}  {o.status:<8}  {score:>11}  {secs:>7}  {o.reason}")
        graded, failed, skipped = (len(self.by_status(s)) for s in ("graded", "failed", "skipped"))
        per = f", {self.seconds / graded:.2f} s per notebook" if graded else ""
        lines.append(
            f"{self.assignment}: {graded} graded, {failed} failed, {skipped} already graded (skipped) "
            f"in {self.seconds:.1f} s with {self.jobs} worker(s){per}."
        )
        if not self.checked:
            lines.append(
                "No bank (modules/) for this assignment here: nbgrader's own scores stand, unchecked. "
                "Run from the course root to have classification items rescored without running trainee code."
            )
        if self.interrupted:
            lines.append("Interrupted: run the same command again to grade the rest (finished trainees are kept).")
        if failed:
            lines.append("Failed submissions were not graded; fix or ask for a resubmission, then run again.")
        return "\n".join(lines)


# --------------------------------------------------------------------------- nbgrader set-up


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


def _is_sqlite(db_url: str) -> bool:
    return db_url.startswith("sqlite:///")


def _sqlite_file(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


def snapshot_sqlite(db_url: str, dest: Path) -> None:
    """A consistent copy of a SQLite gradebook, even if something is writing to it."""
    src = sqlite3.connect(_sqlite_file(db_url))
    dst = sqlite3.connect(dest)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


def extract(db_url: str, course_id: str, assignment: str, student: str) -> dict[str, Any] | None:
    """One submission's gradebook rows as plain data (what merging copies)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        st = sub.student
        data: dict[str, Any] = {
            "student": {
                "first_name": st.first_name,
                "last_name": st.last_name,
                "email": st.email,
                "lms_user_id": st.lms_user_id,
            },
            "timestamp": sub.timestamp,
            "extension": sub.extension,
            "notebooks": {},
        }
        for nb in sub.notebooks:
            data["notebooks"][nb.name] = {
                "flagged": nb.flagged,
                "late_submission_penalty": nb.late_submission_penalty,
                "grades": {
                    g.name: {
                        "auto_score": g.auto_score,
                        "manual_score": g.manual_score,
                        "extra_credit": g.extra_credit,
                        "needs_manual_grade": g.needs_manual_grade,
                    }
                    for g in nb.grades
                },
                "comments": {
                    c.name: {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment} for c in nb.comments
                },
            }
        return data


def merge(gb: Any, assignment: str, student: str, data: dict[str, Any]) -> tuple[float, float]:
    """Write one submission's rows (from :func:`extract`) into an open gradebook; return (score, max)."""
    with warnings.catch_warnings():
        # nbgrader's update_or_create_submission triggers SQLAlchemy autoflush warnings
        warnings.simplefilter("ignore")
        return _merge(gb, assignment, student, data)


def _merge(gb: Any, assignment: str, student: str, data: dict[str, Any]) -> tuple[float, float]:
    from nbgrader.api import MissingEntry

    try:
        gb.find_student(student)
    except MissingEntry:
        gb.add_student(student, **{k: v for k, v in data["student"].items() if v is not None})
    kwargs = {"timestamp": data["timestamp"]} if data["timestamp"] is not None else {}
    sub = gb.update_or_create_submission(assignment, student, **kwargs)
    sub.extension = data["extension"]
    for nb_name, nb_data in data["notebooks"].items():
        snb = gb.find_submission_notebook(nb_name, assignment, student)
        snb.flagged = nb_data["flagged"]
        snb.late_submission_penalty = nb_data["late_submission_penalty"]
        for g in snb.grades:
            for key, value in nb_data["grades"].get(g.name, {}).items():
                setattr(g, key, value)
        for c in snb.comments:
            for key, value in nb_data["comments"].get(c.name, {}).items():
                setattr(c, key, value)
    gb.db.commit()
    sub = gb.find_submission(assignment, student)
    return float(sub.score), float(sub.max_score)


# --------------------------------------------------------------------------- worker side

_APP: Any = None
_JOB: dict[str, Any] = {}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _init_worker(
    course: str, assignment: str, nbgrader_args: Sequence[str], log: str | None, notebook_timeout: float = 0
) -> None:
    """Runs once in each worker: quiet output, load the course's nbgrader config once."""
    global _APP
    # Ctrl+C goes to the parent, which lets running submissions finish; kernels run in
    # their own session (jupyter_client), so they never see it either
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    _APP = load_app(Path(course), assignment, nbgrader_args)
    # nbgrader keeps its logger at DEBUG and filters in the handlers; here only errors matter
    # (they become the reasons in the summary), and skipping the rest saves real time
    for handler in list(_APP.log.handlers):
        _APP.log.removeHandler(handler)
    _APP.log.setLevel(logging.ERROR)
    if log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR)
        _APP.log.addHandler(handler)
    _JOB.update(course=course, assignment=assignment, notebook_timeout=notebook_timeout)


def _grade_one(student: str, work: str, snapshot: str | None, db_url: str) -> dict[str, Any]:
    """Grade one submission with nbgrader's converter into a private folder (and gradebook)."""
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory

    start = time.perf_counter()
    app = _APP
    assignment = _JOB["assignment"]
    private = Path(work)
    private.mkdir(parents=True, exist_ok=True)
    (private / STARTED).touch()  # tells the parent this one was running, should the worker die
    if snapshot:
        db = private / "gradebook.db"
        shutil.copyfile(snapshot, db)
        db_url = f"sqlite:///{db}"
    coursedir = CourseDirectory(parent=app, root=_JOB["course"])
    coursedir.db_url = db_url
    coursedir.autograded_directory = str(private / "autograded")
    coursedir.assignment_id = assignment
    coursedir.student_id = glob.escape(student)
    coursedir.notebook_id = "*"
    collect = _Collect()
    app.log.addHandler(collect)
    ok, reason = True, ""
    limit = float(_JOB.get("notebook_timeout") or 0)
    if limit > 0:
        signal.signal(signal.SIGALRM, _too_long)
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        for attempt in range(1 + STARTUP_RETRIES):
            collect.messages.clear()
            try:
                converter = Autograde(coursedir=coursedir, parent=app)
                converter.force = True
                converter.start()
                break
            except NbGraderException:
                # a kernel that dies while starting (a port race when many start at once) is the
                # machine's fault, not the submission's: try that submission again
                if attempt < STARTUP_RETRIES and any(p in m for m in collect.messages for p in STARTUP_FAILURES):
                    continue
                raise
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
    data = extract(db_url, coursedir.course_id, assignment, student) if snapshot else None
    return {
        "student": student,
        "ok": ok,
        "reason": reason,
        "data": data,
        "graded": str(private / "autograded" / student / assignment),
        "seconds": time.perf_counter() - start,
    }


#: How nbgrader reports a kernel that failed to start, and how often such a submission is retried.
STARTUP_FAILURES = ("before replying to kernel_info", "Kernel didn't respond", "Kernel died before")
STARTUP_RETRIES = 2

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


# --------------------------------------------------------------------------- parent side


def submitted_students(coursedir: Any, assignment: str) -> list[str]:
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    students = []
    for path in glob.glob(pattern):
        if os.path.isdir(path):
            students.append(Path(path).parent.name)
    return sorted(students)


def graded_students(coursedir: Any, assignment: str, students: Iterable[str]) -> set[str]:
    """Trainees whose grading finished: gradebook rows and ``autograded/`` folder both present,
    and no newer submission since (nbgrader's own rule for re-grading)."""
    from nbgrader.api import Gradebook

    students = list(students)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        in_db = {s.student.id for s in gb.assignment_submissions(assignment)}
    done = set()
    for s in students:
        dest = coursedir.format_path(coursedir.autograded_directory, s, assignment)
        if s not in in_db or not os.path.isdir(dest):
            continue
        src = coursedir.format_path(coursedir.submitted_directory, s, assignment)
        new, old = coursedir.get_existing_timestamp(src), coursedir.get_existing_timestamp(dest)
        if new is not None and old is not None and new > old:
            continue
        done.add(s)
    return done


def _check_assignment(coursedir: Any, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"'{assignment}' is not in the gradebook: run 'nbgrader generate_assignment {assignment}' first."
            ) from None


def _expected_notebooks(coursedir: Any, assignment: str) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)


def preflight(folder: Path, notebooks: Sequence[str]) -> str:
    """A plain reason why a submission cannot be graded as it stands, or "" if it can.
    Only reads the folder; catches what would otherwise surface as nbgrader's own errors."""
    import json

    present = sorted(p.name for p in folder.glob("*.ipynb"))
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            others = f" (it has: {', '.join(present)})" if present else " (it has no notebook at all)"
            return (
                f"{path.name} is missing from the submission{others}: ask the trainee to submit it under its own name"
            )
        try:
            with path.open("rb") as fh:
                json.load(fh)
        except (ValueError, UnicodeDecodeError) as exc:
            where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
            return (
                f"{path.name} is not valid JSON{where}: the upload was cut short or edited by hand; "
                "ask for a resubmission"
            )
    return ""


class GradingError(Exception):
    """Grading cannot start; the message says why and what to do."""


def _progress(total: int, enabled: bool, assignment: str) -> Any:
    from tqdm import tqdm

    # no monitor thread: a fresh pool (after a worker died) forks, and forking wants no threads
    tqdm.monitor_interval = 0
    return tqdm(
        total=total,
        desc=f"grading {assignment}",
        unit="trainee",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]{postfix}",
    )


def grade(
    course: str | Path,
    assignment: str,
    *,
    jobs: int | None = None,
    students: Sequence[str] | None = None,
    force: bool = False,
    progress: bool = True,
    nbgrader_args: Sequence[str] = (),
    on_result: Callable[[Outcome], None] | None = None,
    notebook_timeout: float = NOTEBOOK_TIMEOUT,
) -> GradeRun:
    """Autograde every submission of ``assignment`` under ``course`` in ``jobs`` processes."""
    started = time.perf_counter()
    from nbgrader.api import Gradebook
    from nbgrader.utils import rmtree

    course = Path(course).resolve()
    jobs = max(1, jobs or os.cpu_count() or 1)
    app = load_app(course, assignment, nbgrader_args)
    coursedir = app.coursedir
    db_url = coursedir.db_url
    _check_assignment(coursedir, assignment)

    run = GradeRun(assignment, jobs)
    available = submitted_students(coursedir, assignment)
    wanted = list(dict.fromkeys(students)) if students else available
    for s in wanted:
        if s not in available:
            path = coursedir.format_path(coursedir.submitted_directory, s, assignment)
            run.outcomes.append(Outcome(s, "failed", reason=f"no submission at {path}"))
    wanted = [s for s in wanted if s in available]
    done = set() if force else graded_students(coursedir, assignment, wanted)
    if done:
        with Gradebook(db_url, coursedir.course_id) as gb:
            for s in sorted(done):
                sub = gb.find_submission(assignment, s)
                run.outcomes.append(Outcome(s, "skipped", score=sub.score, max_score=sub.max_score))
    todo = [s for s in wanted if s not in done]
    # nbgrader still grades these (so the gradebook matches stock), but when it fails, this is the reason shown
    expected = _expected_notebooks(coursedir, assignment)
    known_problems = {
        s: p
        for s in todo
        if (p := preflight(Path(coursedir.format_path(coursedir.submitted_directory, s, assignment)), expected))
    }
    if not todo:
        run.seconds = time.perf_counter() - started
        return run

    sqlite = _is_sqlite(db_url)
    work = Path(tempfile.mkdtemp(prefix=".framelab-grade-", dir=course))
    snapshot = None
    if sqlite:
        snapshot = str(work / "snapshot.db")
        snapshot_sqlite(db_url, Path(snapshot))
    log = str(work / "workers.log")
    env_path()
    # fork where there is one: the workers inherit the parent's imports (nbgrader takes seconds
    # to import) instead of paying for them again. The pool forks all its workers on the first
    # submit, before any thread (the pool's own, tqdm's) exists in this process.
    ctx = get_context("fork" if "fork" in get_all_start_methods() else "spawn")

    def new_pool(workers: int = min(jobs, len(todo))) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(str(course), assignment, tuple(nbgrader_args), log, notebook_timeout),
        )

    index = {s: n for n, s in enumerate(todo)}
    attempts = dict.fromkeys(todo, 0)
    pending: dict[Future, str] = {}

    def work_dir(s: str) -> Path:
        return work / f"s{index[s]:05d}-{attempts[s]}"

    def submit(pool: ProcessPoolExecutor, s: str) -> Future:
        attempts[s] += 1
        fut = pool.submit(_grade_one, s, str(work_dir(s)), snapshot, db_url)
        pending[fut] = s
        return fut

    check = out_of_kernel_check(course, coursedir, assignment)
    run.checked = check is not None
    pool = new_pool()
    for s in todo:
        submit(pool, s)
    bar = _progress(len(todo), progress, assignment)
    gb = Gradebook(db_url, coursedir.course_id) if sqlite else None
    abandoned = interrupted_once = False

    def record(outcome: Outcome) -> None:
        run.outcomes.append(outcome)
        if on_result:
            on_result(outcome)
        bar.update(1)
        failed = len(run.by_status("failed"))
        if failed:
            bar.set_postfix_str(f"{failed} failed")

    try:
        while pending:
            try:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                if interrupted_once:
                    raise
                interrupted_once = run.interrupted = True
                for fut in pending:
                    fut.cancel()
                pending = {f: s for f, s in pending.items() if not f.cancelled()}
                bar.write(
                    f"Interrupted: finishing the {len(pending)} submission(s) in progress, then stopping "
                    "(Ctrl+C again to abandon them)."
                )
                continue
            broken = []
            for fut in finished:
                student = pending.pop(fut)
                if isinstance(fut.exception(), BrokenProcessPool):
                    broken.append(student)
                else:
                    record(_finish(fut, student, coursedir, assignment, gb, rmtree, check, known_problems.get(student)))
            if broken:
                # A worker process died (a submission can kill its kernel's parent), and with it
                # the pool: every submission still in the pool fails with it. Those that had not
                # started go back in a fresh pool; those that were running are graded again, each
                # on its own, so that only the one that kills its worker is reported.
                wait(pending)
                broken += list(pending.values())
                pending.clear()
                pool.shutdown(wait=True)
                running = [s for s in broken if (work_dir(s) / STARTED).exists()]
                for student in sorted(running, key=index.__getitem__):
                    if run.interrupted:
                        record(Outcome(student, "failed", reason="its worker process died"))
                        continue
                    solo = new_pool(1)
                    fut = submit(solo, student)
                    wait([fut])
                    pending.pop(fut)
                    solo.shutdown(wait=True)
                    if isinstance(fut.exception(), BrokenProcessPool):
                        reason = "its worker process died, also when graded on its own"
                        record(Outcome(student, "failed", reason=reason))
                    else:
                        record(
                            _finish(fut, student, coursedir, assignment, gb, rmtree, check, known_problems.get(student))
                        )
                pool = new_pool()
                if not run.interrupted:
                    for student in sorted(set(broken) - set(running), key=index.__getitem__):
                        submit(pool, student)
    except KeyboardInterrupt:  # a second Ctrl+C: abandon the submissions in progress
        run.interrupted = abandoned = True
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
    finally:
        bar.close()
        pool.shutdown(wait=not abandoned, cancel_futures=True)
        if gb is not None:
            gb.close()
        shutil.rmtree(work, ignore_errors=True)
    run.seconds = time.perf_counter() - started
    return run


def _finish(
    fut: Future,
    student: str,
    coursedir: Any,
    assignment: str,
    gb: Any,
    rmtree: Any,
    check: Any = None,
    known_problem: str | None = None,
) -> Outcome:
    """Merge one worker's result into the course: gradebook first (with the out-of-kernel
    check's scores as the scores of record), then the graded folder."""
    try:
        res = fut.result()
    except Exception as exc:  # the worker itself died
        return Outcome(student, "failed", reason=f"worker failed: {type(exc).__name__}: {exc}")
    dest = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    if gb is not None and res["data"] is not None:
        merge(gb, assignment, student, res["data"])
    if dest.exists():
        rmtree(str(dest))
    if res["ok"]:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(res["graded"], dest)
        with _gradebook(gb, coursedir) as db:
            changed = check(db, student) if check is not None else []
            sub = db.find_submission(assignment, student)
            score, max_score = float(sub.score), float(sub.max_score)
        reason = ""
        if changed:
            reason = (
                f"{len(changed)} item score(s) set by the out-of-kernel check (the notebook's own run "
                "claimed more than its saved answers earn); see 'framelab audit'"
            )
        return Outcome(student, "graded", res["seconds"], score, max_score, reason=reason)
    reason = known_problem or res["reason"] or "nbgrader reported an error"
    return Outcome(student, "failed", res["seconds"], reason=reason)


@contextlib.contextmanager
def _gradebook(gb: Any, coursedir: Any):
    """The parent's open SQLite gradebook, or (for a server database) a connection of its own."""
    if gb is not None:
        yield gb
        return
    from nbgrader.api import Gradebook

    with Gradebook(coursedir.db_url, coursedir.course_id) as db:
        yield db


def out_of_kernel_check(course: Path, coursedir: Any, assignment: str) -> Any:
    """The function that rescores a graded submission without running its code, or None when the
    course has no bank for this assignment (then nbgrader's scores stand, and the summary says so)."""
    from .audit import rescore
    from .bank import load_bank

    modules = course / "modules"
    if not modules.is_dir():
        return None
    bank = load_bank(modules)
    try:
        module = bank.module(assignment)
    except KeyError:
        return None
    if bank.problems or not module.meta.exercises:
        return None

    def check(gb: Any, student: str) -> list[str]:
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        return rescore(gb, assignment, student, folder, module, bank)

    return check


def gradebook_rows(db_url: str, assignment: str, course_id: str) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Everything autograding writes for an assignment, keyed for comparison: per submission
    its timestamp, per notebook its late penalty, per cell its scores and comments."""
    from nbgrader.api import Gradebook

    rows: dict[tuple[str, ...], tuple[Any, ...]] = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            s = sub.student.id
            rows[(s,)] = (sub.timestamp,)
            for nb in sub.notebooks:
                rows[(s, nb.name)] = (nb.late_submission_penalty, nb.flagged)
                for g in nb.grades:
                    rows[(s, nb.name, "grade", g.name)] = (
                        g.auto_score,
                        g.manual_score,
                        g.extra_credit,
                        g.needs_manual_grade,
                    )
                for c in nb.comments:
                    rows[(s, nb.name, "comment", c.name)] = (c.auto_comment, c.manual_comment)
    return rows
