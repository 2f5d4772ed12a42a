"""Feedback at the speed of grading: ``framelab feedback``.

Stock ``nbgrader generate_feedback`` renders one trainee after another, silently. Here each
trainee's feedback is made by nbgrader's own :class:`~nbgrader.converters.GenerateFeedback`,
exactly as the course configures it (so the pages are the same, byte for byte), in N worker
processes, with a progress bar and a closing table. Feedback only reads the gradebook and writes
``feedback/<trainee>/<assignment>/``, so workers share nothing they write.

Trainees whose hand-grading is pending are not sent feedback (their total is not real yet):
they are listed with the points waiting, and the command exits 1. ``allow_pending`` makes
their feedback anyway, with those answers shown as "not marked yet" (see
:class:`framelab.grading.preprocessors.TeachingFeedback`).

:class:`FeedbackExporter` is the page itself: nbgrader's feedback template with its contents
naming each item (``GenerateFeedback.exporter_class`` in ``nbgrader_config.py``).
"""

from __future__ import annotations

import glob
import logging
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter

from framelab.core.privacy import make_private
from framelab.grading.pool import Outcome, RunTable, WorkerPool, default_jobs, progress_bar
from framelab.instructor.course import pending, require_course

TEMPLATES = Path(__file__).resolve().parent / "templates"


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page, with each item named in its contents (``framelab_feedback``)."""

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        import nbgrader
        from traitlets.config import Config

        nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
        c = Config(config) if config is not None else Config()
        # this class's own section wins over the HTMLExporter settings nbgrader makes for its feedback
        c.FeedbackExporter.template_name = "framelab_feedback"
        c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
        css = nbgrader_templates.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
        c.FeedbackExporter.extra_template_paths = [str(nbgrader_templates), str(css)]
        super().__init__(config=c, **kwargs)


@dataclass
class FeedbackRun(RunTable):
    """A feedback run's table (:class:`framelab.grading.pool.RunTable`), and what it says beneath it."""

    #: places with personal data still open to other accounts after the run (core.privacy)
    privacy: list[str] = field(default_factory=list)

    status_heading = "feedback"
    usual = "made"
    untimed = "refused"
    alone = "its feedback was made on its own"

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.by_status("failed") and not self.by_status("refused")

    def summary(self) -> str:
        lines = self.rows()
        made, refused, failed = (len(self.by_status(s)) for s in ("made", "refused", "failed"))
        per = f", {self.seconds / made:.2f} s per trainee" if made else ""
        lines.append(
            f"{self.assignment}: feedback made for {made}, held back for {refused} (hand-grading pending), "
            f"failed for {failed}, in {self.seconds:.1f} s with {self.jobs} worker(s){per}."
        )
        if refused:
            lines.append(
                "Held back: grade their answers in formgrader (JupyterLab: Nbgrader > Formgrader, Manual Grading), "
                "then run this again; or pass --allow-pending to send it now, marked 'not marked yet'."
            )
        if self.interrupted:
            lines.append("Interrupted: run the same command again to make the rest.")
        return "\n".join(lines + self.privacy)


# --------------------------------------------------------------------------- workers

_APP: Any = None
_CONVERTER: Any = None


def load_app(course: Path, assignment: str, allow_pending: bool) -> Any:
    """An initialised ``GenerateFeedbackApp``: the course's config read as the command reads it."""
    from nbgrader.apps import GenerateFeedbackApp

    from framelab.grading.command import env_path

    env_path()
    old = Path.cwd()
    os.chdir(course)
    try:
        app = GenerateFeedbackApp()
        args = [assignment, "--log-level=ERROR"]
        if allow_pending:
            args.append("--TeachingFeedback.allow_pending=True")
        app.initialize(args)
    finally:
        os.chdir(old)
    for handler in list(app.log.handlers):
        app.log.removeHandler(handler)
    app.log.setLevel(logging.ERROR)
    return app


def _init_worker(course: str, assignment: str, allow_pending: bool) -> None:
    global _APP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _APP = load_app(Path(course), assignment, allow_pending)


def _converter(assignment: str, force: bool) -> Any:
    """This worker's one ``GenerateFeedback`` converter, with its exporter made once: compiling
    the page's templates is most of the cost of one trainee's feedback."""
    global _CONVERTER
    if _CONVERTER is None:
        from nbgrader.converters import GenerateFeedback
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(parent=_APP, root=_APP.coursedir.root)
        coursedir.assignment_id = assignment
        coursedir.notebook_id = "*"
        _CONVERTER = GenerateFeedback(coursedir=coursedir, parent=_APP)
        _CONVERTER.force = force
        _CONVERTER.exporter = _CONVERTER.exporter_class(parent=_CONVERTER, config=_CONVERTER.config)
        for pp in _CONVERTER.preprocessors:
            _CONVERTER.exporter.register_preprocessor(pp)
    return _CONVERTER


