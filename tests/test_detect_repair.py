"""The repair detector: its own data (kept apart from the boundary detector's), its own cached model, the
role-play's rupture scenarios read by it (the repair cues only as the fallback), the guard over the graded
repair items in a course deployment, and the bank's repair rubric (a marker, menus, a check)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import BIN, answered_with_key, data_lines

from framelab.bank.loader import validate_bank
from framelab.core.vocabulary import LABELS
from framelab.detector import readers
from framelab.detector import repair as repairdetect
from framelab.detector.boundary import Detector, Refused, load_detector
from framelab.detector.cues import normalise
from framelab.detector.data import DATA_FILE, DetectError, load_data
from framelab.detector.lite import LinearModel
from framelab.detector.model import _stop_words
from framelab.detector.readers import Detectors, LazyDetector
from framelab.roleplay import engine as roleplay
from framelab.roleplay import reading
from framelab.roleplay.reactions import category

GOOD = "Thank you for telling me. I got that wrong, and I'm sorry. What was it like for you when I said it?"


@pytest.fixture(scope="module")
def repair() -> repairdetect.RepairDetector:
    return repairdetect.load_repair_detector(deployment=False)  # from the cache (trained once per run)


@pytest.fixture(scope="module")
def deployed() -> repairdetect.RepairDetector:
    return repairdetect.load_repair_detector(deployment=True)


def graded_repair_items(bank) -> list:
    items = bank.items()
    return [
        items[iid]
        for m in bank.modules.values()
        for ex in m.meta.exercises
        if ex.rubric == "repair"
        for iid in ex.items
    ]


# --------------------------------------------------------------------------- the data, kept apart


def test_the_bank_holds_at_least_150_repair_replies_in_both_splits(bank):
    repair = [r for r in bank.responses if r.rubric == "repair"]
    assert len(repair) >= 150
    for split in ("practice", "assessment"):
        labels = {lab for r in repair if r.split == split for lab in r.labels}
        assert labels == set(LABELS), f"the {split} split lacks {set(LABELS) - labels}"
    assert all(r.id.startswith("m5-") for r in repair)


def test_each_detector_learns_only_from_its_own_practice_items(bank):
    data = load_data()
    boundary = {r.id for r in bank.responses if r.split == "practice" and r.rubric == "three_moves"}
    ruptures = {r.id for r in bank.responses if r.split == "practice" and r.rubric == "repair"}
    assert {e.id for e in data.practice} == boundary and {e.id for e in data.repair} == ruptures
    assert not boundary & ruptures
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assessment = {r.id for r in bank.responses if r.split == "assessment"}
    assert assessment <= {g["id"] for g in raw["guard"]}  # and the diagnostic's items (tests/test_detect.py)
    assert all(set(g) == {"id", "text", "client"} for g in raw["guard"])  # no label of an assessment item


def test_the_repair_model_is_deterministic_cached_and_runs_without_scikit_learn(tmp_path):
    data = load_data()
    pipe = repairdetect.fit(data.repair)
    texts = [e.text for e in data.repair[:40]] + [GOOD, "Anyway, how was the week?"]
    assert np.array_equal(pipe.predict_proba(texts), repairdetect.fit(data.repair).predict_proba(texts))
    lite = LinearModel.from_bytes(LinearModel.from_pipeline(pipe, _stop_words()).to_bytes())
    got = lite.predict_proba(texts, normalise, repairdetect.cue_features)
    assert np.abs(got - pipe.predict_proba(texts)).max() < 1e-9

    env = {"FRAMELAB_CACHE": str(tmp_path), "PATH": str(BIN), "HOME": str(tmp_path)}
    out = subprocess.run([str(BIN / "framelab"), "detect", "--train"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "Repair detector ready" in out.stdout
    assert len(list((tmp_path / "framelab").glob("repair-*.npz"))) == 1
    assert len(list((tmp_path / "framelab").glob("detect-*.npz"))) == 1
    probe = (
        "import sys\nfrom framelab.detector import repair as repairdetect\nd = repairdetect.load_repair_detector()\n"
        f"print(d.detect({GOOD!r}).labels, 'sklearn' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip().endswith("False")


def test_the_command_labels_replies_to_ruptures(tmp_path, warm_cache):
    env = {"FRAMELAB_CACHE": str(warm_cache(tmp_path)), "PATH": str(BIN), "HOME": str(tmp_path)}
    lines = [json.dumps({"id": 1, "text": GOOD}), json.dumps({"id": 2, "text": ""})]
    proc = subprocess.run(
        [str(BIN / "framelab"), "detect", "--rubric", "repair"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1 and "1 line(s) could not be labelled" in proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert set(first["labels"]) == {"validate", "state_boundary", "recenter"}
    assert "empty" in second["error"]


# --------------------------------------------------------------------------- what it hears


@pytest.mark.parametrize(
    ("reply", "dominant"),
    [
        (GOOD, "recenter"),
        (
            "Our policy is that sessions can be moved by the service. It's all in the agreement you signed.",
            "vague_rule",
        ),
        ("I'm sorry if it came across that way, but it's honestly a standard part of the approach.", "mixed_message"),
        (
            "Oh no, I feel awful, I'm such a terrible therapist. Please forgive me, have the next one free.",
            "collapse_frame",
        ),
        ("Okay. Let's come back to that next week, shall we?", "gentle_dodge"),
        ("Don't worry about it, honestly. Anyway, how was the weekend?", "ignore_redirect"),
    ],
)
def test_the_repair_detector_hears_the_moves_and_the_backfires(repair, reply, dominant):
    assert category(repair.detect(reply).labels) == dominant


def test_it_beats_the_repair_cue_rules_on_its_held_out_assessment_items(bank, repair):
    """A regression guard on items it never trained on: not a tuning target."""
    items = [r for r in bank.responses if r.split == "assessment" and r.rubric == "repair"]
    texts = [r.text for r in items]
    probs = repair.model.predict_proba(texts, normalise, repair.cue_features)
    ours = [repairdetect.decide(list(row)) for row in probs]
    rules = [reading.by_repair_cues(t).labels for t in texts]

    def right(pred: list[list[str]]) -> int:
        return sum(bool(p) and category(p) == category(r.labels) for p, r in zip(pred, items, strict=True))

    assert right(ours) > right(rules), (right(ours), right(rules))
    assert right(ours) >= 0.7 * len(items)


# --------------------------------------------------------------------------- the role-play


def rupture_scenario(bank) -> dict:
    return next(s.model_dump() for s in bank.scenarios if s.rubric == "repair")


def test_a_rupture_is_read_by_the_repair_detector_and_a_bid_by_the_boundary_detector(bank, repair):
    readers = Detectors({"three_moves": load_detector(deployment=False), "repair": repair})
    assert readers.rubrics == {"three_moves", "repair"} and readers.for_rubric("repair") is repair
    got = reading.read(GOOD, "You got me wrong.", readers, "repair")
    assert got.source == "detector" and set(got.labels) == {"validate", "state_boundary", "recenter"}
    assert got.scores and got.cues["state_boundary"]
    bid = reading.read("Sure, here's my number, text me any time!", "Can we be friends?", readers)
    assert bid.category == "collapse_frame" and bid.source == "detector"
    # without a repair reader, ruptures fall back to the repair cues, never to the boundary detector
    alone = Detectors({"three_moves": readers.for_rubric("three_moves")})
    assert reading.read(GOOD, "", alone, "repair").source == "repair cues"

    scenario = rupture_scenario(bank)
    session = roleplay.start(scenario)
    turn = roleplay.respond(scenario, session, GOOD, ["vague_rule"], readers)
    assert turn.source == "detector" and turn.category == "recenter"  # the words, not the tick


def test_the_lazy_readers_load_both_models_in_the_background(monkeypatch, repair):
    boundary = load_detector(deployment=False)
    monkeypatch.setattr(readers, "default_detector", lambda: boundary)
    monkeypatch.setattr(repairdetect, "default_repair_detector", lambda: repair)
    lazy = LazyDetector()
    lazy.start()
    assert lazy.for_rubric("repair") is repair and lazy.for_rubric("three_moves") is boundary
    assert reading.read(GOOD, "", lazy, "repair").source == "detector"


# --------------------------------------------------------------------------- the guard


def test_graded_repair_items_and_their_paraphrases_are_refused_in_a_course_deployment(bank, repair, deployed):
    graded = graded_repair_items(bank)
    assert 8 <= len(graded) <= 12
    for it in graded:
        for det in (repair, deployed):
            with pytest.raises(Refused, match="graded exercise"):
                det.detect(it.text)
    key = {it.id: set(it.labels) for it in graded}
    paraphrases = data_lines("tuning/repair_guard_paraphrases.jsonl")
    assert len(paraphrases) >= 20 and {p["of"] for p in paraphrases} == set(key)

    in_course = answered_with_key(deployed, paraphrases, key)
    assert in_course <= 0.15 * len(paraphrases)
    assert answered_with_key(repair, paraphrases, key) > in_course


def test_in_a_course_deployment_a_rupture_reply_that_paraphrases_a_graded_item_is_not_read(bank, repair, deployed):
    def refused(det: Detector, text: str) -> bool:
        try:
            det.check(text)
        except Refused:
            return True
        return False

    # a paraphrase the copy check lets through, but the deployment's guard catches
    paraphrase = next(
        p["text"]
        for p in data_lines("tuning/repair_guard_paraphrases.jsonl")
        if not refused(repair, p["text"]) and refused(deployed, p["text"])
    )
    readers = Detectors({"three_moves": load_detector(deployment=True), "repair": deployed})
    scenario = rupture_scenario(bank)
    session = roleplay.start(scenario)
    with pytest.raises(roleplay.RolePlayError, match="own words"):
        roleplay.respond(scenario, session, paraphrase, [], readers)
    assert session.turns == []
    self_study = Detectors({"three_moves": load_detector(deployment=False), "repair": repair})
    assert roleplay.respond(scenario, session, paraphrase, [], self_study).source == "detector"


# --------------------------------------------------------------------------- the bank's repair rubric


def test_the_repair_exercise_asks_with_the_repair_names_and_carries_no_key(root):
    content = json.loads((root / "source" / "m5_alliance" / "content.json").read_text(encoding="utf-8"))
    ex = content["exercises"]["repair_moves"]
    options = dict(ex["options"])
    assert options["validate"].startswith("Thank them for saying it")
    assert options["state_boundary"].startswith("Own your part")
    assert options["none"] == "None of the three repair moves"
    assert all(set(row) == {"id", "text", "client"} for row in ex["items"])
    released = json.loads((root / "release" / "m5_alliance" / "content.json").read_text(encoding="utf-8"))
    assert released["exercises"]["repair_moves"] == ex


def test_an_exercise_that_mixes_rubrics_is_refused_with_a_fix(tmp_path):
    folder = tmp_path / "modules" / "m9_test"
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(
        textwrap.dedent(
            """\
            id: m9
            title: Test module
            minutes: 10
            objectives: [Learn a thing.]
            key_points: [A thing was learnt.]
            references:
              - {key: ref, text: "A reference."}
            exercises:
              - {id: quiz, kind: moves, rubric: repair, title: Quiz, items: [m9-r001]}
              - {id: feel, kind: alliance, rubric: repair, title: Feel, items: [m9-r001]}
            """
        )
    )
    (folder / "responses.yaml").write_text(
        textwrap.dedent(
            """\
            - id: m9-r001
              situation: late
              client: "You were late."
              text: "The trains were awful, it happens."
              labels: [vague_rule]
              rationale: "A defence."
              difficulty: 1
              split: assessment
              english: british
              register: neutral
            """
        )
    )
    problems = [str(p) for p in validate_bank(tmp_path / "modules").problems]
    assert any("'three_moves' response in a 'repair' exercise" in p and "Fix:" in p for p in problems), problems
    assert any("only response exercises have a rubric" in p for p in problems), problems


def test_the_self_check_names_the_repair_moves_for_a_repair_item():
    from framelab.learner.selfcheck import CheckReport, ItemCheck

    report = CheckReport("m5_alliance")
    report.items.append(
        ItemCheck("repair_moves", "moves", "m5-r999", False, ["validate"], ["state_boundary"], "It owns it.", "repair")
    )
    report.items.append(ItemCheck("other", "moves", "m3-r999", True, ["validate"], ["validate"], "Named it.", number=2))
    text = report.render()
    assert "you chose Thank them for saying it; the answer is Own your part." in text
    assert "right    Item 2: Validate the feeling" in text


def test_a_bank_without_repair_replies_says_what_to_do(tmp_path):
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    del data["repair"]  # a data file written before the repair rubric
    path = tmp_path / "detect.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_data(path).repair == () and load_data(path).practice
    with pytest.raises(DetectError, match=r"no repair responses.*framelab build"):
        repairdetect.load_repair_detector(path, use_cache=False)
