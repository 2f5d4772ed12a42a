"""Parallel, sandboxed autograding through nbgrader's own converter (``framelab grade``).

Grading is a pipeline of small named steps, each a function a test can drive alone:

1. :func:`setup`: the course's nbgrader config, read as ``nbgrader autograde`` reads it; the sandbox
   checked (:func:`framelab.grading.sandbox.problem`), or refused in one line unless ``--no-sandbox``;
2. :func:`plan`: who is to be graded, and who already is (resuming);
3. :func:`take_snapshots`: a private copy of every submission, taken before any trainee code runs
   (:mod:`framelab.grading.snapshot`): symbolic links refused, JSON read with bounds, hashed;
4. :func:`framelab.grading.worker.run_notebook` (in a worker process): nbgrader's
   :class:`~nbgrader.converters.Autograde`, exactly as configured for the course, on the snapshot,
   with every kernel in the operating-system sandbox (:mod:`framelab.grading.sandbox`), into a private
   folder and a private copy of the gradebook;
5. :func:`record` (in the parent alone): the worker's gradebook rows and the out-of-kernel score of
   record (:func:`framelab.grading.audit.rescore`, from the snapshot, never the live folder) go into the
   real gradebook in one transaction; then the graded folder, holding only what the course made,
   moves into ``autograded/``, and the snapshot becomes the one of record.

A trainee counts as graded only once both their gradebook rows and their ``autograded/`` folder are
in place, which is what resuming checks; a crash anywhere in a trainee's pipeline records nothing for
them. Nothing under ``submitted/`` is ever written. One failed submission is reported with its reason
and never stops the others. With a server database (PostgreSQL) the workers write nbgrader's rows
themselves (the database serialises writers); the parent still makes the score of record, and removes
what a failed worker wrote.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any, TypeVar

from framelab.grading import dbretry
from framelab.grading import snapshot as snapshots
from framelab.grading import worker as gradeworker
from framelab.grading.gradebook import (
    LOCK_WAIT,
    GradebookLocked,
    copy_sqlite,
    gradebook_rows,
    is_sqlite,
    merge,
    patiently,
    tally,
)
from framelab.grading.worker import (  # step 4, the worker side; the names other modules import from here too
    NOTEBOOK_TIMEOUT,
    STARTED,
    STARTUP_RETRIES,
    _Collect,
    _grade_one,
    _init_worker,
    env_path,
    load_app,
    plain_reason,
    run_notebook,
)

__all__ = [
    "STARTUP_RETRIES",
    "GradeRun",
    "GradingError",
    "Outcome",
    "_Collect",
    "_grade_one",
    "env_path",
    "grade",
    "gradebook_rows",
    "load_app",
    "plain_reason",
    "preflight",
]

Status = str  # "graded" | "failed" | "skipped"


@dataclass
class Outcome:
    """What happened to one trainee's submission."""

    student: str
    status: Status
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    #: (autograded points earned, autograded points possible, points still to hand-grade)
    points: tuple[float, float, float] | None = None

    def shown(self) -> str:
        if self.points is None:
            return (
                f"{self.score:g} / {self.max_score:g}" if self.score is not None and self.max_score is not None else ""
            )
        earned, possible, pending = self.points
        hand = f"; {pending:g} points to hand-grade" if pending else ""
        return f"autograded {earned:g} of {possible:g}{hand}"


