"""The cohort report: how a cohort did, item by item, and which distinctions it gets wrong.

Inputs are two tables (pandas), so the statistics work the same on a real course and on a
hand-made cohort:

* ``responses``: one row per trainee and graded item: ``trainee, assignment, exercise, kind,
  item, labels, gold, answer, correct`` (``answer`` is ``""`` when left blank; a set of ticked
  moves is joined with ``+``);
* ``scores``: one row per trainee and assignment: ``trainee, assignment, score, max_score``.

:func:`load_course` builds both from a graded course: correctness from nbgrader's gradebook
(each item is a one-point test cell), the trainee's choice from the ``answers.json`` that was
graded (``autograded/<trainee>/<assignment>/``), and the gold label from ``modules/``.

Item statistics (per assignment, over trainees with a graded submission):

* difficulty ``p``: the proportion answering correctly (blank counts as wrong);
* discrimination ``r_pb``: the point-biserial correlation between the item (0/1) and the
  trainee's total on the assignment's items; ``r_rest`` is the same against the total *without*
  the item (the corrected item-total correlation, the one used for flags, since with 12-16
  items the item itself inflates ``r_pb``);
* an item every trainee got wrong is flagged at any cohort size;
* an item is flagged for review (with at least 10 answers) when ``r_rest`` is negative or low
  (< 0.15) on an item that is neither very easy nor very hard (0.1 < p < 0.9), or when half or more of
  the strongest third of trainees (ranked on the rest of the assignment, at least 3) agree on
  one wrong answer, more than get it right: the signs of a miskeyed or ambiguous item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.core.vocabulary import BACKFIRES, MEANINGS, NONE_OF_THE_MOVES, OPTION_SETS, THREE_MOVES, TITLES
from framelab.grading import late
from framelab.instructor.itemanalysis import pearson
from framelab.scoring import answers as store
from framelab.scoring import display

BLANK = ""
MIN_N = 10  # fewer answers than this: statistics are shown, never flagged
LOW_R = 0.15
EASY, HARD = 0.9, 0.1  # items this easy (or hard) are exempt from the discrimination flags
MIN_CONFUSION = 3  # a confusion seen fewer times than this is not ranked among the misconceptions

KIND_TITLES = {
    "single_label": "Name the response (one label)",
    "moves": "Which moves does it make?",
    "missing_move": "Which move is missing?",
    "relation": "What is going on? (relation)",
    "next_action": "What fits next?",
    "boundary": "Which boundary?",
    "severity": "Crossing or violation?",
    "alliance": "Strengthens or strains the alliance?",
    "risk_check": "Does it check for risk first?",
}

#: What a confusion means, in the curriculum's words, for the ones the course cares most about.
MEANS: dict[tuple[str, str], str] = {
    ("no", "yes"): "a reply that asks nothing about risk is being credited with a risk check",
    ("partly", "yes"): "a vague 'are you ok?' is being taken for a direct question about suicide or safety",
    ("vague_rule", "state_boundary"): "hiding behind a rule or policy is being taken for a clear, owned boundary",
    ("gentle_dodge", "state_boundary"): (
        "a 'not now' deferral is being taken for a boundary, though it implies yes some other time"
    ),
    ("gentle_dodge", "validate"): "a deferral is being heard as warmth, not as a promise of later",
    ("mixed_message", "gentle_dodge"): "a door left ajar is being read as a mere deferral",
    ("mixed_message", "state_boundary"): "a no that signals yes is being taken for a clear boundary",
    ("countertransference", "neither"): "the therapist's own reactions are being read as ordinary, realistic ones",
    ("neither", "transference"): "realistic reactions to what really happened are being read as transference",
    ("reflect_and_supervise", "explore_in_session"): (
        "the therapist's own feelings are being taken into the session instead of to supervision"
    ),
    ("repair_directly", "explore_in_session"): "a real rupture is being explored instead of repaired",
}


def _short(value: str) -> str:
    """A value's plain name (:func:`framelab.scoring.display.name`)."""
    return display.name(value)


def _meaning(value: str) -> str:
    """What a value means, in the curriculum's words ("" when the vocabulary does not say)."""
    return display.meaning(value)


