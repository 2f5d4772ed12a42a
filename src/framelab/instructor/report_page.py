"""The cohort report as one self-contained page (``report.html``: plots embedded, so the file
alone can be emailed), plus the plots as PNG files and the tables as CSV.

Sections: who is in it (and whose totals are not final yet), score distributions, what to
teach next (the misconceptions per module, ranked by rate), items flagged for review (with
their text and the reason), all items, and progress across modules.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framelab.core.files import write_text_atomically
from framelab.instructor import gain_page, itemanalysis, itemhistory, plots
from framelab.instructor.report import (
    EASY,
    HARD,
    KIND_TITLES,
    LOW_R,
    MIN_CONFUSION,
    MIN_N,
    SINGLE_KINDS,
    CohortData,
    _short,
    confusion,
    confusions,
    final_scores,
    item_stats,
    progress,
)

log = logging.getLogger(__name__)
TOP_PER_MODULE = 5

CSS = """
body{font-family:system-ui,sans-serif;max-width:1160px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:0.82em;margin:0.5em 0 1.5em;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top;white-space:nowrap}
th{background:#f3f3f3} td.text,th.text{text-align:left} td.wrap{white-space:normal;overflow-wrap:break-word}
img{max-width:100%;height:auto;border:1px solid #eee;margin:0.5em 0;display:block}
.flag{color:#a00} .note{color:#555;font-size:0.9em}
.pending{background:#fff4e5;border-left:4px solid #e08a00;padding:0.5em 1em}
ol.teach li{margin-bottom:0.6em} .teach .how{color:#2d5b2d}
"""


@dataclass
class Report:
    stats: Any
    confusions: Any
    progress: Any
    matrices: dict[str, Any]
    files: list[Path]
    figure_problems: dict[str, list[str]]


def _cell(value: Any, text: bool) -> str:
    if value is None or (isinstance(value, float) and value != value):
        shown = ""
    elif isinstance(value, float):
        shown = f"{value:.0f}" if value.is_integer() and not text else f"{value:.2f}"
    else:
        shown = str(value)
    if not text:
        return f"<td>{html.escape(shown)}</td>"
    return f"<td class='text{' wrap' if len(shown) > 24 else ''}'>{html.escape(shown)}</td>"


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], text: set[str] = frozenset()) -> str:
    """An HTML table: ``columns`` as (key, heading); keys in ``text`` are left-aligned words."""
    head = "".join(f"<th class='{'text' if k in text else ''}'>{html.escape(h)}</th>" for k, h in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(k), k in text) for k, _ in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Page:
    """The report being written: its HTML parts, files, and each plot's layout check."""

    def __init__(self, out: Path):
        self.out = out
        self.parts: list[str] = []
        self.files: list[Path] = []
        self.problems: dict[str, list[str]] = {}

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def figure(self, fig: Any, name: str, alt: str) -> None:
        found = plots.figure_problems(fig)
        if found:
            self.problems[name] = found
            log.warning("%s: %s", name, "; ".join(found))
        path = plots.save(fig, self.out / name)
        self.files.append(path)
        self.add(f"<img src='{plots.data_uri(path)}' alt='{html.escape(alt)}'>")


def build_report(
    data: CohortData, out: str | Path, title: str = "Frame Lab cohort report", history: dict[str, Any] | None = None
) -> Report:
    """Write ``report.html``, its PNG plots and CSV tables into ``out`` (with the item history's flags,
    when given one)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    responses, scores = data.responses, data.scores
    stats = item_stats(responses)
    conf = confusions(responses)
    prog = progress(scores) if not scores.empty else None
    page = Page(out)
    _intro(page, data, title, stats)
    _scores(page, scores, data.pass_marks)
    learned = gain_page.section(page, data.diagnostic, table)
    matrices = _misconceptions(page, responses, conf)
    _items(page, stats, data.texts)
    analysis = _analysis(page, data)
    _progress(page, prog)
    flagged = _history(page, history)
    extra = {"item_analysis": analysis, "diagnostic": learned, "item_history_flags": flagged}
    _write(page, out, title, stats, conf, prog, data, extra)
    return Report(stats, conf, prog, matrices, page.files, page.problems)


def _intro(page: Page, data: CohortData, title: str, stats: Any) -> None:
    scores = data.scores
    page.add(f"<h1>{html.escape(title)}</h1>")
    page.add(*(f"<p class='note'>{html.escape(n)}</p>" for n in data.notes))
    n_trainees, absent = cohort_counts(data)
    modules = ", ".join(plots.module_name(a) for a in dict.fromkeys(scores["assignment"]))
    missing = f", {len(absent)} not submitted" if absent else ""
    page.add(
        f"<p>{n_trainees} trainees{missing}, {len(scores)} graded submissions, {len(stats)} items ({modules}).</p>"
    )
    for a, who in data.not_submitted.items():
        if who:
            page.add(
                f"<p class='note'><b>Not submitted</b>, {html.escape(plots.module_name(a))}: "
                f"{html.escape(', '.join(who))}.</p>"
            )
    if "pending" in scores.columns and (scores["pending"].fillna(0) > 0).any():
        waiting = scores[scores["pending"].fillna(0) > 0]
        names = ", ".join(f"{plots.module_name(r.assignment)}: {r.trainee}" for r in waiting.itertuples())
        page.add(
            f"<p class='pending'><b>Hand-grading pending for {len(waiting)} submission(s)</b> "
            f"({waiting['pending'].sum():g} points): {html.escape(names)}. Their totals are not final, so they "
            "are left out of the score distributions and progress; their automatically graded items are "
            "in the item statistics and misconceptions. Grade them in formgrader and run the report again.</p>"
        )
    if "late" in scores.columns and (scores["late"].fillna("") != "").any():
        came = scores[scores["late"].fillna("") != ""]
        names = ", ".join(f"{plots.module_name(r.assignment)}: {r.trainee} ({r.late})" for r in came.itertuples())
        page.add(f"<p class='late'><b>Late work, {len(came)} submission(s)</b>: {html.escape(names)}.</p>")


def cohort_counts(data: CohortData) -> tuple[int, list[str]]:
    """How many trainees (the roster, else whoever answered) and who submitted nothing at all."""
    answered = set(data.responses["trainee"]) if not data.responses.empty else set()
    answered |= set(data.scores["trainee"]) if not data.scores.empty else set()
    everyone = set(data.roster) | answered
    absent = sorted(t for t in everyone if t not in answered) if data.not_submitted else []
    return len(everyone), absent


def _scores(page: Page, scores: Any, marks: dict[str, float] | None = None) -> None:
    page.add("<h2>Score distributions</h2>")
    final = final_scores(scores)
    if final.empty:
        page.add("<p>No final scores yet.</p>")
        return
    page.figure(plots.scores_figure(final), "scores.png", "score distributions, one histogram per module")
    rows = []
    for a, s in final.groupby("assignment", sort=False):
        pct = 100 * s["score"] / s["max_score"]
        rows.append(
            {
                "module": plots.module_name(a),
                "n": len(s),
                "mean": round(pct.mean(), 1),
                "sd": round(pct.std(), 1) if len(s) > 1 else None,
                "min": round(pct.min(), 1),
                "median": round(pct.median(), 1),
                "max": round(pct.max(), 1),
                "pass": (marks or {}).get(a),
                "passed": f"{int((pct >= marks[a]).sum())} of {len(s)}" if a in (marks or {}) else "",
            }
        )
    cols = [("module", "module"), ("n", "trainees"), ("mean", "mean %"), ("sd", "sd"), ("min", "min %")]
    cols += [("median", "median %"), ("max", "max %"), ("pass", "pass mark %"), ("passed", "passed")]
    page.add(table(rows, cols, {"module"}))


def _misconceptions(page: Page, responses: Any, conf: Any) -> dict[str, Any]:
    page.add("<h2>What to teach next: the misconceptions</h2>")
    page.add(
        "<p class='note'>Per module, the wrong answers that recur, ranked by <b>rate</b> (the share of answers "
        f"to such items that chose it), counting only those made at least {MIN_CONFUSION} times; at most "
        f"{TOP_PER_MODULE} per module. Each says what the confusion is, and then what to teach.</p>"
    )
    ranked = conf[conf["ranked"]]
    if ranked.empty:
        page.add(f"<p>No wrong answer recurs {MIN_CONFUSION} times or more yet.</p>")
    for a, rows in sorted(ranked.groupby("assignment", sort=False), key=lambda g: g[1]["module_order"].iloc[0]):
        items = "".join(
            f"<li>{html.escape(r.words)}<br><span class='how'>{html.escape(r.teaching)}</span></li>"
            for r in rows.head(TOP_PER_MODULE).itertuples()
        )
        page.add(f"<h3>{html.escape(plots.module_name(a))}</h3><ol class='teach'>{items}</ol>")
    matrices = {}
    page.add("<h3>Confusion matrices</h3>")
    for kind in SINGLE_KINDS:
        if (responses["kind"] == kind).any():
            matrices[kind] = confusion(responses, kind)
            fig = plots.confusion_figure(matrices[kind], f"{KIND_TITLES[kind]}: the key against the answer", _short)
            page.figure(fig, f"confusion_{kind}.png", f"confusion matrix: {KIND_TITLES[kind]}")
    return matrices


def _items(page: Page, stats: Any, texts: dict[str, str]) -> None:
    page.add("<h2>Items: difficulty and discrimination</h2>")
    if stats.empty:
        page.add("<p>No items graded yet.</p>")
        return
    fig, numbers = plots.items_figure(stats, LOW_R)
    page.figure(fig, "items.png", "difficulty against discrimination")
    easy = stats[(stats["p"] >= EASY) | (stats["p"] <= HARD)]
    below = easy[easy["r_rest"].fillna(0) < LOW_R]
    page.add(
        f"<p class='note'>An item is flagged (with at least {MIN_N} answers) when its discrimination r_rest is "
        f"negative or below {LOW_R}, or when half or more of the strongest third agree on one wrong answer. "
        f"<b>Easy items (p &ge; {EASY}) and very hard ones (p &le; {HARD}) are exempt from the discrimination "
        f"flags</b>: when nearly everyone answers alike, r says little. Here {len(easy)} items are exempt, "
        f"{len(below)} of them below the line.</p>"
    )
    flagged = stats[stats["flag"] != ""]
    page.add("<h3 class='flag'>Flagged for review (possibly miskeyed or ambiguous)</h3>")
    if flagged.empty:
        page.add("<p>No item is flagged.</p>")
    else:
        rows = [
            {
                "no": numbers.get(r.item),
                "module": plots.module_name(r.assignment),
                "item": r.item,
                "text": _clip(texts.get(r.item, ""), 220),
                "key": _short_answer(r.gold),
                "p": r.p,
                "r_rest": r.r_rest,
                "why": r.flag,
            }
            for r in flagged.sort_values(["assignment", "item"]).itertuples()
        ]
        cols = [("no", "#"), ("module", "module"), ("item", "item"), ("text", "response"), ("key", "key")]
        page.add(table(rows, [*cols, ("p", "p"), ("r_rest", "r_rest"), ("why", "why flagged")], _TEXT))
    rows = [
        {
            "module": plots.module_name(r.assignment),
            "exercise": KIND_TITLES.get(r.kind, r.kind),
            "item": r.item,
            "key": _short_answer(r.gold),
            "n": r.n,
            "p": r.p,
            "r_rest": r.r_rest,
            "flag": "flagged" if r.flag else ("exempt (easy)" if r.p >= EASY else ""),
        }
        for r in stats.itertuples()
    ]
    cols = [("module", "module"), ("exercise", "exercise"), ("item", "item"), ("key", "key"), ("n", "n")]
    page.add("<h3>All items</h3>" + table(rows, [*cols, ("p", "p"), ("r_rest", "r_rest"), ("flag", "")], _TEXT))


_TEXT = {"module", "item", "text", "key", "why", "exercise", "flag"}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _short_answer(value: str) -> str:
    return " + ".join(_short(v) for v in str(value).split("+")) if value else ""


def _progress(page: Page, prog: Any) -> None:
    page.add("<h2>Per-trainee progress across modules</h2>")
    if prog is None or prog.empty:
        page.add("<p>No final scores yet.</p>")
        return
    page.figure(plots.progress_figure(prog), "progress.png", "progress across modules")
    names = {a: plots.module_name(a).split(" ")[0] for a in prog.columns}
    rows = [{"trainee": t, **{names[a]: v for a, v in r.items()}} for t, r in prog.round(0).iterrows()]
    page.add(
        "<p class='note'>Percentages; blank where nothing was submitted or hand-grading is pending.</p>"
        + table(rows, [("trainee", "trainee"), *((n, n) for n in names.values())], {"trainee"})
    )


#: the page runs nothing and loads nothing from elsewhere (its plots are inline pictures)
CSP = (
    "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'\">"
)


def _analysis(page: Page, data: CohortData) -> dict[str, Any]:
    """Item analysis of every graded cell, hand-marked criteria included: difficulty, corrected
    discrimination, each assignment's reliability, and what to review."""
    rows, rel = itemanalysis.item_rows(data.marks), itemanalysis.reliability(data.marks)
    page.add("<h2>Item analysis: every graded item and criterion</h2>")
    page.add(
        "<p class='note'>Over every graded cell, written criteria marked in formgrader included (cells still "
        "waiting for a mark are left out). <b>p</b>: the share of the points earned; <b>r_rest</b>: the "
        "correlation of the item with the rest of the assignment (total minus the item); reliability: KR-20 "
        "when every item is 0 or 1, else Cronbach's alpha.</p>"
    )
    if not rows:
        page.add("<p>No marked cells yet.</p>")
        return itemanalysis.as_json(rows, rel)
    page.add(
        "<ul>"
        + "".join(f"<li>{html.escape(plots.module_name(x.assignment))}: {html.escape(x.words)}</li>" for x in rel)
        + "</ul>"
    )
    review = [r for r in rows if r.review]
    page.add("<h3 class='flag'>To review</h3>")
    view = [
        {
            "module": plots.module_name(r.assignment),
            "item": r.item,
            "marked": "by hand" if r.manual else "auto",
            "n": r.n,
            "p": r.p,
            "r_rest": r.r_rest,
            "why": r.review,
        }
        for r in review
    ]
    cols = [("module", "module"), ("item", "item"), ("marked", "marked"), ("n", "n"), ("p", "p"), ("r_rest", "r_rest")]
    page.add(
        table(view, [*cols, ("why", "what to look at")], {"module", "item", "marked", "why"})
        if review
        else "<p>Nothing to review.</p>"
    )
    _criteria(page, rows)
    page.files.append(itemanalysis.write_csv(rows, rel, page.out / "item_analysis.csv"))
    return itemanalysis.as_json(rows, rel)


def _criteria(page: Page, rows: list[Any]) -> None:
    """The written work, criterion by criterion, the least earned first."""
    missed = itemanalysis.missed_criteria(rows)
    if not missed:
        return
    page.add(
        "<h3>Written work: which criteria the cohort misses</h3><p class='note'>Each criterion marked in "
        "formgrader, the least earned first (p: the share of its points the cohort earned).</p>"
    )
    view = [
        {
            "module": plots.module_name(r.assignment),
            "criterion": itemanalysis.criterion_name(r.item),
            "n": r.n,
            "p": r.p,
        }
        for r in missed
    ]
    page.add(
        table(view, [("module", "module"), ("criterion", "criterion"), ("n", "n"), ("p", "p")], {"module", "criterion"})
    )


def _write(
    page: Page, out: Path, title: str, stats: Any, conf: Any, prog: Any, data: CohortData, extra: dict[str, Any]
) -> None:
    for name, df in (("item_stats.csv", stats), ("confusions.csv", conf)):
        df.to_csv(out / name, index=False)
        page.files.append(out / name)
    if prog is not None:
        prog.to_csv(out / "progress.csv")
        page.files.append(out / "progress.csv")
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'>{CSP}<title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{CSS}</style></head><body>{''.join(page.parts)}</body></html>\n"
    )
    tmp = out / ".report.html.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out / "report.html")
    page.files.insert(0, out / "report.html")
    n_trainees, absent = cohort_counts(data)
    summary = {
        "trainees": n_trainees,
        "not_submitted": {a: who for a, who in data.not_submitted.items() if who},
        "submitted_nothing": absent,
        "items": len(stats),
        "flagged": stats[stats["flag"] != ""]["item"].tolist(),
        "pass_marks": data.pass_marks,
        **extra,
    }
    write_text_atomically(out / "report.json", json.dumps(summary, indent=1))


def write_report(
    course: str | Path,
    out: str | Path,
    assignments: list[str] | None = None,
    notes: list[str] | None = None,
    history: Path | None = None,
) -> list[Path]:
    """The report for a graded course (what ``framelab report`` runs). Each item's figures go into the
    course's item history (``history``, by default ``item-history.json`` in the course), this cohort's
    entry replacing any earlier one, and the report lists the items it flags."""
    from framelab.instructor.report import load_course

    data = load_course(course, assignments)
    data.notes = [*(notes or []), *data.notes]
    path = history or Path(course) / itemhistory.HISTORY_FILE
    marks = [*data.marks, *(data.diagnostic.marks if data.diagnostic else [])]
    trainees = data.roster or sorted({m.trainee for m in marks})
    try:
        kept = itemhistory.record(path, itemhistory.cohort_name(trainees), itemanalysis.item_rows(marks))
    except itemhistory.HistoryError as exc:
        data.notes.append(f"Item history not updated: {exc}")
        kept = None
    files = build_report(data, out, history=kept).files
    return files if kept is None else [*files, path]


def _history(page: Page, history: dict[str, Any] | None) -> list[str]:
    """The items that misbehaved in several cohorts, from the course's item history."""
    if history is None:
        return []
    found = itemhistory.flags(history)
    page.add(
        "<h2>Items across cohorts</h2><p class='note'>Each report adds this cohort's item figures to the course's "
        f"item history ({len(history['cohorts'])} cohort(s) so far; reporting on a cohort again replaces its entry). "
        f"An item is flagged when its discrimination is negative in {itemhistory.NEGATIVE_COHORTS} or more cohorts, "
        f"or everyone is right, or everyone wrong, in {itemhistory.EXTREME_COHORTS} or more. "
        "<code>framelab validate --history</code> lists the same flags.</p>"
    )
    rows = [{"module": f.assignment, "item": f.item, "why": f.why} for f in found]
    cols = [("module", "module"), ("item", "item"), ("why", "what to look at")]
    page.add(table(rows, cols, {"module", "item", "why"}) if rows else "<p>No item is flagged across cohorts yet.</p>")
    return [str(f) for f in found]