@dataclass
class GradeRun:
    assignment: str
    jobs: int
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    #: whether classification items were rescored out of kernel (needs the bank in ``modules/``)
    checked: bool = True
    sandboxed: bool = True
    #: waits for a gradebook server that was away for a moment (the parent's and the workers')
    retries: dbretry.Retries = field(default_factory=dbretry.Retries)

    def by_status(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.by_status("failed")

    def summary(self) -> str:
        """A plain-text table: one row per trainee, then the totals."""
        rows = sorted(self.outcomes, key=lambda o: (o.status != "failed", o.student))
        width = max([len("trainee"), *(len(o.student) for o in rows)])
        shown = [o.shown() for o in rows]
        sw = max([len("score"), *(len(s) for s in shown)])
        lines = [f"{'trainee':<{width}}  {'status':<8}  {'score':<{sw}}  {'seconds':>7}  reason"]
        for o, score in zip(rows, shown, strict=True):
            secs = f"{o.seconds:.1f}" if o.status != "skipped" else ""
            lines.append(f"{o.student:<{width}}  {o.status:<8}  {score:<{sw}}  {secs:>7}  {o.reason}".rstrip())
        graded, failed, skipped = (len(self.by_status(s)) for s in ("graded", "failed", "skipped"))
        per = f", {self.seconds / graded:.2f} s per notebook" if graded else ""
        lines.append(
            f"{self.assignment}: {graded} graded, {failed} failed, {skipped} already graded (skipped) "
            f"in {self.seconds:.1f} s with {self.jobs} worker(s){per}."
        )
        if not self.sandboxed:
            lines.append("Graded WITHOUT the sandbox (--no-sandbox): trainee code ran with your rights.")
        if not self.checked:
            lines.append(
                "No bank (modules/) for this assignment here: nbgrader's own scores stand, unchecked. "
                "Run from the course root to have classification items rescored without running trainee code."
            )
        if self.retries.count:
            lines.append(self.retries.summary())
        if self.interrupted:
            lines.append("Interrupted: run the same command again to grade the rest (finished trainees are kept).")
        if failed:
            lines.append("Failed submissions were not graded; fix or ask for a resubmission, then run again.")
        return "\n".join(lines)


class GradingError(Exception):
    """Grading cannot start; the message says why and what to do."""


# --------------------------------------------------------------------------- step 1: set-up


T = TypeVar("T")


@dataclass
class Course:
    """What every step needs to know about the course being graded."""

    root: Path
    assignment: str
    app: Any
    notebooks: list[str]
    sandbox: bool = True
    lock_wait: float = LOCK_WAIT
    #: waits for a gradebook server that was away for a moment (a restart), for the summary
    retries: dbretry.Retries = field(default_factory=dbretry.Retries)

    def patiently(self, step: Callable[[], T], undo: Callable[[], Any] | None = None) -> T:
        """Run a gradebook step, riding out a lock or a database restart within their bounds."""
        return patiently(step, self.db_url, self.lock_wait, undo, self.retries)

    @property
    def coursedir(self) -> Any:
        return self.app.coursedir

    @property
    def db_url(self) -> str:
        return self.app.coursedir.db_url

    @property
    def course_id(self) -> str:
        return self.app.coursedir.course_id

    def submitted(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, self.assignment))

    def autograded(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, self.assignment))

    def gradebook(self) -> Any:
        from nbgrader.api import Gradebook

        return self.patiently(lambda: Gradebook(self.db_url, self.course_id))


def setup(
    course: str | Path,
    assignment: str,
    nbgrader_args: Sequence[str] = (),
    sandbox: bool = True,
    lock_wait: float = LOCK_WAIT,
) -> Course:
    """Read the course's config and check that grading can start: a course root, the assignment
    in the gradebook, a sandbox (unless refused). Raises :class:`GradingError` with one plain line."""
    from nbgrader.api import MissingEntry

    from framelab.grading import sandbox as box

    root = Path(course).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise GradingError(f"{root} is not a course root (no nbgrader_config.py): run this from the course folder")
    if sandbox and (why := box.problem()):
        raise GradingError(why)
    app = load_app(root, assignment, nbgrader_args)
    ctx = Course(root, assignment, app, [], sandbox, lock_wait)
    try:
        with ctx.gradebook() as gb:
            try:
                found = gb.find_assignment(assignment)
            except MissingEntry:
                raise GradingError(
                    f"'{assignment}' is not in the gradebook: run 'nbgrader generate_assignment {assignment}' first."
                ) from None
            ctx.notebooks = sorted(nb.name for nb in found.notebooks)
    except GradebookLocked as exc:
        raise GradingError(str(exc)) from None
    return ctx


# --------------------------------------------------------------------------- step 2: plan