def canonical(answer: Any) -> str:
    """An answer as one string: a label, moves joined with ``+`` in teaching order, or ``""``."""
    if answer is None or answer == [] or answer == "":
        return BLANK
    if isinstance(answer, list):
        order = [*THREE_MOVES, NONE_OF_THE_MOVES]
        return "+".join(sorted(answer, key=lambda v: order.index(v) if v in order else len(order)))
    return str(answer)


# --------------------------------------------------------------------------- loading


@dataclass
class CohortData:
    responses: Any  # pandas.DataFrame
    scores: Any  # pandas.DataFrame
    notes: list[str] = field(default_factory=list)
    #: item id -> the item's text (shown beside flagged items)
    texts: dict[str, str] = field(default_factory=dict)
    #: every trainee in the gradebook (the roster), whether or not they submitted
    roster: list[str] = field(default_factory=list)
    #: assignment -> the trainees in the roster with no submission of it
    not_submitted: dict[str, list[str]] = field(default_factory=dict)
    #: every marked grade cell, autograded and hand-marked (:mod:`framelab.instructor.itemanalysis`)
    marks: list[Any] = field(default_factory=list)
    #: assignment -> pass mark, a percentage (``c.FrameLab.pass_marks``)
    pass_marks: dict[str, float] = field(default_factory=dict)
    #: the pre/post diagnostic's results (:mod:`framelab.instructor.diagnostic`), None without one
    diagnostic: Any = None


def load_course(
    course: str | Path, assignments: list[str] | None = None, modules: str | Path | None = None
) -> CohortData:
    """Responses and scores of every graded submission in a course (see the module docstring)."""
    import pandas as pd
    from nbgrader.coursedir import CourseDirectory

    from framelab.bank.loader import load_bank
    from framelab.bank.variants import course_setting, places
    from framelab.core.settings import pass_marks
    from framelab.instructor.course import course_config, open_gradebook
    from framelab.instructor.diagnostic import course_results
    from framelab.instructor.itemanalysis import by_item, marks_from_gradebook
    from framelab.instructor.roster import not_submitted

    course = Path(course).resolve()
    cd = CourseDirectory(config=course_config(course))
    bank = load_bank(Path(modules) if modules else course / "modules")
    setting = course_setting(course)
    items = bank.items()
    rows: list[dict[str, Any]] = []
    score_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    data = CohortData(None, None, notes, pass_marks=pass_marks(course))
    with open_gradebook(course) as gb:
        names = [a.name for a in gb.assignments]
        data.roster = sorted(s.id for s in gb.students)
        for a in assignments or names:
            if a not in names:
                notes.append(f"{a}: not in the gradebook (nothing graded yet).")
                continue
            try:
                module = bank.module(a)
            except KeyError:
                notes.append(f"{a}: no module in modules/ for it; skipped.")
                continue
            data.not_submitted[a] = not_submitted(gb, a)
            graded = set()
            for sub in gb.assignment_submissions(a):
                asked = places(module, bank, sub.student.id, setting)  # with variants on, this trainee's items
                score_row, item_rows = _submission_rows(sub, module, asked, items, cd, notes)
                if score_row is not None:
                    score_rows.append(score_row)
                    graded.add(sub.student.id)
                    rows += item_rows
            marks = [m for m in marks_from_gradebook(gb, a) if m.trainee in graded]
            data.marks += by_item(marks, module, bank, setting)
    data.responses = pd.DataFrame(rows, columns=RESPONSE_COLUMNS)
    data.scores = pd.DataFrame(score_rows, columns=SCORE_COLUMNS)
    data.texts = {iid: getattr(items[iid], "text", "") for iid in set(data.responses["item"])}
    data.diagnostic = course_results(course, Path(modules) if modules else None)
    return data