def _convert(converter: Any) -> None:
    """What ``GenerateFeedback.start()`` does, keeping the exporter made once by :func:`_converter`."""
    from nbconvert.writers import FilesWriter

    converter.init_notebooks()
    converter.writer = FilesWriter(parent=converter, config=converter.config)
    old = os.getcwd()
    os.chdir(converter.coursedir.root)
    try:
        converter.convert_notebooks()
    finally:
        os.chdir(old)


def _one(student: str, assignment: str, force: bool) -> dict[str, Any]:
    """Make one trainee's feedback with nbgrader's converter."""
    start = time.perf_counter()
    from framelab.grading.command import _Collect  # nbgrader's logged errors, as grading collects them
    from framelab.grading.worker import oversized

    collect = _Collect()
    _APP.log.addHandler(collect)
    ok, reason = True, ""
    try:
        converter = _converter(assignment, force)
        converter.coursedir.student_id = glob.escape(student)
        graded = converter.coursedir.format_path(converter.coursedir.autograded_directory, student, assignment)
        if too_big := oversized(Path(graded)):  # read into memory whole: refused before it is opened
            raise Oversized(too_big)
        _convert(converter)
    except Oversized as exc:
        ok, reason = False, str(exc)
    except Exception as exc:
        ok, reason = False, _reason(collect.messages) or f"{type(exc).__name__}: {exc}"
    finally:
        _APP.log.removeHandler(collect)
    return {"student": student, "ok": ok, "reason": reason, "seconds": time.perf_counter() - start}


class Oversized(Exception):
    """A graded notebook too large to make feedback from; the message says so plainly."""


def _reason(messages: list[str]) -> str:
    """The last line of the last traceback nbgrader logged, or its first plain error."""
    for m in reversed(messages):
        if m.startswith("Traceback"):
            lines = [line.strip() for line in m.strip().splitlines() if line.strip()]
            return lines[-1][:300] if lines else ""
    useful = [m for m in messages if m.strip() and not m.startswith(("There was an error", "Please see"))]
    return useful[0].strip().splitlines()[0][:300] if useful else ""


# --------------------------------------------------------------------------- parent


def graded_students(course: Path, assignment: str) -> list[str]:
    """Trainees with an autograded folder for the assignment (what feedback is made from)."""
    from framelab.instructor.course import course_config

    cfg = course_config(course)
    autograded = course / str(cfg.CourseDirectory.get("autograded_directory", "autograded"))
    return sorted(p.parent.name for p in autograded.glob(f"*/{glob.escape(assignment)}") if p.is_dir())


def generate(
    course: str | Path,
    assignment: str,
    *,
    jobs: int | None = None,
    students: Sequence[str] | None = None,
    allow_pending: bool = False,
    force: bool = True,
    progress: bool = True,
) -> FeedbackRun:
    """Make feedback for every autograded trainee of ``assignment``, in ``jobs`` processes."""
    started = time.perf_counter()
    course = Path(course).resolve()
    jobs = max(1, jobs or default_jobs())
    run = FeedbackRun(assignment, jobs)
    available = graded_students(course, assignment)
    wanted = list(dict.fromkeys(students)) if students else available
    for s in wanted:
        if s not in available:
            run.outcomes.append(Outcome(s, "failed", reason=f"not autograded (no autograded/{s}/{assignment}/)"))
    waiting = {p.student: p for p in pending(course, [assignment])}
    todo = []
    for s in (s for s in wanted if s in available):
        if s in waiting and not allow_pending:
            run.outcomes.append(Outcome(s, "refused", reason=f"{waiting[s].points:g} point(s) to hand-grade"))
        else:
            todo.append(s)
    if todo:
        _run_pool(course, assignment, todo, jobs, allow_pending, force, progress, run)
    run.privacy = make_private(course)  # the feedback folder too: the grader account's alone
    run.seconds = time.perf_counter() - started
    return run


def _run_pool(
    course: Path,
    assignment: str,
    todo: list[str],
    jobs: int,
    allow_pending: bool,
    force: bool,
    progress: bool,
    run: FeedbackRun,
) -> None:
    from framelab.bank.loader import cached_bank
    from framelab.grading.command import env_path

    if (course / "modules").is_dir():
        cached_bank(course / "modules")  # loaded once here; forked workers inherit it
    env_path()
    bar = progress_bar(len(todo), progress, f"feedback {assignment}")

    def report(outcome: Outcome) -> None:
        run.outcomes.append(outcome)
        bar.update(1)

    def finish(res: Any, student: str) -> None:
        if isinstance(res, BaseException):
            report(Outcome(student, "failed", reason=f"worker failed: {type(res).__name__}: {res}"))
        else:
            report(Outcome(student, "made" if res["ok"] else "failed", res["seconds"], reason=res["reason"]))

    pool = WorkerPool(
        run,
        todo,
        lambda student, attempt: (_one, (student, assignment, force)),
        initializer=_init_worker,
        initargs=(str(course), assignment, allow_pending),
    )
    try:
        pool.go(finish, report)
    finally:
        bar.close()


def check_course(course: Path) -> None:
    require_course(course)
