"""Due dates and the course's late policy, and how late work is shown.

Due dates are nbgrader's own, one per assignment in the gradebook
(``nbgrader db assignment add m1_double_bind --duedate="2027-01-15 17:00:00 Europe/London"``);
nbgrader works out each submission's ``total_seconds_late`` from its timestamp. The *policy* is the
course's, per assignment, in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "framelab.preprocessors.LatePolicy"
    c.LatePolicy.policies = {"*": "none", "m1_double_bind": "per_day:2", "m6_capstone": "zero_after:48"}

* ``none``: late work is marked late and loses nothing;
* ``per_day:P``: P points off for each day or part of a day late (nbgrader never takes more than the score);
* ``zero_after:H``: nothing off up to H hours late, the whole score after that.

:class:`LatePolicy` is the plugin nbgrader's ``AssignLatePenalties`` (an autograde step) asks for each
notebook's penalty. :class:`LateNote` (a feedback step) tells the trainee, kindly, that their work
came in late and what the policy took, whatever the penalty. :func:`describe` is the short text
``framelab grade``'s table, the export and the report use.
"""

from __future__ import annotations

import math
from typing import Any

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors.base import NbGraderPreprocessor as Preprocessor
from traitlets import Dict

POLICIES = ("none", "per_day", "zero_after")


class PolicyError(ValueError):
    """A policy in ``nbgrader_config.py`` that cannot be read; the message names it and the fix."""


def parse(spec: str) -> tuple[str, float]:
    """``"none"``, ``"per_day:P"`` or ``"zero_after:H"`` as (kind, number); :class:`PolicyError` if not."""
    kind, _, number = str(spec).strip().partition(":")
    fix = "write none, per_day:POINTS or zero_after:HOURS in c.LatePolicy.policies (nbgrader_config.py)"
    if kind not in POLICIES or (kind == "none") != (number == ""):
        raise PolicyError(f"late policy '{spec}' is not one framelab knows: {fix}")
    try:
        value = float(number) if number else 0.0
    except ValueError:
        raise PolicyError(f"late policy '{spec}': '{number}' is not a number: {fix}") from None
    if not math.isfinite(value) or value < 0:
        raise PolicyError(f"late policy '{spec}': the number must be 0 or more: {fix}")
    return kind, value


def penalty(spec: str, score: float, seconds_late: float) -> float:
    """The points a policy takes from ``score`` for work ``seconds_late`` seconds late."""
    kind, value = parse(spec)
    if seconds_late <= 0 or kind == "none":
        return 0.0
    if kind == "per_day":
        return min(score, value * math.ceil(seconds_late / 86400))
    return score if seconds_late > value * 3600 else 0.0


def policy_for(policies: dict[str, str], assignment: str) -> str:
    return str(policies.get(assignment, policies.get("*", "none")))


class LatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin, with the course's policy per assignment (see the module)."""

    policies = Dict(
        {"*": "none"},
        help="assignment -> none, per_day:POINTS or zero_after:HOURS ('*' for every other assignment)",
    ).tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        assignment = getattr(self.parent, "assignment_id", "")
        return penalty(policy_for(self.policies, assignment), score, total_seconds_late)


def duration(seconds: float) -> str:
    """A plain length of time: "18 s", "4 min", "2 h 5 min", "3 days 2 h"."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} day{'s' if s >= 172800 else ''} {s % 86400 // 3600} h"


def describe(seconds_late: float, penalty_points: float) -> str:
    """Grade's, the export's and the report's text: "" on time, else "late 2 h 5 min (-2)"."""
    if not seconds_late or seconds_late <= 0:
        return ""
    return f"late {duration(seconds_late)}" + (f" (-{penalty_points:g})" if penalty_points else "")


class LateNote(Preprocessor):
    """Feedback step: put how late the work was into the page's resources (``seconds_late``, ``late_text``)."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from nbgrader.api import Gradebook, MissingEntry

        info = resources.get("nbgrader", {})
        info["seconds_late"], info["late_text"] = 0.0, ""
        try:
            with Gradebook(info["db_url"]) as gb:
                sub = gb.find_submission(info["assignment"], info["student"])
                seconds = float(sub.total_seconds_late or 0)
        except (KeyError, MissingEntry):
            return nb, resources
        if seconds > 0:
            info["seconds_late"] = seconds
            info["late_text"] = f"This work came in {duration(seconds)} after the due date."
        return nb, resources


def attempts(config: Any, course_id: str, assignment: str, student: str) -> int | None:
    """How many times a trainee submitted an assignment: their entries in the exchange's inbound
    folder (``<student>+<assignment>+<timestamp>+<random>``); None when the inbound cannot be listed
    (no exchange here, or another account's)."""
    import glob
    import os

    root = config.get("Exchange", {}).get("root", "/srv/nbgrader/exchange")
    inbound = os.path.join(str(root), course_id, "inbound")
    try:
        os.listdir(inbound)
    except OSError:
        return None
    pattern = os.path.join(inbound, f"{glob.escape(student)}+{glob.escape(assignment)}+*")
    return len(glob.glob(pattern))


def annotate(outcome: Any, sub: Any, config: Any, course_id: str, assignment: str) -> Any:
    """Fill in a grade-table row's attempts and lateness from the gradebook's submission. No entry in the
    inbound means the submission came another way (not through this exchange): attempts unknown."""
    outcome.attempts = attempts(config, course_id, assignment, outcome.student) or None
    outcome.late = describe(float(sub.total_seconds_late or 0), float(sub.late_submission_penalty or 0))
    return outcome
