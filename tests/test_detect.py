"""``framelab detect``: the contract of the command and the API, bad input, determinism, the
oracle guard, the cache, a quality floor on the held-out assessment split, and the role-play hook."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import BIN, ROOT, answered_with_key, data_lines

from framelab.bank.diagnostic import load_diagnostic
from framelab.core.settings import course_deployment
from framelab.core.vocabulary import LABELS
from framelab.detector import readers
from framelab.detector.boundary import MAX_CHARS, Detector, Refused, describe, load_detector
from framelab.detector.cues import cue_matches
from framelab.detector.data import DATA_FILE, DetectError, load_data
from framelab.detector.model import fit
from framelab.detector.readers import LazyDetector
from framelab.roleplay import engine as roleplay

GOOD = (
    "I can hear how much this matters to you. I won't be meeting up outside our sessions; "
    "I'm curious what made today the day to ask?"
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector()  # from the cache, keyed by this bank and this code (trained once per run)


def run_detect(lines: list[str], tmp_path, warm_cache) -> subprocess.CompletedProcess:
    """``framelab detect`` in a fresh process, its cache holding this bank's trained model."""
    env = {"FRAMELAB_CACHE": str(warm_cache(tmp_path / "cache")), "PATH": str(BIN), "HOME": str(tmp_path)}
    return subprocess.run(
        [str(BIN / "framelab"), "detect"], input="\n".join(lines) + "\n", capture_output=True, text=True, env=env
    )


def assert_detection(obj: dict, item_id) -> None:
    assert obj["id"] == item_id
    assert set(obj) == {"id", "labels", "scores", "cues", "checks_safety"}
    assert obj["checks_safety"] in (True, False)
    assert obj["labels"] and set(obj["labels"]) <= set(LABELS)
    assert set(obj["scores"]) == set(LABELS)
    assert all(0.0 <= p <= 1.0 for p in obj["scores"].values())
    assert set(obj["cues"]) == set(obj["labels"])
    assert all(isinstance(c, str) and c for cues in obj["cues"].values() for c in cues)


# --------------------------------------------------------------------------- the command


def test_cli_labels_json_lines_and_exits_zero(tmp_path, warm_cache):
    lines = [
        json.dumps({"id": "a", "text": GOOD, "client": "Could we be friends?"}),
        json.dumps({"id": 2, "text": "Our policy doesn't allow that, I'm afraid."}),
        "",  # blank lines are skipped
        json.dumps({"id": "c", "text": "Sure! Here's my number, text me whenever you like."}),
    ]
    proc = run_detect(lines, tmp_path, warm_cache)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 2, "c"]
    for o in out:
        assert_detection(o, o["id"])
    assert set(out[0]["labels"]) == {"validate", "state_boundary", "recenter"}
    assert out[1]["labels"] == ["vague_rule"]
    assert "collapse_frame" in out[2]["labels"]
    assert any("policy" in c for c in out[1]["cues"]["vague_rule"])


def test_cli_reports_each_bad_line_and_labels_the_rest(tmp_path, warm_cache):
    lines = [
        json.dumps({"id": "empty", "text": ""}),
        json.dumps({"id": "blank", "text": "   \n\t "}),
        json.dumps({"id": "long", "text": "I hear you. " * 500}),
        json.dumps({"id": "number", "text": 42}),
        json.dumps({"id": "null", "text": None}),
        json.dumps({"id": "list", "text": ["I", "hear", "you"]}),
        '{"id": "broken", "text": "unterminated',
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "no id here"}),
        json.dumps({"id": "notext"}),
        json.dumps({"id": "fine", "text": GOOD}),
    ]
    proc = run_detect(lines, tmp_path, warm_cache)
    assert proc.returncode == 1
    assert "10 line(s) could not be labelled" in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    errors = {o["line"]: o for o in out if "error" in o}
    assert sorted(errors) == list(range(1, 11))
    for n, o in errors.items():
        assert o["error"].startswith(f"line {n}: ")
    assert "empty" in errors[1]["error"] and "empty" in errors[2]["error"]
    assert "5,000" in errors[3]["error"] and "6,000" in errors[3]["error"]
    for n, kind in ((4, "int"), (5, "NoneType"), (6, "list")):
        assert f"must be a string, not {kind}" in errors[n]["error"]
    assert "not valid JSON" in errors[7]["error"] and errors[7]["id"] is None
    assert "expected an object" in errors[8]["error"]
    assert "no 'id'" in errors[9]["error"]
    assert "no 'text'" in errors[10]["error"] and errors[10]["id"] == "notext"
    assert_detection(out[-1], "fine")


