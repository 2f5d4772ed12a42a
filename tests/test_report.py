"""The cohort report's statistics (against a hand-computed cohort), the LMS exports' columns,
the report notebook, and ``framelab demo`` end to end."""

from __future__ import annotations

import csv
import html
import math
import re
import shutil
import sys

import pandas as pd
import pytest
from conftest import BIN, ROOT, run

from framelab.instructor import report
from framelab.instructor.report import RESPONSE_COLUMNS, canonical, confusion, confusions, item_stats, progress
from framelab.instructor.report_page import build_report

# --------------------------------------------------------------------------- a hand-computed cohort
#
# Five trainees, three single-label items (1 = right):
#
#            i1 (vague_rule)   i2 (gentle_dodge)   i3 (validate)   total
#   t1       1                 1                   1               3
#   t2       1                 1                   0 recenter      2
#   t3       0 gentle_dodge    1                   1               2
#   t4       0 state_boundary  0 state_boundary    1               1
#   t5       0 state_boundary  0 (blank)           0 mixed_message 0
#
# Totals 3, 2, 2, 1, 0: mean 1.6, population variance (1.96+.16+.16+.36+2.56)/5 = 1.04.
# Point-biserial r = (M1 - M0) / s * sqrt(p q), with M1 and M0 the mean totals of those who got
# the item right and wrong:
#   i1: p .4, M1 (3+2)/2 = 2.5, M0 (2+1+0)/3 = 1      -> 1.5 / sqrt(1.04) * sqrt(.24)
#   i2: p .6, M1 (3+2+2)/3 = 7/3, M0 (1+0)/2 = .5      -> (7/3 - .5) / sqrt(1.04) * sqrt(.24)
#   i3: p .6, M1 (3+2+1)/3 = 2, M0 (2+0)/2 = 1         -> 1 / sqrt(1.04) * sqrt(.24)
# Corrected (rest = total minus the item), i1: rest 2, 1, 2, 1, 0: mean 1.2, variance
# (.64+.04+.64+.04+1.44)/5 = .56; M1 (2+1)/2 = 1.5, M0 (2+1+0)/3 = 1 -> .5 / sqrt(.56) * sqrt(.24).

GOLD = {"i1": "vague_rule", "i2": "gentle_dodge", "i3": "validate"}
ANSWERS = {
    "t1": {"i1": "vague_rule", "i2": "gentle_dodge", "i3": "validate"},
    "t2": {"i1": "vague_rule", "i2": "gentle_dodge", "i3": "recenter"},
    "t3": {"i1": "gentle_dodge", "i2": "gentle_dodge", "i3": "validate"},
    "t4": {"i1": "state_boundary", "i2": "state_boundary", "i3": "validate"},
    "t5": {"i1": "state_boundary", "i2": "", "i3": "mixed_message"},
}


def frame(answers: dict[str, dict[str, str]], gold: dict[str, str], assignment: str = "m1_double_bind"):
    rows = [
        [t, assignment, "backfires", "single_label", i, gold[i], gold[i], a, int(a == gold[i])]
        for t, picks in answers.items()
        for i, a in picks.items()
    ]
    return pd.DataFrame(rows, columns=RESPONSE_COLUMNS)


def test_item_statistics_match_hand_computation():
    stats = item_stats(frame(ANSWERS, GOLD)).set_index("item")
    s, pq4, pq6 = math.sqrt(1.04), math.sqrt(0.4 * 0.6), math.sqrt(0.6 * 0.4)
    assert stats.loc["i1", "p"] == pytest.approx(0.4)
    assert stats.loc["i2", "p"] == pytest.approx(0.6)
    assert stats.loc["i3", "p"] == pytest.approx(0.6)
    assert stats.loc["i1", "r_pb"] == pytest.approx((2.5 - 1.0) / s * pq4)
    assert stats.loc["i2", "r_pb"] == pytest.approx((7 / 3 - 0.5) / s * pq6)
    assert stats.loc["i3", "r_pb"] == pytest.approx((2.0 - 1.0) / s * pq6)
    assert stats.loc["i1", "r_rest"] == pytest.approx((1.5 - 1.0) / math.sqrt(0.56) * pq4)
    assert (stats["n"] == 5).all()
    assert (stats["flag"] == "").all()  # five answers are too few to flag anything