def _submission_rows(
    sub: Any, module: Any, asked: dict[str, list[tuple[str, str]]], items: dict[str, Any], cd: Any, notes: list[str]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """One graded submission's score row and one row per graded item (``asked``: each exercise's grade
    ids and items for this trainee); (None, []) with a note when it has no autograded folder."""
    from framelab.bank.loader import gold as gold_of

    a, trainee = sub.assignment.name, sub.student.id
    grades = {g.name: g for nb in sub.notebooks for g in nb.grades}
    folder = Path(cd.format_path(cd.autograded_directory, trainee, a))
    if not folder.is_dir():
        notes.append(f"{a}/{trainee}: not autograded (no {folder.name}/ in autograded/); left out.")
        return None, []
    try:
        picks = store.read(folder / store.FILENAME)
    except store.AnswerFileError as exc:
        notes.append(f"{a}/{trainee}: {exc}")
        picks = {}
    penalty = float(sub.late_submission_penalty or 0)
    score_row = {
        "trainee": trainee,
        "assignment": a,
        "score": float(sub.score) - penalty,
        "max_score": float(sub.max_score),
        "pending": float(sum(g.max_score or 0 for g in grades.values() if g.needs_manual_grade)),
        "late": late.describe(float(sub.total_seconds_late or 0), penalty),
    }
    rows = []
    for ex in module.meta.exercises:
        for grade_id, iid in asked[ex.id]:
            g = grades.get(grade_id)
            if g is None or g.score is None:
                continue
            it = items[iid]
            labels = getattr(it, "labels", None) or [getattr(it, "relation", None) or ""]
            rows.append(
                {
                    "trainee": trainee,
                    "assignment": a,
                    "exercise": ex.id,
                    "kind": ex.kind,
                    "item": iid,
                    "labels": "+".join(labels),
                    "gold": canonical(gold_of(it, ex.kind)),
                    "answer": canonical(picks.get(ex.id, {}).get(iid)),
                    "correct": int(float(g.score) >= float(g.max_score)),
                }
            )
    return score_row, rows


RESPONSE_COLUMNS = ["trainee", "assignment", "exercise", "kind", "item", "labels", "gold", "answer", "correct"]
#: ``pending``: points still to hand-grade (the total is not final while it is above 0)
SCORE_COLUMNS = ["trainee", "assignment", "score", "max_score", "pending", "late"]


# --------------------------------------------------------------------------- statistics


def item_stats(responses: Any) -> Any:
    """Difficulty, discrimination and review flags for every item (one row per item)."""
    import pandas as pd

    out = []
    for a, group in responses.groupby("assignment", sort=False):
        totals = group.groupby("trainee")["correct"].sum()
        for (ex, item), rows in group.groupby(["exercise", "item"], sort=False):
            rows = rows.set_index("trainee")
            x = [float(v) for v in rows["correct"]]
            tot = [float(totals[t]) for t in rows.index]
            rest = [t - v for t, v in zip(tot, x, strict=True)]
            n = len(x)
            p = sum(x) / n if n else math.nan
            r_pb, r_rest = pearson(x, tot), pearson(x, rest)
            # the strongest third on the rest of the assignment: what do they answer?
            ranked = sorted(zip(rest, rows["answer"], rows["correct"], strict=True), key=lambda t: -t[0])
            top = ranked[: max(3, math.ceil(n / 3))]
            wrong = [ans for _, ans, ok in top if not ok]
            top_wrong, top_share, top_right = "", 0.0, sum(int(ok) for _, _, ok in top) / len(top) if top else 0.0
            if wrong:
                top_wrong = max(set(wrong), key=lambda v: (wrong.count(v), v))
                top_share = wrong.count(top_wrong) / len(top)
            reasons = []
            if n and p == 0:  # at any cohort size: the key, the item or the teaching is wrong
                reasons.append(f"every trainee ({n}) got it wrong: check the key, then the teaching")
            if n >= MIN_N:
                # on items nearly everyone (or no one) gets right, r is mostly noise: no r-based flag
                informative = HARD < p < EASY and not math.isnan(r_rest)
                if informative and r_rest < 0:
                    reasons.append(f"negative discrimination (r_rest {r_rest:.2f}): check the key")
                elif informative and r_rest < LOW_R:
                    reasons.append(f"low discrimination (r_rest {r_rest:.2f})")
                if top_share >= 0.5 and top_share > top_right:
                    reasons.append(f"the strongest third mostly answered '{top_wrong or '(blank)'}'")
            first = rows.iloc[0]
            out.append(
                {
                    "assignment": a,
                    "exercise": ex,
                    "kind": first["kind"],
                    "item": item,
                    "gold": first["gold"],
                    "n": n,
                    "p": p,
                    "r_pb": r_pb,
                    "r_rest": r_rest,
                    "top_wrong": top_wrong,
                    "flag": "; ".join(reasons),
                }
            )
    columns = ["assignment", "exercise", "kind", "item", "gold", "n", "p", "r_pb", "r_rest", "top_wrong", "flag"]
    return pd.DataFrame(out, columns=columns)


#: the exercise kinds answered with one value (a menu), in the vocabulary's order
SINGLE_KINDS = tuple(kind for kind, (_, multi) in OPTION_SETS.items() if not multi)


def confusion(responses: Any, kind: str = "single_label") -> Any:
    """Counts of gold (rows) against the trainee's answer (columns; ``(blank)`` for none)."""
    import pandas as pd

    rows = responses[responses["kind"] == kind]
    answers = rows["answer"].replace({BLANK: "(blank)"})
    table = pd.crosstab(rows["gold"], answers)
    from framelab.core.vocabulary import OPTION_SETS

    order = [v for v in OPTION_SETS[kind][0] if v in set(table.index) | set(table.columns)]
    cols = [c for c in order if c in table.columns] + [c for c in table.columns if c not in order]
    return table.reindex(index=[r for r in order if r in table.index], columns=cols, fill_value=0)


def confusions(responses: Any, min_count: int = MIN_CONFUSION) -> Any:
    """The wrong answers that recur, per module, each with a sentence saying what it means and
    one on what to teach. Ranked by rate (the share of answers to such items that made it),
    those seen at least ``min_count`` times first.

    For one-answer exercises: key ``X`` answered ``Y``. For the moves exercise (tick boxes): a
    move ticked on responses that do not make it, grouped by what the response really is
    (its other labels), and a move left unticked where the response makes it.
    """
    import pandas as pd

    out = []
    for a, group in responses.groupby("assignment", sort=False):
        out += [{"assignment": a, **row} for row in _single_confusions(group) + _moves_confusions(group)]
    order = {a: n for n, a in enumerate(dict.fromkeys(responses["assignment"]))}
    columns = ["assignment", "kind", "gold", "answer", "count", "of", "share", "words", "teaching"]
    df = pd.DataFrame(out, columns=columns)
    df["ranked"] = df["count"] >= min_count
    df = df.sort_values(["ranked", "share", "count"], ascending=False, kind="stable").reset_index(drop=True)
    df["module_order"] = df["assignment"].map(order)
    return df


def _single_confusions(responses: Any) -> list[dict[str, Any]]:
    out = []
    for kind in SINGLE_KINDS:
        rows = responses[responses["kind"] == kind]
        if rows.empty:
            continue
        totals = rows.groupby("gold").size()
        wrong = rows[(rows["correct"] == 0) & (rows["answer"] != BLANK)]
        for (g, ans), n in wrong.groupby(["gold", "answer"]).size().items():
            out.append(_confusion_row(kind, g, ans, int(n), int(totals[g])))
    return out


def _moves_confusions(responses: Any) -> list[dict[str, Any]]:
    moves = responses[responses["kind"] == "moves"]
    if moves.empty:
        return []
    counts: dict[tuple[str, str], int] = {}
    base: dict[str, int] = {}
    for _, r in moves.iterrows():
        labels = [lab for lab in r["labels"].split("+") if lab]
        others = [lab for lab in labels if lab in BACKFIRES] or ["moves-only"]
        for lab in others:
            base[lab] = base.get(lab, 0) + 1
        for m in THREE_MOVES:
            if m in labels:
                base[f"makes {m}"] = base.get(f"makes {m}", 0) + 1
        if r["correct"] or r["answer"] == BLANK:
            continue
        ticked = set(r["answer"].split("+")) - {NONE_OF_THE_MOVES}
        for m in sorted(ticked - set(labels), key=THREE_MOVES.index):
            for lab in others:
                counts[(lab, f"ticked {m}")] = counts.get((lab, f"ticked {m}"), 0) + 1
        for m in [m for m in THREE_MOVES if m in labels and m not in ticked]:
            counts[(f"makes {m}", "missed it")] = counts.get((f"makes {m}", "missed it"), 0) + 1
    return [_confusion_row("moves", g, ans, n, base.get(g, n)) for (g, ans), n in counts.items()]


#: What to do about a confusion in teaching, for the ones the course cares most about.
TEACH: dict[tuple[str, str], str] = {
    ("no", "yes"): (
        "Revisit Module 4 section 6b: look for the direct question about suicide, self-harm or safety tonight "
        "before judging the rest of the reply; warmth and a clear limit are not a risk check."
    ),
    ("partly", "yes"): (
        "Practise telling a vague check ('are you ok?') from a direct question; asking plainly about suicide "
        "is safe and expected (Dazzi et al. 2014)."
    ),
    ("vague_rule", "state_boundary"): (
        "Teach that a boundary is owned ('I keep our work to these sessions') and tied to the client's good; "
        "set a policy-citing reply beside an owned one and ask what the client hears in each."
    ),
    ("gentle_dodge", "state_boundary"): (
        "Teach that 'not now' is a promise: ask trainees what the client will ask next week, and rewrite "
        "deferrals as clear, kind limits."
    ),
    ("mixed_message", "gentle_dodge"): (
        "Teach trainees to listen for the wish in the no ('I'd love to, but...'): practise replies that "
        "keep the warmth without leaving the door ajar."
    ),
    ("countertransference", "neither"): (
        "Revisit countertransference: the therapist's own pull is data for supervision, not an ordinary reaction."
    ),
    ("reflect_and_supervise", "explore_in_session"): (
        "Teach that the therapist's own feelings go to reflection and supervision first, not into the session."
    ),
    ("neither", "transference"): (
        "Teach trainees to check what really happened before reading a reaction as transference."
    ),
    ("repair_directly", "explore_in_session"): (
        "Teach that a real rupture calls for acknowledgement and repair before exploration."
    ),
}


def teaching(kind: str, gold: str, answer: str) -> str:
    """One sentence on what a confusion means for teaching."""
    if kind == "moves":
        if answer == "missed it":
            move = gold.removeprefix("makes ")
            return (
                f"Trainees overlook '{TITLES[move]}' when a response makes it: practise spotting it "
                f"({MEANINGS[move]}) in replies that also do other things."
            )
        move = answer.removeprefix("ticked ")
        if (gold, move) in TEACH:
            return TEACH[(gold, move)]
        what = "responses that make only the moves" if gold == "moves-only" else f"{TITLES[gold].lower()} responses"
        return (
            f"Trainees credit {what} with '{TITLES[move]}', which needs more ({MEANINGS[move]}): "
            "work through why the response falls short of it."
        )
    if (gold, answer) in TEACH:
        return TEACH[(gold, answer)]
    meanings = [f"{_short(v).lower()}: {_meaning(v)}" for v in (gold, answer) if _meaning(v)]
    return (
        f"Set {_short(gold).lower()} items beside {_short(answer).lower()} ones and name the cue that tells them "
        "apart" + (f" ({'; '.join(meanings)})." if meanings else ".")
    )


def _confusion_row(kind: str, gold: str, answer: str, n: int, of: int) -> dict[str, Any]:
    share = n / of if of else math.nan
    where = KIND_TITLES.get(kind, kind)
    if kind == "moves":
        if answer == "missed it":
            move = gold.removeprefix("makes ")
            words = (
                f"{n} of {of} answers on '{where}' ({share:.0%}) missed '{TITLES[move]}' in a response that makes it."
            )
        else:
            move = answer.removeprefix("ticked ")
            what = "responses that make only the moves" if gold == "moves-only" else f"{TITLES[gold].lower()} responses"
            words = (
                f"{n} of {of} answers on '{where}' about {what} ({share:.0%}) ticked '{TITLES[move]}', "
                "a move the response does not make"
            )
            meaning = MEANS.get((gold, move))
            words += f": {meaning}." if meaning else "."
    else:
        words = f"{n} of {of} answers to {_short(gold)} items on '{where}' ({share:.0%}) chose {_short(answer)} instead"
        meaning = MEANS.get((gold, answer))
        words += f": {meaning}." if meaning else "."
    return {
        "kind": kind,
        "gold": gold,
        "answer": answer,
        "count": n,
        "of": of,
        "share": share,
        "words": words,
        "teaching": teaching(kind, gold, answer),
    }


def final_scores(scores: Any) -> Any:
    """The scores whose totals are final (no hand-grading pending)."""
    if "pending" not in scores.columns:
        return scores
    return scores[scores["pending"].fillna(0) <= 0]


def progress(scores: Any) -> Any:
    """Per trainee: percentage on each assignment (columns in course order), blank where not
    submitted or not final (hand-grading pending)."""
    order = list(dict.fromkeys(scores["assignment"]))
    scores = final_scores(scores)
    df = scores.assign(percent=100 * scores["score"] / scores["max_score"])
    table = df.pivot_table(index="trainee", columns="assignment", values="percent", aggfunc="first")
    return table.reindex(columns=[a for a in order if a in table.columns])