def submitted_students(coursedir: Any, assignment: str) -> list[str]:
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    students = []
    for path in glob.glob(pattern):
        if os.path.isdir(path):
            students.append(Path(path).parent.name)
    return sorted(students)


def graded_students(coursedir: Any, assignment: str, students: Iterable[str], gb: Any) -> set[str]:
    """Trainees whose grading finished: gradebook rows and ``autograded/`` folder both present,
    and no newer submission since (nbgrader's own rule for re-grading)."""
    students = list(students)
    in_db = {s.student.id for s in gb.assignment_submissions(assignment)}
    done = set()
    for s in students:
        dest = coursedir.format_path(coursedir.autograded_directory, s, assignment)
        if s not in in_db or not os.path.isdir(dest):
            continue
        src = coursedir.format_path(coursedir.submitted_directory, s, assignment)
        try:
            new, old = coursedir.get_existing_timestamp(src), coursedir.get_existing_timestamp(dest)
        except Exception:  # nbgrader's own "invalid timestamp": grade it again, and say so then
            continue
        if new is not None and old is not None and new > old:
            continue
        done.add(s)
    return done


def plan(ctx: Course, run: GradeRun, students: Sequence[str] | None, force: bool) -> list[str]:
    """The trainees to grade; missing submissions and those already graded go straight into ``run``."""
    available = submitted_students(ctx.coursedir, ctx.assignment)
    wanted = list(dict.fromkeys(students)) if students else available
    for s in wanted:
        if s not in available:
            run.outcomes.append(Outcome(s, "failed", reason=f"no submission at {ctx.submitted(s)}"))
    wanted = [s for s in wanted if s in available]
    with ctx.gradebook() as gb:
        done = set() if force else ctx.patiently(lambda: graded_students(ctx.coursedir, ctx.assignment, wanted, gb))
        for s in sorted(done):
            earned = tally(gb, ctx.assignment, s)
            sub = gb.find_submission(ctx.assignment, s)
            run.outcomes.append(Outcome(s, "skipped", score=sub.score, max_score=sub.max_score, points=earned))
    return [s for s in wanted if s not in done]


# --------------------------------------------------------------------------- step 3: snapshots


def take_snapshots(ctx: Course, students: Sequence[str], into: Path) -> dict[str, snapshots.Snapshot]:
    """A private, hashed copy of each submission under ``into/<student>/<assignment>``, taken before
    any trainee code runs. A snapshot's ``problem`` is that trainee's plain reason not to grade."""
    into.mkdir(parents=True, exist_ok=True)
    os.chmod(into, 0o700)
    return {s: snapshots.take(ctx.submitted(s), into / s / ctx.assignment, s, ctx.notebooks) for s in students}


def preflight(folder: Path, notebooks: Sequence[str]) -> str:
    """A plain reason why a submission cannot be graded as it stands, or "" if it can (reads only)."""
    return snapshots.check_json(folder, list(notebooks))


# --------------------------------------------------------------------------- step 4: the sandboxed run
# In a worker process: framelab.grading.worker (run_notebook).


# --------------------------------------------------------------------------- step 5: record (parent side)


def course_made(graded: Path, snap: Path, ctx: Course) -> None:
    """Leave in a graded folder only what the course made: the graded notebooks (from the sandboxed
    run), the release's own files, and the submission's timestamp and saved answers (from the
    snapshot). Anything a trainee or their code placed beside the notebook never reaches feedback."""
    release = Path(ctx.coursedir.format_path(ctx.coursedir.release_directory, ".", ctx.assignment))
    extras = {p.name: p for p in release.iterdir() if p.is_file() and p.suffix != ".ipynb"} if release.is_dir() else {}
    for name in (snapshots.store.FILENAME, "timestamp.txt"):
        if (snap / name).is_file():
            extras[name] = snap / name
    keep = {f"{nb}.ipynb" for nb in ctx.notebooks}
    for path in list(graded.iterdir()):
        if path.name in keep and path.is_file() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for name, src in extras.items():
        shutil.copyfile(src, graded / name, follow_symlinks=False)


