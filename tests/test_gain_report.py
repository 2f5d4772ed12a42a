"""The cohort report's pre/post section, and the demo that shows it: a simulated cohort that learns,
takes both diagnostic forms through nbgrader's exchange, and whose report holds the gain, the
diagnostic's item statistics and the course's item history."""

from __future__ import annotations

import csv
import json
from html import escape as html_escape

import pytest
from conftest import BIN, ROOT, run

from framelab.bank.loader import load_bank
from framelab.instructor import gain, gain_page
from framelab.instructor.demo import simulated_data
from framelab.instructor.report_page import Page, table


@pytest.fixture(scope="module")
def simulated():
    return simulated_data(load_bank(ROOT / "modules"), trainees=24, seed=11)


def test_the_simulated_cohort_learns(simulated):
    res = simulated.diagnostic
    assert res.overall.n + len(res.incomplete) == 24
    assert res.overall.mean_post > res.overall.mean_pre  # the model's mastery rises with practice
    assert res.overall.effect.low > 0  # and clearly so, for 20-odd trainees
    assert set(res.first_forms) == {"A", "B"}  # counterbalanced
    assert all(v == "pre only" for v in res.incomplete.values())  # drop-outs never reach Module 6
    # the same seed gives the same cohort
    again = simulated_data(load_bank(ROOT / "modules"), trainees=24, seed=11).diagnostic
    assert again.trainees == res.trainees


def test_the_section_shows_the_gain_what_it_means_and_writes_csvs(tmp_path, simulated):
    page = Page(tmp_path)
    res = simulated.diagnostic
    out = gain_page.section(page, res, table)
    html = "".join(page.parts)
    assert gain.words(res.overall).replace("<g>", "&lt;g&gt;") in html
    for caveat in gain.CAVEATS:
        assert html_escape(caveat) in html
    assert "Cohen's d for paired scores" in html and "normal approximation" in html
    assert "Mixed message" in html and "Countertransference" in html and "Boundary: role" in html
    assert ">Boundary: confidentiality</td>" in html and ">Diagnostic form B: KR-20" not in html
    assert "Diagnostic form B: KR-20" in html
    assert out["overall"]["g_class"] == pytest.approx(res.overall.g_class)
    assert len(out["areas"]) == 18  # eight labels, three relations, seven boundary kinds
    rows = list(csv.DictReader((tmp_path / gain_page.TRAINEE_CSV).open()))
    assert [r["trainee"] for r in rows] == [t.trainee for t in res.trainees]
    assert float(rows[0]["post"]) == pytest.approx(res.trainees[0].post, abs=1e-4)
    by_label = list(csv.DictReader((tmp_path / gain_page.AREA_CSV).open()))
    assert by_label[0]["area"] == "overall" and float(by_label[0]["d_z"]) == pytest.approx(res.overall.effect.d_z, 1e-3)
    assert json.dumps(out)  # report.json can hold it
    items = out["item_analysis"]["items"]
    assert {r["assignment"] for r in items} == {"diagnostic form A", "diagnostic form B"} and len(items) == 36


def test_no_diagnostic_no_section(tmp_path):
    page = Page(tmp_path)
    assert gain_page.section(page, None, table) is None and page.parts == []


@pytest.mark.slow  # a whole demo through nbgrader: two modules, eight trainees (about a minute and a half)
def test_demo_report_holds_the_gain_and_the_item_statistics(tmp_path):
    from framelab.instructor import itemhistory
    from framelab.instructor.report_page import write_report

    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--trainees", "8", "--jobs", "2", "--root", str(ROOT), "--keep-course"]
    run(
        [
            str(BIN / "framelab"),
            *args,
            "--assignment",
            "m0_orientation",
            "--assignment",
            "m6_capstone",
            "--no-progress",
        ],
        cwd=tmp_path,
        timeout=900,
    )
    summary = json.loads((out / "report.json").read_text())
    page = (out / "report.html").read_text()
    assert "What the cohort learned: the pre/post diagnostic" in page and "Items across cohorts" in page
    # what went through nbgrader's exchange is exactly what the simulation chose
    direct = simulated_data(
        load_bank(ROOT / "modules"), trainees=8, seed=2024, assignments=["m0_orientation", "m6_capstone"]
    ).diagnostic
    assert summary["diagnostic"]["trainees"] == gain.as_json(direct.trainees)
    assert summary["diagnostic"]["overall"]["g_class"] == pytest.approx(direct.overall.g_class)
    assert summary["diagnostic"]["item_analysis"]["reliability"]  # KR-20 per form
    assert (out / gain_page.TRAINEE_CSV).exists() and (out / gain_page.AREA_CSV).exists()
    # the item history: every graded and diagnostic item of this cohort, with its size; a re-run replaces it
    history = itemhistory.read(out / "item-history.json")
    (entry,) = history["cohorts"].values()
    assert {"diagnostic form A", "m0_orientation", "m6_capstone"} <= {r["assignment"] for r in entry["items"]}
    assert all(r["n"] >= 1 for r in entry["items"])
    write_report(out / "course", tmp_path / "again", history=out / "item-history.json")
    assert len(itemhistory.read(out / "item-history.json")["cohorts"]) == 1
