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
* an item is flagged for review (with at least 10 answers) when ``r_rest`` is negative or low
  (< 0.15) on an item that is neither very easy nor very hard (0.1 < p < 0.9), or when half or more of
  the strongest third of trainees (ranked on the rest of the assignment, at least 3) agree on
  one wrong answer, more than get it right: the signs of a miskeyed or ambiguous item.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import answers as store
from .vocabulary import BACKFIRES, MEANINGS, NEXT_ACTIONS, NONE_OF_THE_MOVES, RELATIONS, THREE_MOVES, TITLES

BLANK = ""
MIN_N = 10  # fewer answers than this: statistics are shown, never flagged
LOW_R = 0.15

KIND_TITLES = {
    "single_label": "Name the response (one label)",
    "moves": "Which moves does it make?",
    "missing_move": "Which move is missing?",
    "relation": "What is going on? (relation)",
    "next_action": "What fits next?",
    "boundary": "Which boundary?",
    "severity": "Crossing or violation?",
    "alliance": "Strengthens or strains the alliance?",
}

#: What a confusion means, in the curriculum's words, for the ones the course cares most about.
MEANS: dict[tuple[str, str], str] = {
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
    """A value's plain name: the label title, or the option text up to its colon."""
    if value in TITLES:
        return TITLES[value]
    text = RELATIONS.get(value) or NEXT_ACTIONS.get(value) or value.replace("_", " ")
    return text.split(":")[0]


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


def load_course(
    course: str | Path, assignments: list[str] | None = None, modules: str | Path | None = None
) -> CohortData:
    """Responses and scores of every graded submission in a course (see the module docstring)."""
    import pandas as pd
    from nbgrader.coursedir import CourseDirectory

    from .bank import gold as gold_of
    from .bank import load_bank
    from .build import test_cell_id
    from .course import course_config, open_gradebook

    course = Path(course).resolve()
    cd = CourseDirectory(config=course_config(course))
    bank = load_bank(Path(modules) if modules else course / "modules")
    items = bank.items()
    rows: list[dict[str, Any]] = []
    score_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with open_gradebook(course) as gb:
        names = [a.name for a in gb.assignments]
        for a in assignments or names:
            if a not in names:
                notes.append(f"{a}: not in the gradebook (nothing graded yet).")
                continue
            try:
                module = bank.module(a)
            except KeyError:
                notes.append(f"{a}: no module in modules/ for it; skipped.")
                continue
            for sub in gb.assignment_submissions(a):
                trainee = sub.student.id
                grades = {g.name: g for nb in sub.notebooks for g in nb.grades}
                folder = Path(cd.format_path(cd.autograded_directory, trainee, a))
                if not folder.is_dir():
                    notes.append(f"{a}/{trainee}: not autograded (no {folder.name}/ in autograded/); left out.")
                    continue
                try:
                    picks = store.read(folder / store.FILENAME)
                except store.AnswerFileError as exc:
                    notes.append(f"{a}/{trainee}: {exc}")
                    picks = {}
                penalty = float(sub.late_submission_penalty or 0)
                score_rows.append(
                    {
                        "trainee": trainee,
                        "assignment": a,
                        "score": float(sub.score) - penalty,
                        "max_score": float(sub.max_score),
                        "pending": float(sum(g.max_score or 0 for g in grades.values() if g.needs_manual_grade)),
                    }
                )
                for ex in module.meta.exercises:
                    for iid in ex.items:
                        g = grades.get(test_cell_id(ex, iid))
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
    responses = pd.DataFrame(rows, columns=RESPONSE_COLUMNS)
    scores = pd.DataFrame(score_rows, columns=SCORE_COLUMNS)
    return CohortData(responses, scores, notes)


RESPONSE_COLUMNS = ["trainee", "assignment", "exercise", "kind", "item", "labels", "gold", "answer", "correct"]
#: ``pending``: points still to hand-grade (the total is not final while it is above 0)
SCORE_COLUMNS = ["trainee", "assignment", "score", "max_score", "pending"]


# --------------------------------------------------------------------------- statistics


def _corr(x: list[float], y: list[float]) -> float:
    n = len(x)
    if n < 2:
        return math.nan
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return math.nan
    return sxy / math.sqrt(sxx * syy)


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
            r_pb, r_rest = _corr(x, tot), _corr(x, rest)
            # the strongest third on the rest of the assignment: what do they answer?
            ranked = sorted(zip(rest, rows["answer"], rows["correct"], strict=True), key=lambda t: -t[0])
            top = ranked[: max(3, math.ceil(n / 3))]
            wrong = [ans for _, ans, ok in top if not ok]
            top_wrong, top_share, top_right = "", 0.0, sum(int(ok) for _, _, ok in top) / len(top) if top else 0.0
            if wrong:
                top_wrong = max(set(wrong), key=lambda v: (wrong.count(v), v))
                top_share = wrong.count(top_wrong) / len(top)
            reasons = []
            if n >= MIN_N:
                # on items nearly everyone (or no one) gets right, r is mostly noise: no r-based flag
                informative = 0.1 < p < 0.9 and not math.isnan(r_rest)
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


SINGLE_KINDS = ("single_label", "missing_move", "relation", "next_action", "boundary", "severity", "alliance")


def confusion(responses: Any, kind: str = "single_label") -> Any:
    """Counts of gold (rows) against the trainee's answer (columns; ``(blank)`` for none)."""
    import pandas as pd

    rows = responses[responses["kind"] == kind]
    answers = rows["answer"].replace({BLANK: "(blank)"})
    table = pd.crosstab(rows["gold"], answers)
    from .vocabulary import OPTION_SETS

    order = [v for v in OPTION_SETS[kind][0] if v in set(table.index) | set(table.columns)]
    cols = [c for c in order if c in table.columns] + [c for c in table.columns if c not in order]
    return table.reindex(index=[r for r in order if r in table.index], columns=cols, fill_value=0)


def confusions(responses: Any) -> Any:
    """The wrong answers that recur, most common first, each with a sentence saying what it means.

    For one-answer exercises: gold ``X`` answered ``Y``. For the moves exercise (tick boxes): a
    move ticked on responses that do not make it, grouped by what the response really is
    (its other labels), and a move left unticked where the response makes it.
    """
    import pandas as pd

    out = []
    for kind in SINGLE_KINDS:
        rows = responses[responses["kind"] == kind]
        if rows.empty:
            continue
        totals = rows.groupby("gold").size()
        wrong = rows[(rows["correct"] == 0) & (rows["answer"] != BLANK)]
        for (g, ans), n in wrong.groupby(["gold", "answer"]).size().items():
            out.append(_confusion_row(kind, g, ans, int(n), int(totals[g])))
    moves = responses[responses["kind"] == "moves"]
    if not moves.empty:
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
        for (g, ans), n in counts.items():
            out.append(_confusion_row("moves", g, ans, n, base.get(g, n)))
    columns = ["kind", "gold", "answer", "count", "of", "share", "words"]
    df = pd.DataFrame(out, columns=columns)
    return df.sort_values(["count", "share"], ascending=False, kind="stable").reset_index(drop=True)


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
        return {"kind": kind, "gold": gold, "answer": answer, "count": n, "of": of, "share": share, "words": words}
    words = f"{n} of {of} answers to {_short(gold)} items on '{where}' ({share:.0%}) chose {_short(answer)} instead"
    meaning = MEANS.get((gold, answer))
    if meaning:
        words += f": {meaning}."
    elif gold in MEANINGS and answer in MEANINGS:
        words += f" ({_short(gold).lower()}: {MEANINGS[gold]}; not {MEANINGS[answer]})."
    else:
        words += "."
    return {"kind": kind, "gold": gold, "answer": answer, "count": n, "of": of, "share": share, "words": words}


def progress(scores: Any) -> Any:
    """Per trainee: percentage on each assignment (columns in course order), blank where not submitted."""
    df = scores.assign(percent=100 * scores["score"] / scores["max_score"])
    table = df.pivot_table(index="trainee", columns="assignment", values="percent", aggfunc="first")
    order = list(dict.fromkeys(scores["assignment"]))
    return table.reindex(columns=order)


# --------------------------------------------------------------------------- plots and HTML


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(scores: Any, path: Path) -> Path:
    plt = _plt()
    order = list(dict.fromkeys(scores["assignment"]))
    fig, axes = plt.subplots(1, max(1, len(order)), figsize=(4.2 * max(1, len(order)), 3.2), squeeze=False)
    for ax, a in zip(axes[0], order, strict=False):
        s = scores[scores["assignment"] == a]
        pct = 100 * s["score"] / s["max_score"]
        ax.hist(pct, bins=[i * 10 for i in range(11)], color="#4c72b0", edgecolor="white")
        ax.axvline(pct.median(), color="#c44e52", linestyle="--", label=f"median {pct.median():.0f}%")
        ax.set_title(f"{a} (n={len(s)})", fontsize=10)
        ax.set_xlabel("score (%)")
        ax.set_ylabel("trainees")
        ax.legend(fontsize=8)
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_items(stats: Any, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    flagged = stats["flag"] != ""
    ax.scatter(stats.loc[~flagged, "p"], stats.loc[~flagged, "r_rest"], color="#4c72b0", label="item")
    ax.scatter(stats.loc[flagged, "p"], stats.loc[flagged, "r_rest"], color="#c44e52", marker="D", label="flagged")
    for _, r in stats[flagged].iterrows():
        ax.annotate(r["item"], (r["p"], r["r_rest"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(LOW_R, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("difficulty p (proportion correct)")
    ax.set_ylabel("discrimination r_rest (corrected point-biserial)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_title("Items: difficulty against discrimination")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_confusion(table: Any, title: str, path: Path) -> Path:
    plt = _plt()
    rates = table.div(table.sum(axis=1).replace(0, 1), axis=0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(table.columns), 1.0 + 0.55 * len(table.index)))
    ax.imshow(rates.values, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(table.columns)), [_short(c) if c != "(blank)" else c for c in table.columns])
    ax.set_yticks(range(len(table.index)), [_short(r) for r in table.index])
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right", fontsize=8)
    plt.setp(ax.get_yticklabels(), fontsize=8)
    for i in range(len(table.index)):
        for j in range(len(table.columns)):
            n = int(table.values[i, j])
            if n:
                ax.text(
                    j,
                    i,
                    n,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if rates.values[i, j] > 0.5 else "black",
                )
    ax.set_xlabel("trainee's answer")
    ax.set_ylabel("gold label")
    ax.set_title(title, fontsize=10)
    return _save(plt, fig, path)


def plot_progress(table: Any, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = list(range(len(table.columns)))
    for _, row in table.iterrows():
        ax.plot(xs, row.values, color="#4c72b0", alpha=0.25, marker="o", markersize=3)
    ax.plot(xs, table.median().values, color="#c44e52", linewidth=2.5, marker="o", label="median")
    ax.set_xticks(xs, list(table.columns))
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (%)")
    ax.set_title(f"Progress across modules ({len(table)} trainees; gaps are missing submissions)")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
.flag{color:#a00} .note{color:#555;font-size:0.9em}
"""


def _table(df: Any) -> str:
    return df.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.2f}", border=0)


@dataclass
class Report:
    stats: Any
    confusions: Any
    progress: Any
    matrices: dict[str, Any]
    files: list[Path]


def build_report(data: CohortData, out: str | Path, title: str = "Frame Lab cohort report") -> Report:
    """Write ``report.html``, its PNG plots and CSV tables into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    responses, scores = data.responses, data.scores
    stats = item_stats(responses)
    conf = confusions(responses)
    prog = progress(scores) if not scores.empty else None
    files: list[Path] = []
    parts = [f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in data.notes]
    n_trainees = responses["trainee"].nunique() if not responses.empty else 0
    parts.append(
        f"<p>{n_trainees} trainees, {len(scores)} graded submissions, {len(stats)} items "
        f"({', '.join(dict.fromkeys(scores['assignment']))}).</p>"
    )

    parts.append("<h2>Score distributions</h2>")
    if not scores.empty:
        files.append(plot_scores(scores, out / "scores.png"))
        summary = scores.assign(percent=100 * scores["score"] / scores["max_score"]).groupby("assignment", sort=False)
        table = summary["percent"].describe()[["count", "mean", "std", "min", "50%", "max"]].reset_index()
        parts.append("<img src='scores.png' alt='score distributions per module'>")
        parts.append(_table(table.rename(columns={"50%": "median"})))

    parts.append("<h2>The misconception map: most common confusions</h2>")
    if conf.empty:
        parts.append("<p>No wrong answers yet.</p>")
    else:
        parts.append("<ol>" + "".join(f"<li>{html.escape(w)}</li>" for w in conf["words"].head(8)) + "</ol>")
    matrices = {}
    for kind in SINGLE_KINDS:
        if (responses["kind"] == kind).any():
            matrices[kind] = confusion(responses, kind)
            name = f"confusion_{kind}.png"
            files.append(plot_confusion(matrices[kind], f"{KIND_TITLES[kind]}: gold against answer", out / name))
            parts.append(f"<h3>{html.escape(KIND_TITLES[kind])}</h3><img src='{name}' alt='confusion matrix {kind}'>")
            parts.append(_table(matrices[kind].reset_index()))

    parts.append("<h2>Items: difficulty and discrimination</h2>")
    flagged = stats[stats["flag"] != ""]
    if not stats.empty:
        files.append(plot_items(stats, out / "items.png"))
        parts.append("<img src='items.png' alt='difficulty against discrimination'>")
    parts.append("<h3 class='flag'>Flagged for review (possibly miskeyed or ambiguous)</h3>")
    parts.append(_table(flagged) if not flagged.empty else "<p>No item is flagged.</p>")
    parts.append("<h3>All items</h3>" + _table(stats))

    parts.append("<h2>Per-trainee progress across modules</h2>")
    if prog is not None and not prog.empty:
        files.append(plot_progress(prog, out / "progress.png"))
        parts.append("<img src='progress.png' alt='progress across modules'>")
        parts.append(_table(prog.round(0).reset_index()))

    for name, df in (("item_stats.csv", stats), ("confusions.csv", conf)):
        df.to_csv(out / name, index=False)
        files.append(out / name)
    if prog is not None:
        prog.to_csv(out / "progress.csv")
        files.append(out / "progress.csv")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    (out / "report.html").write_text(page, encoding="utf-8")
    files.insert(0, out / "report.html")
    (out / "report.json").write_text(
        json.dumps({"trainees": int(n_trainees), "items": len(stats), "flagged": flagged["item"].tolist()}, indent=1)
    )
    return Report(stats, conf, prog, matrices, files)


def write_report(
    course: str | Path, out: str | Path, assignments: list[str] | None = None, notes: list[str] | None = None
) -> list[Path]:
    """The report for a graded course (what ``framelab report`` runs)."""
    data = load_course(course, assignments)
    data.notes = [*(notes or []), *data.notes]
    return build_report(data, out).files
