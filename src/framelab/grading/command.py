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
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from framelab.core import settings
from framelab.core.privacy import make_private
from framelab.grading import dbretry, keys, late
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
from framelab.grading.gradebookcheck import assignment_problem
from framelab.grading.pool import Job, Outcome, RunTable, WorkerPool, default_jobs, progress_bar
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


class GradeRun(RunTable):
    """A grading run's table (:class:`framelab.grading.pool.RunTable`), and what it says beneath it."""

    alone = "graded on its own"

    def __init__(
        self, assignment: str, jobs: int, *, sandboxed: bool = True, retries: dbretry.Retries | None = None
    ) -> None:
        super().__init__(assignment, jobs)
        #: whether classification items were rescored out of kernel (needs the bank in ``modules/``)
        self.checked = True
        self.sandboxed = sandboxed
        #: waits for a gradebook server that was away for a moment (the parent's and the workers')
        self.retries = retries if retries is not None else dbretry.Retries()
        #: places with personal data still open to other accounts after the run (core.privacy)
        self.privacy: list[str] = []
        #: trainees on the roster (the gradebook's students) with nothing in ``submitted/``
        self.absent: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.by_status("failed")

    def summary(self) -> str:
        """A plain-text table: one row per trainee, then the totals."""
        lines = self.rows()
        graded, failed, skipped = (len(self.by_status(s)) for s in ("graded", "failed", "skipped"))
        per = f", {self.seconds / graded:.2f} s per notebook" if graded else ""
        lines.append(
            f"{self.assignment}: {graded} graded, {failed} failed, {skipped} already graded (skipped) "
            f"in {self.seconds:.1f} s with {self.jobs} worker(s){per}."
        )
        lines += self.notes()
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """What the reader must know about this run, beneath the totals."""
        lines = []
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
        if self.by_status("failed"):
            lines.append("Failed submissions were not graded; fix or ask for a resubmission, then run again.")
        if self.absent:
            names = ", ".join(self.absent)
            lines.append(f"Not submitted ({len(self.absent)} on the roster, nothing collected): {names}.")
        if stale := [o.student for o in self.by_status("skipped") if o.reason.startswith(keys.STALE)]:
            lines.append(
                f"{len(stale)} trainee(s) were scored against an old key: run 'framelab grade {self.assignment} "
                "--rescore' to score them again from their snapshots (hand-graded marks are kept)."
            )
        return lines + self.privacy


#: What nbgrader's exchange writes beside a submission; ``release_feedback`` hashes each page's name with it.
SECRET = "submission_secret.txt"


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
    if (why := settings.course_root_problem(root)) is not None:
        raise GradingError(why)
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
                    assignment_problem(root, [assignment], ctx.db_url) or f"'{assignment}' is not in the gradebook"
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
        if not students:  # the whole cohort: name who is on the roster but sent nothing
            run.absent = sorted({s.id for s in ctx.patiently(lambda: gb.students)} - set(available))
        done = set() if force else ctx.patiently(lambda: graded_students(ctx.coursedir, ctx.assignment, wanted, gb))
        for s in sorted(done):
            earned = tally(gb, ctx.assignment, s)
            sub = gb.find_submission(ctx.assignment, s)
            now = keys.current(ctx.root, ctx.assignment, s)
            why = keys.stale_line(keys.stale(ctx.root, ctx.assignment, s, now), ctx.assignment)
            row = Outcome(s, "skipped", score=sub.score, max_score=sub.max_score, points=earned, reason=why)
            run.outcomes.append(late.annotate(row, sub, ctx.app.config, ctx.course_id, ctx.assignment))
    return [s for s in wanted if s not in done]


# --------------------------------------------------------------------------- step 3: snapshots


def take_snapshots(ctx: Course, students: Sequence[str], into: Path) -> dict[str, snapshots.Snapshot]:
    """A private, hashed copy of each submission under ``into/<student>/<assignment>``, taken before
    any trainee code runs. A snapshot's ``problem`` is that trainee's plain reason not to grade."""
    into.mkdir(parents=True, exist_ok=True)
    os.chmod(into, 0o700)
    return {s: _snapshot_one(ctx, s, into / s / ctx.assignment) for s in students}


def _snapshot_one(ctx: Course, student: str, dest: Path) -> snapshots.Snapshot:
    """One trainee's snapshot; anything at all going wrong is that trainee's reason, never the run's end."""
    try:
        return snapshots.take(ctx.submitted(student), dest, student, ctx.notebooks)
    except Exception as exc:
        shutil.rmtree(dest, ignore_errors=True)
        return snapshots.Snapshot(
            student, dest, problem=f"the snapshot could not be taken ({type(exc).__name__}: {exc})"
        )


def preflight(folder: Path, notebooks: Sequence[str]) -> str:
    """A plain reason why a submission cannot be graded as it stands, or "" if it can (reads only)."""
    return snapshots.check_json(folder, list(notebooks))