def record(ctx: Course, res: dict[str, Any], snap: snapshots.Snapshot, gb: Any, check: Any) -> Outcome:
    """Make one trainee's grade of record: rows and out-of-kernel scores in one transaction, then
    the graded folder and the snapshot. Anything going wrong records nothing for them."""
    student = snap.student
    if res.get("db_waits"):
        ctx.retries.count += res["db_waits"]
        ctx.retries.waited += res["db_waited"]
        ctx.retries.events.append(f"grading {student}: the gradebook's database was away")
    if not res["ok"]:
        _forget_failed(ctx, gb, student)
        return Outcome(student, "failed", res["seconds"], reason=res["reason"] or "nbgrader reported an error")
    graded = Path(res["graded"])
    course_made(graded, snap.folder, ctx)
    dest = ctx.autograded(student)
    if dest.exists():  # until the new rows are committed and the folder is back, they count as not graded
        shutil.rmtree(dest)

    def write() -> tuple[list[str], tuple[float, float, float], float, float]:
        if res["data"] is not None:
            merge(gb, ctx.assignment, student, res["data"])
        changed = check(gb, student, snap.folder) if check is not None else []
        points = tally(gb, ctx.assignment, student)
        sub = gb.find_submission(ctx.assignment, student)
        score, max_score = float(sub.score), float(sub.max_score)
        gb.db.commit()
        return changed, points, score, max_score

    changed, points, score, max_score = ctx.patiently(write, undo=gb.db.rollback)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(graded, dest)
    snapshots.keep(snap, ctx.root, ctx.assignment)
    reason = ""
    if changed:
        reason = (
            f"{len(changed)} item score(s) set by the out-of-kernel check (the notebook's own run "
            "claimed more than its saved answers earn); see 'framelab audit'"
        )
    return Outcome(student, "graded", res["seconds"], score, max_score, reason=reason, points=points)


def _forget_failed(ctx: Course, gb: Any, student: str) -> None:
    """A server gradebook holds what a failed worker wrote itself: take it out (a SQLite one never got it)."""
    if is_sqlite(ctx.db_url) or ctx.autograded(student).exists():
        return
    with contextlib.suppress(Exception):
        gb.remove_submission(ctx.assignment, student)
        gb.db.commit()


def out_of_kernel_check(course: Path, assignment: str) -> Any:
    """The function that rescores a graded submission from its snapshot without running its code, or
    None when the course has no bank for this assignment (then nbgrader's scores stand, and the summary
    says so)."""
    from framelab.bank.loader import load_bank
    from framelab.grading.audit import rescore

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

    def check(gb: Any, student: str, folder: Path) -> list[str]:
        return rescore(gb, assignment, student, folder, module, bank)

    return check


# --------------------------------------------------------------------------- the pipeline


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


def default_jobs() -> int:
    """One worker more than the cores: a worker spends about a quarter of each notebook waiting for its
    kernel to start and stop, and a third worker fills those gaps (30 trainees on 2 cores: 14.4 s with 3
    workers against 16.9 s with 2, ``tests/benchmarks/bench_grade.py``)."""
    return (os.cpu_count() or 1) + 1


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
    sandbox: bool = True,
    lock_wait: float = LOCK_WAIT,
) -> GradeRun:
    """Autograde every submission of ``assignment`` under ``course`` in ``jobs`` processes:
    set up, plan, snapshot, run each notebook in the sandbox, record."""
    started = time.perf_counter()
    if jobs is not None and jobs < 1:
        raise GradingError(f"--jobs must be at least 1 (got {jobs})")
    jobs = jobs or default_jobs()
    ctx = setup(course, assignment, nbgrader_args, sandbox, lock_wait)
    run = GradeRun(assignment, jobs, sandboxed=sandbox, retries=ctx.retries)
    try:
        todo = plan(ctx, run, students, force)
    except GradebookLocked as exc:
        raise GradingError(str(exc)) from None
    if todo:
        work = Path(tempfile.mkdtemp(prefix=".framelab-grade-", dir=ctx.root))
        try:
            _grade_all(ctx, run, todo, work, jobs, progress, on_result, notebook_timeout, nbgrader_args)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    run.seconds = time.perf_counter() - started
    return run


