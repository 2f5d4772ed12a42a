"""The report's section on the pre/post diagnostic: the cohort's gain overall and per label, each
trainee's gain, what a gain does and does not show, and the CSV files behind it."""

from __future__ import annotations

import csv
import html
import io
import math
from pathlib import Path
from typing import Any

from framelab.core.files import write_text_atomically
from framelab.core.vocabulary import BOUNDARY_KINDS, RELATIONS
from framelab.instructor import gain, itemanalysis
from framelab.instructor.diagnostic import DiagnosticResults
from framelab.scoring import display

TRAINEE_CSV = "diagnostic_gain.csv"
AREA_CSV = "diagnostic_gain_by_label.csv"


def area_name(area: str) -> str:
    """A label, relation or boundary kind as its menu names it."""
    if area in RELATIONS:
        return display.name(area, "relation")
    if area in BOUNDARY_KINDS:
        return "Boundary: " + display.name(area, "boundary").split(",")[0].lower()  # "Confidentiality, and its ..."
    return display.name(area, "single_label")


def _num(x: float | None, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.0%}" if pct else f"{x:.2f}"


def _area_row(c: gain.CohortGain) -> dict[str, Any]:
    e = c.effect
    ci = "" if math.isnan(e.low) else f"{e.low:.2f} to {e.high:.2f}"
    return {
        "area": "Overall" if c.area == "overall" else area_name(c.area),
        "n": c.n,
        "pre": _num(c.mean_pre, True),
        "post": _num(c.mean_post, True),
        "g": _num(c.g_class),
        "g_mean": _num(c.g_mean),
        "d_z": _num(e.d_z),
        "ci": ci,
        "d_av": _num(e.d_av),
    }


AREA_COLUMNS = [
    ("area", "label or area"),
    ("n", "n"),
    ("pre", "pre"),
    ("post", "post"),
    ("g", "<g> (class)"),
    ("g_mean", "mean of g"),
    ("d_z", "d_z"),
    ("ci", "95% CI of d_z"),
    ("d_av", "d_av"),
]
TRAINEE_COLUMNS = [
    ("trainee", "trainee"),
    ("forms", "forms"),
    ("pre", "pre"),
    ("post", "post"),
    ("change", "change"),
    ("g", "g"),
]


def section(page: Any, res: DiagnosticResults | None, table: Any) -> dict[str, Any] | None:
    """Add the section to the report page (``table`` is the page's table maker); the JSON for
    ``report.json``. Nothing when the course has no diagnostic."""
    if res is None or res.overall is None:
        return None
    page.add("<h2>What the cohort learned: the pre/post diagnostic</h2>")
    page.add(f"<p>{html.escape(gain.words(res.overall))}</p>")
    page.add(
        "<p class='note'>Recorded, never graded: Form A at the start of Module 0 and Form B at the end of Module 6 "
        f"(or the other way round where counterbalanced; started on A: {res.first_forms.get('A', 0)}, on B: "
        f"{res.first_forms.get('B', 0)}). <b>&lt;g&gt;</b>: Hake's normalised gain of the class averages, "
        "(post - pre) / (1 - pre); <b>mean of g</b>: the trainees' own g averaged, leaving out anyone who began "
        "at full marks; <b>d_z</b>: Cohen's d for paired scores (mean change over the SD of the changes), its 95% "
        "CI by the normal approximation; <b>d_av</b>: the mean change over the average of the pre and post SDs.</p>"
    )
    page.add("<h3>What a gain does and does not show</h3><ul>")
    page.add(*(f"<li>{html.escape(c)}</li>" for c in gain.CAVEATS), "</ul>")
    rows = [_area_row(res.overall), *(_area_row(c) for c in res.areas)]
    page.add("<h3>Overall and per label</h3>", table(rows, AREA_COLUMNS, {"area", "ci"}))
    people = [_trainee_row(t) for t in res.trainees]
    page.add(
        "<h3>Each trainee</h3>", table(people, TRAINEE_COLUMNS, {"trainee", "forms"}) if people else "<p>None yet.</p>"
    )
    if res.incomplete:
        page.add(
            "<p class='note'>Took one form only (left out of the gain): "
            + html.escape(", ".join(f"{t} ({what})" for t, what in sorted(res.incomplete.items())))
            + "</p>"
        )
    page.add(*(f"<p class='note'>{html.escape(n)}</p>" for n in res.notes))
    page.files += write_csvs(res, page.out)
    items = _items(page, res, table)
    return {
        "item_analysis": items,
        "overall": gain.as_json(res.overall),
        "areas": gain.as_json(res.areas),
        "trainees": gain.as_json(res.trainees),
        "incomplete": res.incomplete,
        "first_forms": res.first_forms,
        "caveats": list(gain.CAVEATS),
    }