def test_api_checks_input_like_the_command(detector):
    for bad in ("", "  ", "x" * (MAX_CHARS + 1), 3, None):
        with pytest.raises(Refused):
            detector.detect(bad)
    found = detector.detect(GOOD)
    assert found.labels == ["validate", "state_boundary", "recenter"]
    assert found.scores["validate"] > 0.8 and found.scores["collapse_frame"] < 0.2
    assert describe(found).startswith("Validate the feeling (")


# --------------------------------------------------------------------------- learning


def test_training_is_deterministic_and_uses_the_practice_split_and_the_corpus_only(bank):
    data = load_data()
    practice_ids = {r.id for r in bank.responses if r.split == "practice" and r.rubric == "three_moves"}
    assert {e.id for e in data.practice} == practice_ids
    assert data.training == data.practice + data.corpus  # the agreed corpus (tests/test_detect_corpus.py), no more
    assert not {e.id for e in data.corpus} & {r.id for r in bank.responses}
    texts = [r.text for r in bank.responses]
    pipe = fit(data.practice)
    a = pipe.predict_proba(texts)
    b = fit(data.practice).predict_proba(texts)
    assert np.array_equal(a, b)
    # the model the detector runs without scikit-learn is checked against the pipeline in test_detectlite


def test_a_cached_detector_answers_without_importing_scikit_learn(tmp_path, warm_cache):
    env = {"FRAMELAB_CACHE": str(warm_cache(tmp_path)), "PATH": str(BIN), "HOME": str(tmp_path)}
    code = "from framelab.detector.boundary import load_detector; load_detector().detect('Anyway, how was the week?')"
    check = "import sys; " + code + "; print('sklearn' in sys.modules)"
    out = subprocess.run([str(BIN / "python"), "-c", check], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_the_data_file_carries_no_assessment_label(bank):
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assessment = {r.id for r in bank.responses if r.split == "assessment"}
    diagnostic = {d.id for d in load_diagnostic(ROOT / "modules").items}
    assert diagnostic and {g["id"] for g in raw["guard"]} == assessment | diagnostic
    assert all(set(g) == {"id", "text", "client"} for g in raw["guard"])  # never a label or an answer
    text = DATA_FILE.read_text(encoding="utf-8")
    assert not [d.id for d in load_diagnostic(ROOT / "modules").items if d.rationale in text]  # nor its rationale
    assert not assessment & {p["id"] for p in raw["practice"]}


def test_cache_is_keyed_by_the_bank_and_survives_damage(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMELAB_CACHE", str(tmp_path))
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    first = tmp_path / "a.json"
    first.write_text(json.dumps(data), encoding="utf-8")
    load_detector(first)
    (cached,) = (tmp_path / "framelab").glob("detect-*.npz")
    stamp = cached.stat().st_mtime_ns
    load_detector(first)
    assert cached.stat().st_mtime_ns == stamp, "the cached model was not reused"

    data["practice"] = data["practice"][:-1]  # a changed bank: a new key, a new model
    second = tmp_path / "b.json"
    second.write_text(json.dumps(data), encoding="utf-8")
    load_detector(second)
    assert len(list((tmp_path / "framelab").glob("detect-*.npz"))) == 2

    cached.write_bytes(b"not a model")  # a damaged cache is retrained, not an error
    assert load_detector(first).detect(GOOD).labels
    assert cached.read_bytes() != b"not a model"


def test_a_missing_or_broken_data_file_says_what_to_do(tmp_path):
    with pytest.raises(DetectError, match="framelab build"):
        load_data(tmp_path / "nothing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "framelab-detect-data/1",\n "practice": [', encoding="utf-8")
    with pytest.raises(DetectError, match=r"line 2"):
        load_data(bad)


# --------------------------------------------------------------------------- the oracle guard


def light_edits(text: str) -> list[str]:
    """What a trainee might do to get a graded item past the guard."""
    words = text.split()
    swapped = [*words]
    swapped[len(words) // 2] = "really"
    return [
        text.upper(),
        re.sub(r"[.,;:!?]", "", text),
        " ".join(swapped),
        " ".join(words[1:]),
        text.replace("'", "\u2019") + " Thanks.",
    ]


def test_the_guard_refuses_every_assessment_item_and_light_edits(bank, detector):
    items = [r for r in bank.responses if r.split == "assessment"]
    assert len(items) > 100
    for r in items:
        with pytest.raises(Refused, match="graded exercise"):
            detector.detect(r.text)
        for edited in light_edits(r.text):
            if len(edited.split()) >= 4:
                assert detector.guard.match(edited) is not None, f"{r.id}: an edited copy got through: {edited!r}"


def test_the_guard_lets_practice_items_and_fresh_replies_through(bank, detector):
    blocked = [r.id for r in bank.responses if r.split == "practice" and detector.guard.match(r.text)]
    assert blocked == []
    assert detector.guard.match(GOOD) is None


def test_the_command_refuses_an_assessment_item_in_plain_words(tmp_path, bank, warm_cache):
    item = next(r for r in bank.responses if r.split == "assessment")
    proc = run_detect([json.dumps({"id": 1, "text": item.text})], tmp_path, warm_cache)
    assert proc.returncode == 1
    (out,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "labels" not in out and "answer key" in out["error"]


# --------------------------------------------------------------------------- quality floor


def macro_f1(gold: list[tuple[str, ...]], pred: list[list[str]]) -> float:
    f1s = []
    for lab in LABELS:
        tp = sum(lab in g and lab in p for g, p in zip(gold, pred, strict=True))
        fp = sum(lab not in g and lab in p for g, p in zip(gold, pred, strict=True))
        fn = sum(lab in g and lab not in p for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def keyword_baseline(text: str) -> list[str]:
    return list(cue_matches(text)) or ["validate"]


def test_assessment_macro_f1_stays_well_above_the_keyword_baseline(bank, detector):
    """A regression guard on held-out items (never trained on): not a tuning target."""
    items = [r for r in bank.responses if r.split == "assessment" and r.rubric == "three_moves"]
    gold = [r.labels for r in items]
    ours = macro_f1(gold, [d.labels for d in detector.detect_many([r.text for r in items])])
    keywords = macro_f1(gold, [keyword_baseline(r.text) for r in items])
    assert ours >= keywords + 0.1, f"macro-F1 {ours:.3f}; keyword baseline {keywords:.3f}"
    assert ours >= 0.78, f"macro-F1 {ours:.3f} on the assessment split"


# --------------------------------------------------------------------------- the role-play hook


def test_roleplay_follows_the_detectors_reading_and_keeps_its_evidence(detector):
    scenario = json.loads((ROOT / "source" / "m1_double_bind" / "content.json").read_text())["scenarios"][0]
    session = roleplay.start(scenario)
    reply = "Oh I'd love to, but I'm snowed under this month. Maybe once we've finished?"
    turn = roleplay.respond(scenario, session, reply, ["validate"], detector)
    assert "gentle_dodge" in turn.detected and turn.source == "detector"
    assert turn.category in ("gentle_dodge", "mixed_message")  # the words, not the tick (validate)
    assert turn.evidence["gentle_dodge"]["confidence"] > 0.5
    assert turn.evidence["gentle_dodge"]["cues"]
    review = roleplay.review(turn)
    assert review.disagreement and "Gentle dodge" in review.disagreement
    assert "Gentle dodge (" in review.words_did and "\u201c" in review.words_did
    assert "*What your words did:" in roleplay.transcript_markdown(session, scenario)
    again = roleplay.Session.from_json(json.loads(json.dumps(session.to_json())), scenario)
    assert again.turns[0].evidence == turn.evidence


def test_the_issue_reply_is_heard_as_a_mixed_message_whatever_was_ticked(detector):
    """From the issue: a door-ajar reply ticked only as Validate must not be met warmly."""
    scenario = json.loads((ROOT / "source" / "m1_double_bind" / "content.json").read_text())["scenarios"][1]
    session = roleplay.start(scenario)
    reply = "Honestly I'd love to stay in touch, but I don't think I'm allowed... maybe we'll bump into each other"
    turn = roleplay.respond(scenario, session, reply, ["validate"], detector)
    assert turn.category == "mixed_message"
    assert turn.reaction == scenario["nodes"]["bid"]["branches"]["mixed_message"]["reaction"]


def test_the_roleplay_hook_refuses_graded_items(bank, detector):
    item = next(r for r in bank.responses if r.split == "assessment")
    with pytest.raises(Refused):
        detector(item.text, "")


def test_the_lazy_detector_loads_in_the_background(monkeypatch, detector):
    loads, ready = [], []
    monkeypatch.setattr(readers, "for_roleplay", lambda: loads.append(1) or detector)
    lazy = LazyDetector()
    assert loads == [] and not lazy.ready
    lazy.start(on_ready=lambda: ready.append(1))
    found = lazy("Anyway, how did the interview go?", "Can we be friends?")
    assert lazy.ready and ready == [1] and "ignore_redirect" in found.labels
    lazy.start()  # once only
    assert len(loads) == 2  # the loading thread, then the reply's own (cached) look-up
    monkeypatch.setattr(readers, "for_roleplay", lambda: None)
    assert lazy("Anything", "") is None


# --------------------------------------------------------------------------- the course-deployment guard


@pytest.fixture(scope="module")
def deployed() -> Detector:
    return load_detector(deployment=True)


def test_in_a_course_deployment_paraphrases_of_graded_items_do_not_get_the_key(bank, deployed, detector):
    key = {r.id: set(r.labels) for r in bank.responses if r.split == "assessment"}
    paraphrases = data_lines("tuning/guard_paraphrases.jsonl")
    assert len(paraphrases) >= 40 and {p["of"] for p in paraphrases} <= set(key)
    in_course = answered_with_key(deployed, paraphrases, key)
    assert in_course <= 0.15 * len(paraphrases)
    assert answered_with_key(detector, paraphrases, key) > in_course  # the copy guard alone lets more through


def test_in_a_course_deployment_honest_replies_are_still_read(deployed):
    held = data_lines("tuning/boundary_replies.jsonl")
    refused = 0
    for h in held:
        try:
            deployed.check(h["text"])
        except Refused as exc:
            refused += 1
            assert "own words" in str(exc) and "m1-" not in str(exc)  # no item id to search for
    assert refused <= 0.05 * len(held)


def course_folder(tmp_path: Path) -> Path:
    """A course whose nbgrader_config.py switches self-checking off, and a module folder in it."""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.FrameLab.self_check = False\n")
    (tmp_path / "m1").mkdir(exist_ok=True)
    return tmp_path / "m1"


def test_the_deployment_switch_is_the_self_check_switch(tmp_path, monkeypatch):
    monkeypatch.delenv("FRAMELAB_SELF_CHECK", raising=False)
    assert course_deployment(tmp_path) is False
    assert course_deployment(course_folder(tmp_path)) is True
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "1")
    assert course_deployment(tmp_path) is False
    monkeypatch.setenv("FRAMELAB_SELF_CHECK", "0")
    assert course_deployment(Path("/")) is True


def test_where_self_checking_is_off_the_command_labels_nothing_but_still_trains(tmp_path, warm_cache):
    """``framelab detect`` is a self-check, like ``framelab check``: a course deployment switches it off (the
    role-plays still read replies), says so in one line, and exits 2; ``--train`` (``make install``) still works."""
    env = {"FRAMELAB_CACHE": str(warm_cache(tmp_path / "cache")), "PATH": str(BIN), "HOME": str(tmp_path)}
    request = json.dumps({"id": 1, "text": "Yes, let's get that coffee on Saturday!"}) + "\n"

    def detect(*args: str, cwd: Path = tmp_path, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "framelab"), "detect", *args], input=request, capture_output=True, text=True,
            env={**env, **extra}, cwd=cwd,
        )  # fmt: skip

    for off in (detect(FRAMELAB_SELF_CHECK="0"), detect(cwd=course_folder(tmp_path))):
        assert off.returncode == 2 and off.stdout == "" and "Traceback" not in off.stderr
        assert "self-checking is switched off for this course" in off.stderr and "role-plays" in off.stderr
    on = detect(FRAMELAB_SELF_CHECK="1", cwd=course_folder(tmp_path))
    assert on.returncode == 0 and json.loads(on.stdout)["labels"] == ["collapse_frame"]
    trained = detect("--train", FRAMELAB_SELF_CHECK="0")
    assert trained.returncode == 0 and "Detector ready" in trained.stdout


def test_a_roleplay_reply_that_paraphrases_a_graded_item_is_not_read(deployed):
    scenario = json.loads((ROOT / "source" / "m1_double_bind" / "content.json").read_text())["scenarios"][0]
    session = roleplay.start(scenario)
    paraphrase = next(p["text"] for p in data_lines("tuning/guard_paraphrases.jsonl") if p["of"] == "m1-r035")
    with pytest.raises(roleplay.RolePlayError, match="own words"):
        roleplay.respond(scenario, session, paraphrase, [], deployed)
    assert session.turns == []


def test_a_reply_sent_with_a_graded_client_line_is_refused_in_a_course(bank, deployed, detector):
    """Heavy paraphrases (tests/data/tuning/heavy_guard_paraphrases.jsonl, a tuning set) sent with their item's client
    line rarely get the key in a course; sent without it, the meaning guard alone lets many through (what this lever
    cannot stop). Self-study is unchanged."""
    key = {r.id: set(r.labels) for r in bank.responses if r.split == "assessment"}
    heavy = [p for p in data_lines("tuning/heavy_guard_paraphrases.jsonl") if p["rubric"] == "boundary"]
    assert len(heavy) >= 40
    answered = refused = 0
    for p in heavy:
        assert detector(p["text"], p["client"]).labels  # self-study: no deployment guard, read as before
        try:
            answered += set(deployed(p["text"], p["client"]).labels) == key[p["source_item"]]
        except Refused as exc:
            refused += 1
            assert "graded exercise" in str(exc) and "m1-" not in str(exc)  # no item id to search for
    assert answered <= 0.15 * len(heavy) and refused >= 0.8 * len(heavy)
    without = [{"of": p["source_item"], "text": p["text"]} for p in heavy]
    assert answered_with_key(deployed, without, key) > 0.15 * len(without)  # the honest limit, reported in README


def test_a_graded_client_line_is_matched_word_for_word_and_a_far_reply_is_still_read(bank, deployed):
    item = next(r for r in bank.responses if r.split == "assessment" and r.rubric == "three_moves")
    reworded = "  " + item.client.upper().replace(",", "") + "!!"  # case, punctuation and spacing do not matter
    assert deployed.guard.graded_client(reworded, item.text)
    with pytest.raises(Refused, match="graded exercise"):
        deployed.check(item.text.replace(".", "!"), reworded)
    far = "Remember your umbrella on the way out, it's pouring down."
    assert not deployed.guard.graded_client(item.client, far)
    assert deployed.check(far, item.client) == far
    assert not deployed.guard.graded_client("Can we be friends when this all ends, do you think?", item.text)


def test_the_deployment_guard_refuses_every_diagnostic_item(deployed, detector):
    items = load_diagnostic(ROOT / "modules").items
    assert items
    for d in items:
        with pytest.raises(Refused):
            deployed.check(d.text)
        with pytest.raises(Refused):
            deployed.check(d.text + " ", d.client)
        with pytest.raises(Refused):
            detector.check(d.text)  # the copy guard refuses them in self-study too


def test_no_roleplay_line_is_a_graded_client_line(deployed):
    """The role-play sends each reply with the client's line: none may be a graded item's, or a course would refuse
    every reply to it."""
    lines = [
        node["client"]
        for path in sorted((ROOT / "source").glob("*/content.json"))
        for scenario in json.loads(path.read_text(encoding="utf-8")).get("scenarios", [])
        for node in scenario["nodes"].values()
        if node.get("client")
    ]
    assert len(lines) > 20
    assert [line for line in lines if deployed.guard.graded_client(line)] == []