def _grade_all(
    ctx: Course,
    run: GradeRun,
    todo: list[str],
    work: Path,
    jobs: int,
    progress: bool,
    on_result: Callable[[Outcome], None] | None,
    notebook_timeout: float,
    nbgrader_args: Sequence[str],
) -> None:
    """Snapshot everyone, then run and record each in a pool of workers."""
    snaps = take_snapshots(ctx, todo, work / "snapshots")
    bar = _progress(len(todo), progress, ctx.assignment)

    def report(outcome: Outcome) -> None:
        run.outcomes.append(outcome)
        if on_result:
            on_result(outcome)
        bar.update(1)
        failed = len(run.by_status("failed"))
        if failed:
            bar.set_postfix_str(f"{failed} failed")

    for s in todo:
        if snaps[s].problem:
            report(Outcome(s, "failed", reason=snaps[s].problem))
    ready = [s for s in todo if not snaps[s].problem]
    gradebook_copy = None
    if ready and is_sqlite(ctx.db_url):
        gradebook_copy = str(work / "gradebook-copy.db")
        try:
            copy_sqlite(ctx.db_url, Path(gradebook_copy), ctx.lock_wait)
        except GradebookLocked as exc:
            for s in ready:
                report(Outcome(s, "failed", reason=str(exc)))
            ready = []
    try:
        if ready:
            runner = _Runner(ctx, run, work, jobs, ready, gradebook_copy, notebook_timeout, nbgrader_args)
            runner.go(lambda res, s: report(_safe_record(ctx, res, snaps[s], runner)), report)
    finally:
        bar.close()


def _safe_record(ctx: Course, res: Any, snap: snapshots.Snapshot, runner: _Runner) -> Outcome:
    """:func:`record`, with any failure (a locked gradebook, a full disk) that trainee's plain reason."""
    if isinstance(res, BaseException):
        return Outcome(snap.student, "failed", reason=f"worker failed: {type(res).__name__}: {res}")
    if runner.locked:  # waited for once already: the rest are not made to wait again
        return Outcome(snap.student, "failed", res.get("seconds", 0.0), reason=f"{runner.locked}; nothing was recorded")
    try:
        if runner.gb is None:
            runner.gb = ctx.gradebook()
        return record(ctx, res, snap, runner.gb, runner.check)
    except Exception as exc:
        if isinstance(exc, GradebookLocked):
            runner.locked = str(exc)
        if runner.gb is not None:
            with contextlib.suppress(Exception):
                runner.gb.db.rollback()
        why = str(exc) if isinstance(exc, GradebookLocked) else f"recording failed ({type(exc).__name__}: {exc})"
        return Outcome(snap.student, "failed", res.get("seconds", 0.0), reason=f"{why}; nothing was recorded for them")