def _trainee_row(t: gain.TraineeGain) -> dict[str, Any]:
    return {
        "trainee": t.trainee,
        "forms": f"{t.pre_form} then {t.post_form}",
        "pre": _num(t.pre, True),
        "post": _num(t.post, True),
        "change": f"{t.change:+.0%}",
        "g": "full marks at the start" if t.g is None else f"{t.g:.2f}",
    }


def write_csvs(res: DiagnosticResults, out: Path) -> list[Path]:
    """``diagnostic_gain.csv`` (one row per trainee) and ``diagnostic_gain_by_label.csv`` (the cohort, overall
    and per label), written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["trainee", "pre_form", "post_form", "pre", "post", "change", "g"])
    for t in res.trainees:
        w.writerow([t.trainee, t.pre_form, t.post_form, f"{t.pre:.4f}", f"{t.post:.4f}", f"{t.change:.4f}", _f(t.g)])
    first = write_text_atomically(out / TRAINEE_CSV, buf.getvalue(), newline="")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["area", "n", "mean_pre", "mean_post", "g_class", "g_mean", "perfect_pre", "d_z", "d_z_low", "d_z_high", "d_av"]
    )
    for c in [res.overall, *res.areas]:
        assert c is not None
        e = c.effect
        numbers = [c.mean_pre, c.mean_post, c.g_class, c.g_mean]
        effect = [e.d_z, e.low, e.high, e.d_av]
        w.writerow([c.area, c.n, *map(_f, numbers), c.perfect_pre, *map(_f, effect)])
    return [first, write_text_atomically(out / AREA_CSV, buf.getvalue(), newline="")]


def _f(x: float | None) -> str:
    return "" if x is None or math.isnan(x) else f"{x:.4f}"


def _items(page: Any, res: DiagnosticResults, table: Any) -> dict[str, Any]:
    """The diagnostic's own item analysis, per form (pre and post takers of a form together)."""
    rows, rel = itemanalysis.item_rows(res.marks), itemanalysis.reliability(res.marks)
    page.add(
        "<h3>The diagnostic's items</h3><p class='note'>Per form, over everyone who took it (at either end of the "
        "course): p, the share right; r_rest, the correlation with the rest of the form. "
        + html.escape(
            " ".join(
                x.words.replace(x.method, f"{x.assignment[0].upper()}{x.assignment[1:]}: {x.method}", 1) for x in rel
            )
        )
        + "</p>"
    )
    view = [
        {
            "form": r.assignment.rsplit(" ", 1)[-1],
            "item": r.item,
            "n": r.n,
            "p": r.p,
            "r_rest": r.r_rest,
            "why": r.review,
        }
        for r in rows
    ]
    cols = [
        ("form", "form"),
        ("item", "item"),
        ("n", "n"),
        ("p", "p"),
        ("r_rest", "r_rest"),
        ("why", "what to look at"),
    ]
    page.add(table(view, cols, {"form", "item", "why"}))
    return itemanalysis.as_json(rows, rel)