def test_confusions_and_misconception_words():
    responses = frame(ANSWERS, GOLD)
    table = confusion(responses)
    assert table.loc["vague_rule", "state_boundary"] == 2
    assert table.loc["vague_rule", "gentle_dodge"] == 1
    assert table.loc["gentle_dodge", "(blank)"] == 1
    assert table.loc["validate", "validate"] == 3
    assert int(table.values.sum()) == 15

    top = confusions(responses, min_count=2).iloc[0]
    assert (top["gold"], top["answer"], top["count"], top["of"]) == ("vague_rule", "state_boundary", 2, 5)
    assert top["share"] == pytest.approx(0.4)
    assert "2 of 5 answers to Vague rule items" in top["words"]
    assert "hiding behind a rule or policy is being taken for a clear, owned boundary" in top["words"]
    # the blank is not a confusion
    assert not ((confusions(responses)["answer"] == "") | (confusions(responses)["answer"] == "(blank)")).any()


def test_moves_confusions_name_what_the_response_really_is():
    rows = [
        ["t1", "m3", "moves", "moves", "r1", "validate+gentle_dodge", "validate", "validate+state_boundary", 0],
        ["t2", "m3", "moves", "moves", "r1", "validate+gentle_dodge", "validate", "validate", 1],
        ["t3", "m3", "moves", "moves", "r2", "validate+state_boundary", "validate+state_boundary", "validate", 0],
    ]
    conf = confusions(pd.DataFrame(rows, columns=RESPONSE_COLUMNS)).set_index(["gold", "answer"])
    assert conf.loc[("gentle_dodge", "ticked state_boundary"), "count"] == 1
    assert conf.loc[("gentle_dodge", "ticked state_boundary"), "of"] == 2
    assert (
        "a 'not now' deferral is being taken for a boundary"
        in conf.loc[("gentle_dodge", "ticked state_boundary"), "words"]
    )
    assert conf.loc[("makes state_boundary", "missed it"), "count"] == 1