class _Runner:
    """The pool of worker processes: submits every trainee, survives a worker that dies (a
    submission can kill its kernel's parent when unsandboxed), and hands each result to be recorded."""

    def __init__(
        self,
        ctx: Course,
        run: GradeRun,
        work: Path,
        jobs: int,
        todo: list[str],
        gradebook_copy: str | None,
        notebook_timeout: float,
        nbgrader_args: Sequence[str],
    ) -> None:
        self.ctx, self.run, self.work, self.jobs, self.todo = ctx, run, work, jobs, todo
        self.gradebook_copy = gradebook_copy
        self.index = {s: n for n, s in enumerate(todo)}
        self.attempts = dict.fromkeys(todo, 0)
        self.pending: dict[Future, str] = {}
        # fork where there is one: the workers inherit the parent's imports and its nbgrader app
        # (seconds otherwise) instead of paying for them again. The pool forks all its workers on
        # the first submit, before any thread (the pool's own, tqdm's) exists in this process.
        self.mp = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
        self.initargs = (
            str(ctx.root),
            ctx.assignment,
            tuple(nbgrader_args),
            str(work / "workers.log"),
            notebook_timeout,
            str(work / "snapshots"),
            ctx.sandbox,
        )
        self.gb: Any = None
        self.check: Any = None
        #: why the gradebook could not be written (it stayed locked), once that is known
        self.locked = ""

    def new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        gradeworker._FORKED = self.ctx.app if self.mp.get_start_method() == "fork" else None
        return ProcessPoolExecutor(
            max_workers=workers or min(self.jobs, len(self.todo)),
            mp_context=self.mp,
            initializer=_init_worker,
            initargs=self.initargs,
        )

    def work_dir(self, s: str) -> Path:
        return self.work / f"s{self.index[s]:05d}-{self.attempts[s]}"

    def submit(self, pool: ProcessPoolExecutor, s: str) -> Future:
        self.attempts[s] += 1
        fut = pool.submit(run_notebook, s, str(self.work_dir(s)), self.gradebook_copy, self.ctx.db_url)
        self.pending[fut] = s
        return fut

    def go(self, finish: Callable[[Any, str], None], report: Callable[[Outcome], None]) -> None:
        env_path()
        pool = self.new_pool()
        for s in self.todo:
            self.submit(pool, s)
        # the parent's own fixed costs (the bank, the gradebook) while the workers start
        self.check = out_of_kernel_check(self.ctx.root, self.ctx.assignment)
        self.run.checked = self.check is not None
        abandoned = False
        try:
            pool = self._loop(pool, finish, report)
        except KeyboardInterrupt:  # a second Ctrl+C: abandon the submissions in progress
            self.run.interrupted = abandoned = True
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()
        finally:
            pool.shutdown(wait=not abandoned, cancel_futures=True)
            if self.gb is not None:
                self.gb.close()

    def _loop(
        self, pool: ProcessPoolExecutor, finish: Callable[[Any, str], None], report: Callable[[Outcome], None]
    ) -> ProcessPoolExecutor:
        interrupted_once = False
        while self.pending:
            try:
                finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                if interrupted_once:
                    raise
                interrupted_once = self.run.interrupted = True
                for fut in self.pending:
                    fut.cancel()
                self.pending = {f: s for f, s in self.pending.items() if not f.cancelled()}
                print(
                    f"Interrupted: finishing the {len(self.pending)} submission(s) in progress, then stopping "
                    "(Ctrl+C again to abandon them).",
                    file=sys.stderr,
                )
                continue
            broken = []
            for fut in finished:
                student = self.pending.pop(fut)
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool):
                    broken.append(student)
                else:
                    finish(exc if exc is not None else fut.result(), student)
            if broken:
                pool = self._recover(pool, broken, finish, report)
        return pool

    def _recover(
        self,
        pool: ProcessPoolExecutor,
        broken: list[str],
        finish: Callable[[Any, str], None],
        report: Callable[[Outcome], None],
    ) -> ProcessPoolExecutor:
        """A worker died, and with it the pool: every submission still in it fails with it. Those
        that had not started go back in a fresh pool; those that were running are graded again, each
        on its own, so that only the one that kills its worker is reported."""
        wait(self.pending)
        broken += list(self.pending.values())
        self.pending.clear()
        pool.shutdown(wait=True)
        running = [s for s in broken if (self.work_dir(s) / STARTED).exists()]
        for student in sorted(running, key=self.index.__getitem__):
            if self.run.interrupted:
                report(Outcome(student, "failed", reason="its worker process died"))
                continue
            solo = self.new_pool(1)
            fut = self.submit(solo, student)
            wait([fut])
            self.pending.pop(fut)
            solo.shutdown(wait=True)
            if isinstance(fut.exception(), BrokenProcessPool):
                report(Outcome(student, "failed", reason="its worker process died, also when graded on its own"))
            else:
                finish(fut.exception() or fut.result(), student)
        pool = self.new_pool()
        if not self.run.interrupted:
            for student in sorted(set(broken) - set(running), key=self.index.__getitem__):
                self.submit(pool, student)
        return pool
