"""One pool of worker processes for every per-trainee job (``framelab grade`` and ``framelab feedback``),
one result table, and one default number of workers.

A job runs once per trainee in a worker process; the parent hands each result to be recorded. The pool
survives a worker that dies (an unsandboxed submission can kill its kernel's parent): every trainee
still in the broken pool fails with it, so those that had not started go back into a fresh pool, and
those that were running run again each on its own, so that only the one that kills its worker is
reported. The first Ctrl+C lets the trainees in progress finish and stops; a second abandons them.

:class:`Outcome` is one trainee's row and :class:`RunTable` the table of them that both commands print.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from typing import Any

#: A job for one trainee: the function a worker calls, and its arguments.
Job = tuple[Callable[..., Any], tuple[Any, ...]]


def default_jobs() -> int:
    """One worker more than the cores: a worker spends about a quarter of each notebook waiting for its
    kernel to start and stop, and a third worker fills those gaps (30 trainees on 2 cores: 14.4 s with 3
    workers against 16.9 s with 2, ``tests/benchmarks/bench_grade.py``). Feedback, which starts no
    kernel, loses nothing by the extra worker (``tests/benchmarks/bench_feedback.py``)."""
    return (os.cpu_count() or 1) + 1


@dataclass
class Outcome:
    """What happened to one trainee in a run: ``graded``, ``skipped`` or ``failed`` when grading;
    ``made``, ``refused`` or ``failed`` when making feedback."""

    student: str
    status: str
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    #: (autograded points earned, autograded points possible, points still to hand-grade)
    points: tuple[float, float, float] | None = None
    #: how many times the trainee submitted (the exchange's inbound), when known
    attempts: int | None = None
    #: "" on time, else how late and the penalty ("late 2 h 5 min (-2)")
    late: str = ""

    def shown(self) -> str:
        if self.points is None:
            return (
                f"{self.score:g} / {self.max_score:g}" if self.score is not None and self.max_score is not None else ""
            )
        earned, possible, pending = self.points
        hand = f"; {pending:g} points to hand-grade" if pending else ""
        return f"autograded {earned:g} of {possible:g}{hand}"


@dataclass
class RunTable:
    """The outcome of one run over a cohort: one row per trainee, printed as a plain-text table."""

    assignment: str
    jobs: int
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    #: the status column's heading, the status listed last (the usual one), and the one with no time
    status_heading = "status"
    usual = "graded"
    untimed = "skipped"
    #: how a job run again alone is described when its worker dies then too
    alone = "run on its own"

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def rows(self) -> list[str]:
        """The table's heading and one line per trainee: those that need attention first."""
        rows = sorted(self.outcomes, key=lambda o: (o.status == self.usual, o.status != "failed", o.student))
        width = max([len("trainee"), *(len(o.student) for o in rows)])
        shown = [o.shown() for o in rows]
        sw = max([len("score"), *(len(s) for s in shown)])
        st = max(8, len(self.status_heading))
        term = any(o.attempts is not None or o.late for o in rows)  # attempts and lateness, when known
        lw = max([len("late"), *(len(o.late) for o in rows)])
        extra = f"{'attempts':>8}  {'late':<{lw}}  " if term else ""
        lines = [f"{'trainee':<{width}}  {self.status_heading:<{st}}  {'score':<{sw}}  {'seconds':>7}  {extra}reason"]
        for o, score in zip(rows, shown, strict=True):
            secs = f"{o.seconds:.1f}" if o.status != self.untimed else ""
            extra = f"{'' if o.attempts is None else o.attempts:>8}  {o.late:<{lw}}  " if term else ""
            line = f"{o.student:<{width}}  {o.status:<{st}}  {score:<{sw}}  {secs:>7}  {extra}{o.reason}"
            lines.append(line.rstrip())
        return lines


def progress_bar(total: int, enabled: bool, desc: str) -> Any:
    """A progress bar on standard error, one step per trainee."""
    from tqdm import tqdm

    # no monitor thread: a fresh pool (after a worker died) forks, and forking wants no threads
    tqdm.monitor_interval = 0
    return tqdm(
        total=total,
        desc=desc,
        unit="trainee",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]{postfix}",
    )


def start_method() -> Any:
    """Fork where there is one: workers inherit the parent's imports and loaded state (seconds otherwise)."""
    return get_context("fork" if "fork" in get_all_start_methods() else "spawn")