def test_a_miskeyed_item_is_flagged():
    # ten trainees ranked by ability; item "bad" is keyed collapse_frame, but the five
    # strongest all answer mixed_message (as if that were the real answer)
    gold = {f"g{k}": "validate" for k in range(6)} | {"bad": "collapse_frame"}
    answers = {}
    for n in range(10):
        picks = {f"g{k}": "validate" if k < 6 - n // 2 else "recenter" for k in range(6)}
        picks["bad"] = "mixed_message" if n < 5 else "collapse_frame"
        answers[f"t{n}"] = picks
    stats = item_stats(frame(answers, gold)).set_index("item")
    assert stats.loc["bad", "p"] == pytest.approx(0.5)
    assert stats.loc["bad", "r_rest"] < 0
    assert "negative discrimination" in stats.loc["bad", "flag"]
    assert "strongest third mostly answered 'mixed_message'" in stats.loc["bad", "flag"]
    assert not stats.drop("bad")["flag"].str.contains("negative").any()


def test_progress_and_canonical():
    scores = pd.DataFrame(
        [["a", "m1", 8, 16], ["a", "m2", 12, 16], ["b", "m1", 4, 16]],
        columns=["trainee", "assignment", "score", "max_score"],
    )
    table = progress(scores)
    assert list(table.columns) == ["m1", "m2"]
    assert table.loc["a", "m2"] == pytest.approx(75)
    assert math.isnan(table.loc["b", "m2"])
    assert canonical(["recenter", "validate"]) == "validate+recenter"
    assert canonical([]) == canonical(None) == ""


@pytest.fixture(scope="module")
def simulated(bank):
    from framelab.instructor.demo import simulated_data

    return simulated_data(bank, trainees=30, seed=7)


@pytest.mark.slow  # draws every plot of the report (matplotlib): 5-6 s
def test_build_report_writes_one_self_contained_page(tmp_path, simulated):
    assert simulated.responses["trainee"].nunique() == 30
    rep = build_report(simulated, tmp_path)
    page = (tmp_path / "report.html").read_text()
    for name in ("scores.png", "items.png", "progress.png", "confusion_single_label.png"):
        assert (tmp_path / name).stat().st_size > 1000
    # every image is embedded: the file alone, emailed, shows every plot
    sources = re.findall(r"<img src='([^']*)'", page)
    assert len(sources) == 3 + len(rep.matrices) and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "What to teach next" in page and "Flagged for review" in page
    assert "Easy items (p &ge; 0.9)" in page and "are exempt from the discrimination flags" in page
    assert set(rep.stats["assignment"]) == {p.name for p in (ROOT / "source").iterdir() if p.name.startswith("m")}
    # the simulation's misconceptions (a dodge or a rule taken for a boundary) rank among the top
    # confusions (by rate, seen at least MIN_CONFUSION times) of the module they affect
    conf = rep.confusions[rep.confusions["ranked"]]
    m1 = conf[(conf["assignment"] == "m1_double_bind") & (conf["kind"] == "single_label")].head(5)
    assert {("gentle_dodge", "state_boundary"), ("vague_rule", "state_boundary")} & set(
        zip(m1["gold"], m1["answer"], strict=True)
    )
    assert rep.figure_problems == {}


def test_flagged_items_show_their_text_and_why(tmp_path, simulated):
    rep = build_report(simulated, tmp_path)
    page = html.unescape((tmp_path / "report.html").read_text())
    flagged = rep.stats[rep.stats["flag"] != ""]
    assert not flagged.empty  # the simulation plants an arguable key
    for r in flagged.itertuples():
        assert " ".join(simulated.texts[r.item].split())[:60] in page
        assert r.flag in page


def test_misconceptions_are_ranked_by_rate_with_a_minimum_count():
    # i1 (vague_rule): 2 of 5 chose state_boundary (40%); i4, answered by one trainee, wrongly: 1 of 1 (100%)
    answers = {t: dict(picks) for t, picks in ANSWERS.items()}
    answers["t1"]["i4"] = "recenter"
    conf = confusions(frame(answers, {**GOLD, "i4": "ignore_redirect"}), min_count=2)
    top = conf.iloc[0]
    assert (top["gold"], top["answer"], top["count"]) == ("vague_rule", "state_boundary", 2)
    assert bool(top["ranked"]) and not conf[conf["count"] < 2]["ranked"].any()
    rare = conf.set_index(["gold", "answer"]).loc[("ignore_redirect", "recenter")]
    assert rare["share"] == 1.0 and not rare["ranked"]  # the highest rate, but seen once: not ranked
    ranked = conf[conf["ranked"]]
    assert list(ranked["share"]) == sorted(ranked["share"], reverse=True)
    assert all(t.strip() for t in conf["teaching"])  # every confusion says what it means for teaching


def test_every_plot_keeps_its_text_inside_and_apart(simulated):
    from framelab.instructor import plots
    from framelab.instructor.report import _short

    stats = item_stats(simulated.responses)
    figures = {
        "scores": plots.scores_figure(simulated.scores),
        "items": plots.items_figure(stats, report.LOW_R)[0],
        "progress": plots.progress_figure(progress(simulated.scores)),
    }
    for kind in ("single_label", "boundary", "next_action"):
        figures[kind] = plots.confusion_figure(
            confusion(simulated.responses, kind), f"{kind}: a long title " * 3, _short
        )
    for name, fig in figures.items():
        width, height = fig.get_size_inches() * plots.DPI
        assert width <= 1100 and height <= 1100, (name, width, height)
        assert plots.figure_problems(fig) == [], name


def test_the_layout_check_finds_overlap_and_overflow():
    from framelab.instructor import plots

    plt = plots._plt()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("a title far too long to fit in a figure only three inches wide, cut at both ends")
    ax.text(0.5, 0.5, "here")
    ax.text(0.5, 0.5, "here too")
    found = plots.figure_problems(fig)
    assert any("runs outside the figure" in p for p in found)
    assert any("'here too' overlaps 'here'" in p for p in found)


@pytest.mark.slow  # draws every plot of the report (matplotlib): 5-6 s
def test_pending_totals_are_marked_and_left_out_of_the_distributions(tmp_path, simulated):
    scores = simulated.scores.copy()
    scores["pending"] = 0.0
    waiting = scores.index[(scores["assignment"] == "m1_double_bind")][:2]
    scores.loc[waiting, "pending"] = 4.0
    data = report.CohortData(simulated.responses, scores, [], simulated.texts)
    rep = build_report(data, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "Hand-grading pending for 2 submission(s)" in page
    for t in scores.loc[waiting, "trainee"]:
        assert t in page and math.isnan(rep.progress.loc[t, "m1_double_bind"])


# --------------------------------------------------------------------------- slow: notebook and demo


@pytest.mark.slow
def test_report_notebook_runs_under_nbval(tmp_path):
    shutil.copytree(ROOT / "instructor", tmp_path / "instructor")
    proc = run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "instructor/report.ipynb"],
        cwd=tmp_path,
        env={"FRAMELAB_COURSE": str(tmp_path / "no-course-here"), "FRAMELAB_MODULES": str(ROOT / "modules")},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_demo_produces_grades_report_and_plots(tmp_path):
    from framelab.bank.loader import load_bank
    from framelab.instructor.demo import simulated_data

    out = tmp_path / "demo"
    proc = run(
        [
            str(BIN / "framelab"),
            "demo",
            "--out",
            str(out),
            "--trainees",
            "10",
            "--assignment",
            "m1_double_bind",
            "--jobs",
            "2",
            "--root",
            str(ROOT),
            "--keep-course",
            "--no-progress",
        ],
        cwd=tmp_path,
        timeout=900,
    )
    assert "10 graded, 0 failed" in proc.stdout
    grades = list(csv.DictReader((out / "grades.csv").open()))
    assert len(grades) == 10 and {r["assignment"] for r in grades} == {"m1_double_bind"}
    page = (out / "report.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert {"scores.png", "items.png", "progress.png", "confusion_single_label.png"} <= set(pngs)
    assert page.count("<img src='data:image/png;base64,") == len(pngs)  # every plot embedded in the page
    assert (out / "grades_canvas.csv").exists() and (out / "grades_moodle.csv").exists()
    assert len(list((out / "course" / "feedback").glob("*/m1_double_bind/m1_double_bind.html"))) == 10

    # what nbgrader graded is exactly what the simulation chose: same right/wrong, item by item
    graded = report.load_course(out / "course", ["m1_double_bind"])
    direct = simulated_data(load_bank(ROOT / "modules"), trainees=10, seed=2024, assignments=["m1_double_bind"])
    key = ["trainee", "item"]
    merged = graded.responses.merge(direct.responses, on=key, suffixes=("_nbgrader", "_sim"))
    assert len(merged) == len(direct.responses) == 10 * 16
    assert (merged["correct_nbgrader"] == merged["correct_sim"]).all()
    assert (merged["answer_nbgrader"] == merged["answer_sim"]).all()


@pytest.mark.browser
@pytest.mark.slow
def test_report_page_fits_a_1280_pixel_window(tmp_path, simulated):
    """Rendered in Chromium at 1,280 px, nothing on the page is wider than the window."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), f"{chromium} is missing: install Debian's chromium (apt-get install chromium)"
    build_report(simulated, tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((tmp_path / "report.html").as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        widest = page.evaluate("Math.max(...[...document.querySelectorAll('table, img')].map(e => e.scrollWidth))")
        browser.close()
    assert width <= 1280 and widest <= 1280, (width, widest)


# --------------------------------------------------------------------------- roster, item analysis, pass marks


def test_an_item_every_trainee_missed_is_flagged_at_any_cohort_size():
    gold = {**GOLD, "i4": "recenter"}
    answers = {t: {**picks, "i4": "validate"} for t, picks in ANSWERS.items()}  # five trainees, all wrong
    stats = item_stats(frame(answers, gold)).set_index("item")
    assert stats.loc["i4", "flag"] == "every trainee (5) got it wrong: check the key, then the teaching"
    assert (stats.drop(index="i4")["flag"] == "").all()


@pytest.mark.slow  # draws every plot of the report (matplotlib): 5-6 s
def test_report_counts_the_roster_analyses_every_cell_and_shows_pass_marks(tmp_path, simulated):
    import json

    from framelab.instructor.itemanalysis import Mark

    r = simulated.responses
    marks = [
        Mark(t, a, f"{ex}__{i}", float(c), 1.0)
        for t, a, ex, i, c in r[["trainee", "assignment", "exercise", "item", "correct"]].itertuples(index=False)
    ]
    m1 = "m1_double_bind"
    trainees = sorted(set(r["trainee"]))
    marks += [Mark(t, m1, "m1_reflection", 0.0, 2.0, manual=True) for t in trainees]  # a criterion all missed
    data = report.CohortData(
        r,
        simulated.scores,
        [],
        simulated.texts,
        roster=[*trainees, "zoe"],
        not_submitted={a: ["zoe"] for a in dict.fromkeys(simulated.scores["assignment"])},
        marks=marks,
        pass_marks={m1: 60.0},
    )
    build_report(data, tmp_path)
    page = html.unescape((tmp_path / "report.html").read_text())
    assert "31 trainees, 1 not submitted," in page and "Not submitted</b>, M1 double bind: zoe." in page
    assert "Item analysis: every graded item and criterion" in page and "KR-20" in page
    assert "Cronbach's alpha" in page  # M1 has a 2-point criterion: not every item is 0/1
    assert "Every trainee (30) scored 0 here" in page
    criteria = page[page.index("Written work: which criteria the cohort misses") :]
    assert "<td class='text'>reflection</td>" in criteria  # the hand-marked criterion, named
    m1_scores = simulated.scores[simulated.scores["assignment"] == m1]
    passed = int((100 * m1_scores["score"] / m1_scores["max_score"] >= 60).sum())
    assert f"{passed} of {len(m1_scores)}" in page
    summary = json.loads((tmp_path / "report.json").read_text())
    assert summary["trainees"] == 31 and summary["submitted_nothing"] == ["zoe"]
    assert summary["pass_marks"] == {m1: 60.0}
    assert any(x["item"] == "m1_reflection" for x in summary["item_analysis"]["to_review"])
    rows = list(csv.DictReader((tmp_path / "item_analysis.csv").open()))
    assert len([x for x in rows if x["item"]]) == len({(m.assignment, m.item) for m in marks})


@pytest.mark.slow  # draws every plot of the report (matplotlib): 5-6 s
def test_the_report_runs_nothing_a_trainee_named_or_wrote(tmp_path, simulated):
    """Trainee ids and notes reach the page as text, and the page itself allows no script at all."""
    scores = simulated.scores.copy()
    scores["pending"] = 0.0
    first = scores.index[scores["assignment"] == "m1_double_bind"][0]
    scores.loc[first, "pending"] = 4.0
    scores.loc[first, "trainee"] = "x<img src=x onerror='window.__pwned=1'>"
    data = report.CohortData(simulated.responses, scores, ["<script>window.__pwned=1</script>"], simulated.texts)
    build_report(data, tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "<img src=x" not in page and "<script>" not in page and "&lt;img src=x onerror=" in page
    head = page.split("<head>", 1)[1]
    assert head.split("<title>")[0].count("Content-Security-Policy") == 1 and "default-src 'none'" in head