# --------------------------------------------------------------------------- step 4: the sandboxed run
# In a worker process: framelab.grading.worker (run_notebook).


# --------------------------------------------------------------------------- step 5: record (parent side)


def course_made(graded: Path, snap: Path, ctx: Course) -> None:
    """Leave in a graded folder only what the course made: the graded notebooks (from the sandboxed
    run), the release's own files, and the submission's timestamp, exchange secret and saved answers
    (from the snapshot; ``nbgrader release_feedback`` names each page by that secret). Anything a
    trainee or their code placed beside the notebook never reaches feedback."""
    release = Path(ctx.coursedir.format_path(ctx.coursedir.release_directory, ".", ctx.assignment))
    extras = {p.name: p for p in release.iterdir() if p.is_file() and p.suffix != ".ipynb"} if release.is_dir() else {}
    for name in (snapshots.store.FILENAME, "timestamp.txt", SECRET):
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

    def write() -> tuple[list[str], tuple[float, float, float], float, float, Outcome]:
        if res["data"] is not None:
            merge(gb, ctx.assignment, student, res["data"])
        changed = check(gb, student, snap.folder) if check is not None else []
        points = tally(gb, ctx.assignment, student)
        sub = gb.find_submission(ctx.assignment, student)
        score, max_score = float(sub.score), float(sub.max_score)
        row = late.annotate(Outcome(student, "graded"), sub, ctx.app.config, ctx.course_id, ctx.assignment)
        gb.db.commit()
        return changed, points, score, max_score, row

    changed, points, score, max_score, row = ctx.patiently(write, undo=gb.db.rollback)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(graded, dest)
    snapshots.keep(snap, ctx.root, ctx.assignment)
    if getattr(check, "keys", None):
        keys.write(ctx.root, ctx.assignment, student, check.keys(student))
    reason = ""
    if changed:
        reason = (
            f"{len(changed)} item score(s) set by the out-of-kernel check (the notebook's own run "
            "claimed more than its saved answers earn); see 'framelab audit'"
        )
    row.seconds, row.score, row.max_score, row.reason, row.points = res["seconds"], score, max_score, reason, points
    return row


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
    from framelab.bank.variants import course_setting
    from framelab.grading.audit import rescore
    from framelab.scoring.record import key_hashes

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

    setting = course_setting(course)  # variants on: each trainee's items from their gradebook id

    def check(gb: Any, student: str, folder: Path) -> list[str]:
        return rescore(gb, assignment, student, folder, module, bank, setting)

    def keys_of(student: str) -> dict[str, str]:  # recorded with each score
        return key_hashes(module, bank, student, setting)

    check.keys = keys_of  # type: ignore[attr-defined]
    return check


# --------------------------------------------------------------------------- the pipeline


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
    run.privacy = make_private(ctx.root)  # trainees' work and grades: the grader account's alone
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
    bar = progress_bar(len(todo), progress, f"grading {ctx.assignment}")

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
    """The parent's side of the run: the pool of workers (:class:`framelab.grading.pool.WorkerPool`), each
    running one trainee's notebook in the sandbox, and the gradebook that each result is recorded in."""

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
        self.ctx, self.run, self.work = ctx, run, work
        self.gradebook_copy = gradebook_copy
        self.index = {s: n for n, s in enumerate(todo)}
        initargs = (
            str(ctx.root),
            ctx.assignment,
            tuple(nbgrader_args),
            str(work / "workers.log"),
            notebook_timeout,
            str(work / "snapshots"),
            ctx.sandbox,
        )
        self.pool = WorkerPool(
            run,
            todo,
            self.job,
            initializer=_init_worker,
            initargs=initargs,
            started=lambda s, attempt: (self.work_dir(s, attempt) / STARTED).exists(),
            before_pool=self.before_pool,
        )
        self.gb: Any = None
        self.check: Any = None
        #: why the gradebook could not be written (it stayed locked), once that is known
        self.locked = ""

    def before_pool(self, method: str) -> None:
        # forked workers inherit the parent's nbgrader app instead of making their own
        gradeworker._FORKED = self.ctx.app if method == "fork" else None

    def work_dir(self, s: str, attempt: int) -> Path:
        return self.work / f"s{self.index[s]:05d}-{attempt}"

    def job(self, s: str, attempt: int) -> Job:
        return run_notebook, (s, str(self.work_dir(s, attempt)), self.gradebook_copy, self.ctx.db_url)

    def meanwhile(self) -> None:
        """The parent's own fixed costs (the bank, the gradebook) while the workers start."""
        self.check = out_of_kernel_check(self.ctx.root, self.ctx.assignment)
        self.run.checked = self.check is not None

    def go(self, finish: Callable[[Any, str], None], report: Callable[[Outcome], None]) -> None:
        env_path()
        try:
            self.pool.go(finish, report, self.meanwhile)
        finally:
            if self.gb is not None:
                self.gb.close()