class WorkerPool:
    """Run ``job(student)`` for each trainee in worker processes (see the module)."""

    def __init__(
        self,
        run: RunTable,
        todo: Sequence[str],
        job: Callable[[str, int], Job],
        *,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
        started: Callable[[str, int], bool] = lambda student, attempt: True,
        before_pool: Callable[[str], None] | None = None,
    ) -> None:
        self.run, self.todo = run, list(todo)
        self.job, self.started, self.before_pool = job, started, before_pool
        self.initializer, self.initargs = initializer, initargs
        self.index = {s: n for n, s in enumerate(self.todo)}
        self.attempts = dict.fromkeys(self.todo, 0)
        self.pending: dict[Future, str] = {}
        # the pool forks all its workers on the first submit, before any thread (the pool's own,
        # a progress bar's) exists in this process
        self.mp = start_method()

    def new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        if self.before_pool is not None:
            self.before_pool(self.mp.get_start_method())
        return ProcessPoolExecutor(
            max_workers=workers or min(self.run.jobs, len(self.todo)),
            mp_context=self.mp,
            initializer=self.initializer,
            initargs=self.initargs,
        )

    def submit(self, pool: ProcessPoolExecutor, student: str) -> Future:
        self.attempts[student] += 1
        fn, args = self.job(student, self.attempts[student])
        fut = pool.submit(fn, *args)
        self.pending[fut] = student
        return fut

    def go(
        self,
        finish: Callable[[Any, str], None],
        report: Callable[[Outcome], None],
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """Run every job; ``finish(result or exception, student)`` for each that ran, ``report(outcome)``
        for one whose worker died. ``meanwhile`` runs in the parent while the workers start."""
        pool = self.new_pool()
        for s in self.todo:
            self.submit(pool, s)
        if meanwhile is not None:
            meanwhile()
        abandoned = False
        try:
            pool = self._loop(pool, finish, report)
        except KeyboardInterrupt:  # a second Ctrl+C: abandon the jobs in progress
            self.run.interrupted = abandoned = True
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()
        finally:
            pool.shutdown(wait=not abandoned, cancel_futures=True)

    def _wait(self) -> set[Future] | None:
        """The jobs finished next; None after a first Ctrl+C (the rest are cancelled, those running kept)."""
        try:
            finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            return finished
        except KeyboardInterrupt:
            if self.run.interrupted:
                raise
            self.run.interrupted = True
            for fut in self.pending:
                fut.cancel()
            self.pending = {f: s for f, s in self.pending.items() if not f.cancelled()}
            print(
                f"Interrupted: finishing the {len(self.pending)} trainee(s) in progress, then stopping "
                "(Ctrl+C again to abandon them).",
                file=sys.stderr,
            )
            return None

    def _loop(
        self, pool: ProcessPoolExecutor, finish: Callable[[Any, str], None], report: Callable[[Outcome], None]
    ) -> ProcessPoolExecutor:
        while self.pending:
            finished = self._wait()
            if finished is None:
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

    def _solo(self, student: str, finish: Callable[[Any, str], None], report: Callable[[Outcome], None]) -> None:
        """Run one trainee's job again in a pool of its own, so that a job that kills its worker is named."""
        solo = self.new_pool(1)
        fut = self.submit(solo, student)
        wait([fut])
        self.pending.pop(fut)
        solo.shutdown(wait=True)
        if isinstance(fut.exception(), BrokenProcessPool):
            report(Outcome(student, "failed", reason=f"its worker process died, also when {self.run.alone}"))
        else:
            finish(fut.exception() or fut.result(), student)

    def _recover(
        self,
        pool: ProcessPoolExecutor,
        broken: list[str],
        finish: Callable[[Any, str], None],
        report: Callable[[Outcome], None],
    ) -> ProcessPoolExecutor:
        """A worker died, and with it the pool (see the module)."""
        wait(self.pending)
        broken += list(self.pending.values())
        self.pending.clear()
        pool.shutdown(wait=True)
        running = [s for s in broken if self.started(s, self.attempts[s])]
        for student in sorted(running, key=self.index.__getitem__):
            if self.run.interrupted:
                report(Outcome(student, "failed", reason="its worker process died"))
            else:
                self._solo(student, finish, report)
        pool = self.new_pool()
        if not self.run.interrupted:
            for student in sorted(set(broken) - set(running), key=self.index.__getitem__):
                self.submit(pool, student)
        return pool
