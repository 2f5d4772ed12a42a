"""Due dates and the late policy (issue 28, item 4): each policy's penalty, a bad policy named in one
line, and the plain text grade's table, the export and the report show."""

from __future__ import annotations

import pytest

from framelab.grading import late
from framelab.grading.pool import Outcome, RunTable

DAY, HOUR = 86400, 3600


@pytest.mark.parametrize(
    ("spec", "score", "seconds", "taken"),
    [
        ("none", 10, 5 * DAY, 0),
        ("per_day:2", 10, 0, 0),
        ("per_day:2", 10, 18, 2),  # 18 s late is a part of a day
        ("per_day:2", 10, DAY + 1, 4),
        ("per_day:2", 3, 9 * DAY, 3),  # never more than the score
        ("zero_after:48", 10, 47 * HOUR, 0),
        ("zero_after:48", 10, 49 * HOUR, 10),
    ],
)
def test_each_policy_takes_what_it_says(spec, score, seconds, taken):
    assert late.penalty(spec, score, seconds) == taken


@pytest.mark.parametrize("spec", ["per_week:2", "per_day", "per_day:-1", "zero_after:soon", "none:3"])
def test_a_policy_framelab_does_not_know_is_named_with_the_fix(spec):
    with pytest.raises(late.PolicyError) as exc:
        late.parse(spec)
    assert spec in str(exc.value) and "c.LatePolicy.policies" in str(exc.value)


def test_the_policy_is_chosen_per_assignment():
    policies = {"*": "none", "m6_capstone": "zero_after:24"}
    assert late.policy_for(policies, "m6_capstone") == "zero_after:24"
    assert late.policy_for(policies, "m1_double_bind") == "none"
    assert late.policy_for({}, "m1_double_bind") == "none"


def test_late_work_is_described_plainly_and_on_time_work_not_at_all():
    assert late.describe(0, 0) == ""
    assert late.describe(18, 0) == "late 18 s"
    assert late.describe(2 * HOUR + 5 * 60, 2) == "late 2 h 5 min (-2)"
    assert late.describe(3 * DAY + HOUR, 0) == "late 3 days 1 h"


def test_grade_table_shows_attempts_and_late_only_when_known():
    run = RunTable("m1_double_bind", 2)
    run.outcomes = [Outcome("ana", "graded", 1.0, 5, 10), Outcome("ben", "graded", 1.0, 6, 10)]
    assert "attempts" not in run.rows()[0]
    run.outcomes[0].attempts, run.outcomes[1].attempts = 2, 1
    run.outcomes[1].late = "late 18 s"
    head, *rows = run.rows()
    assert "attempts" in head and "late" in head
    ana, ben = (next(r for r in rows if r.startswith(name)) for name in ("ana", "ben"))
    assert ana.split()[-1] == "2" and ben.split()[-4:] == ["1", "late", "18", "s"]


def test_attempts_count_the_trainees_entries_in_the_inbound(tmp_path):
    inbound = tmp_path / "framelab" / "inbound"
    inbound.mkdir(parents=True)
    for name in ("ana+m1+2026-12-01 10:00:00.000000 UTC+abc", "ana+m1+2026-12-02 10:00:00.000000 UTC+def"):
        (inbound / name).mkdir()
    (inbound / "anabel+m1+2026-12-01 10:00:00.000000 UTC+x").mkdir()
    config = {"Exchange": {"root": str(tmp_path)}}
    assert late.attempts(config, "framelab", "m1", "ana") == 2
    assert late.attempts(config, "framelab", "m1", "ben") == 0
    assert late.attempts({"Exchange": {"root": str(tmp_path / "none")}}, "framelab", "m1", "ana") is None
