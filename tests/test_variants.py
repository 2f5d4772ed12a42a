"""Per-trainee variants (framelab.bank.variants): the stratified, seeded draw; the pools in modules/ and
what each supports; the ``framelab variant`` command; and the guard over every pool item."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from conftest import BIN, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from framelab.bank import variants as v
from framelab.bank.loader import load_bank
from framelab.bank.models import Bank, Exercise, Module, ModuleMeta, Reference, Response, gold

ids = st.text(min_size=1, max_size=24)


def _response(n: int, label: str, difficulty: int) -> Response:
    return Response.model_validate(
        {
            "id": f"m9-r{n:03d}",
            "situation": "coffee",
            "client": "Shall we get a coffee some time?",
            "text": f"Reply number {n}.",
            "labels": [label],
            "rationale": "For the test.",
            "difficulty": difficulty,
            "split": "assessment",
            "english": "neutral",
            "register": "neutral",
        }
    )


def toy(pool_size: int = 40, draw: int = 10) -> tuple[Module, Bank]:
    """A module whose one exercise draws ``draw`` of ``pool_size`` single-label items, four labels by three
    levels, so the strata are known."""
    labels = ["gentle_dodge", "vague_rule", "mixed_message", "ignore_redirect"]
    responses = [_response(n, labels[n % 4], 1 + (n // 4) % 3) for n in range(pool_size)]
    ex = Exercise(
        id="names",
        kind="single_label",
        title="Name it",
        items=tuple(r.id for r in responses[:draw]),
        pool=tuple(r.id for r in responses[draw:]),
        draw=draw,
    )
    meta = ModuleMeta(
        id="m9",
        title="Toy",
        minutes=10,
        objectives=("o",),
        key_points=("k",),
        references=(Reference(key="r", text="r"),),
        exercises=(ex,),
    )
    module = Module("m9_toy", meta, responses=responses)
    return module, Bank(Path("."), {"m9": module}, [])


# --------------------------------------------------------------------------- the draw


@settings(max_examples=200, deadline=None)
@given(student=ids, salt=st.text(max_size=12))
def test_a_trainee_always_gets_the_same_items_drawn_from_the_pool_each_once(student, salt):
    module, bank = toy()
    first = v.variant(module, bank, student, salt)["names"]
    assert first == v.variant(module, bank, student, salt)["names"]
    assert len(first) == len(set(first)) == 10
    assert set(first) <= set(v.pool(module.meta.exercises[0]))


@settings(max_examples=200, deadline=None)
@given(student=ids)
def test_every_variant_has_each_level_in_its_proportional_share(student):
    """40 items at three levels (14, 13 and 13 of them); 10 drawn: each level gives its share (3.5, 3.25,
    3.25) rounded down or up."""
    module, bank = toy()
    ex = module.meta.exercises[0]
    items = bank.items()
    chosen = v.variant(module, bank, student)["names"]
    by_level = Counter(items[i].difficulty for i in chosen)
    for stratum in v.plan(ex, bank, module).strata:
        assert len({items[i].difficulty for i in stratum}) == 1
        share = len(stratum) * 10 / 40
        assert int(share) <= by_level[items[stratum[0]].difficulty] <= -int(-share // 1), (by_level, share)


@settings(max_examples=100, deadline=None)
@given(student=ids, salt=st.text(max_size=12))
def test_the_draw_reads_no_answer(student, salt):
    """The same pool and levels with every key changed give every trainee the same items: the draw reads only
    public facts, so a kernel may run it and no variant tells a trainee which items share an answer."""
    module, bank = toy()
    relabelled = [r.model_copy(update={"labels": ["gentle_dodge"]}) for r in module.responses]
    other = Module(module.folder, module.meta, responses=relabelled)
    other_bank = Bank(Path("."), {"m9": other}, [])
    assert v.variant(module, bank, student, salt) == v.variant(other, other_bank, student, salt)
    ex = module.meta.exercises[0]
    ids_, levels = v.pool(ex), {r.id: r.difficulty for r in module.responses}
    assert v.public_plan("names", ids_, levels, 10) == v.plan(ex, bank, module)


def test_answers_are_balanced_on_average_not_in_every_variant():
    """Each label is a quarter of the pool, so over 2000 ids a variant of 10 holds 2.5 of each on average;
    one variant may hold fewer or more (the price of not publishing which items share an answer)."""
    module, bank = toy()
    items = bank.items()
    counts = [
        Counter(gold(items[i], "single_label") for i in v.variant(module, bank, f"t{n}")["names"]) for n in range(2000)
    ]
    for label in ("gentle_dodge", "vague_rule", "mixed_message", "ignore_redirect"):
        assert 2.35 <= sum(c[label] for c in counts) / len(counts) <= 2.65
    assert any(not set(c.values()) <= {2, 3} for c in counts)  # a stratum by answer would forbid this


def test_each_pool_item_is_asked_of_about_the_same_share_of_trainees():
    """The draw favours no item: over 2000 ids each of the 40 items is asked of about a quarter (10 of 40)."""
    module, bank = toy()
    seen = Counter(i for n in range(2000) for i in v.variant(module, bank, f"t{n}")["names"])
    assert len(seen) == 40
    assert all(420 <= c <= 580 for c in seen.values()), sorted(seen.values())


def test_the_salt_and_the_id_change_the_variant_and_pairs_share_about_draw_squared_over_pool():
    module, bank = toy()
    a = v.variant(module, bank, "ana")["names"]
    assert a != v.variant(module, bank, "ana", "cohort-2027")["names"]
    profile = v.overlap_profile(module, bank, [f"t{n}" for n in range(150)])["names"]
    assert profile.pairs == 150 * 149 // 2
    assert 2.0 <= profile.mean <= 3.0  # 10 * 10 / 40 = 2.5
    assert profile.over_half_rate < 0.03  # measured 0.9% (a simple random draw of 10 from 40: 0.5%)


def test_a_fixed_form_is_its_items_as_listed_for_everyone():
    module, bank = toy()
    ex = module.meta.exercises[0]
    fixed = ex.model_copy(update={"pool": (), "draw": None})
    module.meta = module.meta.model_copy(update={"exercises": (fixed,)})
    assert not v.has_variants(fixed)
    assert v.variant(module, bank, "anyone")["names"] == list(ex.items)


def test_a_draw_larger_than_its_pool_is_refused():
    with pytest.raises(ValueError, match="cannot draw 5 items from a pool of 4"):
        v.draw(v.Plan("x", (("a", "b"), ("c", "d")), 5), "s", "m9", "t")


# --------------------------------------------------------------------------- the pools in modules/


@pytest.fixture(scope="module")
def real() -> Bank:
    return load_bank(ROOT / "modules")


#: exercises whose pool keeps pairs of trainees at half their items or fewer, all but rarely (measured over
#: 300 ids; the README's table gives every exercise's figures)
SUPPORTED = {("m3", "moves"): 0.005, ("m5", "repair_moves"): 0.03}
FIXED = {("m0", "first_try"), ("m4", "safety_replies"), ("m4", "safety_check"), ("m5", "strengthen_or_strain")}
FIXED |= {("m6", "rosa_replies")}


def test_the_pools_in_modules_are_valid_and_worth_the_same_points_in_every_variant(real):
    assert real.problems == []
    for module in real.modules.values():
        for ex in module.meta.exercises:
            assert ((module.meta.id, ex.id) in FIXED) == (not v.has_variants(v.source_of(ex, module)))
            for n in range(25):
                assert len(v.variant(module, real, f"t{n}")[ex.id]) == len(ex.items)


def test_supported_pools_keep_pairs_of_trainees_at_half_or_less_but_rarely(real):
    students = [f"trainee-{n}" for n in range(300)]
    for (mid, exercise), rate in SUPPORTED.items():
        o = v.overlap_profile(real.module(mid), real, students)[exercise]
        assert o.over_half_rate <= rate, f"{mid} {exercise}: {o.over_half_rate:.2%} of pairs share more than half"
        assert o.mean <= o.draw / 4


@settings(max_examples=60, deadline=None)
@given(student=ids)
def test_in_every_real_pool_a_trainee_gets_each_level_in_its_proportional_share(student):
    bank = load_bank(ROOT / "modules")
    items = bank.items()
    for module in bank.modules.values():
        form = v.variant(module, bank, student)
        assert form == v.variant(module, bank, student)
        for ex in module.meta.exercises:
            chosen, whole = form[ex.id], v.pool(v.source_of(ex, module))
            assert len(chosen) == len(set(chosen)) == len(ex.items) and set(chosen) <= set(whole)
            levels = Counter(items[i].difficulty for i in chosen)
            for level, n in Counter(items[i].difficulty for i in whole).items():
                share = n * len(chosen) / len(whole)
                assert int(share) <= levels[level] <= -int(-share // 1), (ex.id, level, levels[level], share)


def test_in_the_supported_pools_each_answer_is_asked_in_its_share_on_average(real):
    items = real.items()
    for mid, exercise in SUPPORTED:
        module = real.module(mid)
        ex = next(e for e in module.meta.exercises if e.id == exercise)
        whole = v.pool(ex)
        in_pool = Counter(json.dumps(gold(items[i], ex.kind)) for i in whole)
        asked = Counter(
            json.dumps(gold(items[i], ex.kind)) for n in range(600) for i in v.variant(module, real, f"t{n}")[exercise]
        )
        for answer, n in in_pool.items():
            expected = 600 * ex.draw * n / len(whole)
            assert abs(asked[answer] - expected) <= 0.2 * expected + 6, (exercise, answer, asked[answer], expected)


def test_exercises_asking_about_the_same_vignettes_draw_the_same_ones(real):
    for mid, a, b in (("m2", "relation", "next_step"), ("m4", "which_boundary", "crossing_or_violation")):
        for student in ("ana", "ben", "chidi"):
            form = v.variant(real.module(mid), real, student)
            assert form[a] == form[b]


def test_pools_stay_apart_within_a_module_and_hold_only_assessment_items(real):
    items = real.items()
    for module in real.modules.values():
        seen: dict[str, str] = {}
        for ex in module.meta.exercises:
            source = v.source_of(ex, module)
            if not v.has_variants(source):
                continue  # a fixed form (Module 4's safety replies are asked two ways, as a fixed pair)
            for iid in v.pool(ex):
                assert items[iid].split == "assessment"
                assert seen.setdefault(iid, source.id) == source.id, f"{iid} is in two pools of {module.meta.id}"


def _problems_after(tmp_path: Path, folder: str, old: str, new: str) -> list[str]:
    import shutil

    shutil.copytree(ROOT / "modules", tmp_path / "modules")
    path = tmp_path / "modules" / folder / "module.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return [str(p) for p in load_bank(tmp_path / "modules").problems]


def test_the_validator_names_a_draw_that_would_change_the_points(tmp_path):
    problems = _problems_after(tmp_path, "m1_double_bind", "draw: 16", "draw: 12")
    assert any("exercises.backfires.draw" in p and "draw: 16" in p for p in problems), problems


def test_the_validator_names_a_practice_item_or_a_duplicate_in_a_pool(tmp_path):
    problems = _problems_after(tmp_path, "m1_double_bind", "pool: [m1-r005,", "pool: [m1-r001, m1-r013, m1-r005,")
    assert any("item m1-r001" in p and "exercises.backfires.pool" in p and "only assessment" in p for p in problems)
    assert any("item m1-r013" in p and "is listed twice" in p for p in problems), problems


def test_the_validator_names_a_shared_draw_whose_pool_differs(tmp_path):
    problems = _problems_after(
        tmp_path, "m2_transference", "    draw: 12\n    same_draw_as", "    draw: 11\n    same_draw_as"
    )
    assert any("exercises.next_step.same_draw_as" in p and "'relation'" in p for p in problems), problems


def test_every_pool_reply_is_refused_by_the_detectors_guard(real):
    """The guard refuses every reply a trainee may be graded on (vignettes are not replies: the detector reads
    replies, and gives no vignette's answer)."""
    from framelab.detector.boundary import Refused, load_detector
    from framelab.detector.repair import load_repair_detector

    boundary, repair = load_detector(), load_repair_detector()
    items = real.items()
    pooled = {i for m in real.modules.values() for ex in m.meta.exercises for i in v.pool(ex)}
    replies = [items[i] for i in sorted(pooled) if isinstance(items[i], Response)]
    assert len(replies) > 150
    for r in replies:
        for det in (boundary, repair):
            with pytest.raises(Refused):
                det.detect(r.text)


# --------------------------------------------------------------------------- the command


def _variant(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "framelab"), "variant", *args], capture_output=True, text=True, cwd=ROOT)


def test_the_command_prints_the_variant_as_json_and_the_same_each_time(real):
    out = _variant("m2_transference", "ana", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = v.variant(real.module("m2"), real, "ana")
    assert data["exercises"] == expected
    assert data["items"] == expected["relation"]  # both exercises ask about the same vignettes, listed once
    assert json.loads(_variant("m2_transference", "ana", "--json").stdout) == data
    other = json.loads(_variant("m2", "ben", "--json", "--salt", "x").stdout)
    assert other["items"] != data["items"]


def test_the_command_names_an_unknown_assignment_in_one_line():
    out = _variant("m9_nothing", "ana", "--json")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "no assignment 'm9_nothing'" in out.stderr and "m1_double_bind" in out.stderr


def test_the_command_refuses_a_bank_with_problems_in_one_line(tmp_path):
    """A bank that fails validation gets one line and exit 2 (as ``framelab audit``), never a variant."""
    import shutil

    broken = tmp_path / "modules"
    shutil.copytree(ROOT / "modules", broken, ignore=shutil.ignore_patterns("_corpus"))
    pool = broken / "m1_double_bind" / "module.yaml"
    pool.write_text(pool.read_text(encoding="utf-8").replace("m1-r201", "m1-r999", 1), encoding="utf-8")
    out = _variant("m1_double_bind", "ana", "--json", "--modules", str(broken))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "has problems; run 'framelab validate' first" in out.stderr


def test_the_command_reads_the_course_salt_from_nbgrader_config(tmp_path, real):
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.FrameLab.variant_salt = "cohort-2027"\n')
    out = _variant("m1", "ana", "--json", "--course", str(tmp_path))
    assert json.loads(out.stdout)["exercises"] == v.variant(real.module("m1"), real, "ana", "cohort-2027")


def test_trainees_get_different_variants(real):
    module = real.module("m1")
    forms = [v.variant(module, real, f"id{n}")["backfires"] for n in range(60)]
    assert len({tuple(sorted(f)) for f in forms}) > 55


def test_the_command_prints_the_sharing_figures_it_measures(real):
    out = _variant("m3_three_moves", "x", "--overlap", "40")
    assert out.returncode == 0, out.stderr
    profile = v.overlap_profile(real.module("m3"), real, [f"trainee-{k}" for k in range(40)])
    moves = profile["moves"]
    assert "difficulty only" in out.stdout
    ex = next(e for e in real.module("m3").meta.exercises if e.id == "moves")
    pool = len(v.pool(ex))  # the fixed form and its pool, as the bank has them
    assert f"moves: pool {pool}, draw 12, 780 pairs; mean shared {moves.mean:.1f}, most {moves.most}," in out.stdout
    assert _variant("m3_three_moves", "x", "--overlap", "1").returncode == 2


# --------------------------------------------------------------------------- switched on: notebooks and grading

ON = v.Setting(on=True)


def test_variants_are_off_unless_the_course_switches_them_on(tmp_path):
    assert v.course_setting(tmp_path) == v.OFF
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.FrameLab.variant_salt = "s"\n')
    assert v.course_setting(tmp_path) == v.Setting(False, "s")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.FrameLab.variants = True\n")
    assert v.course_setting(tmp_path) == ON


def test_with_variants_off_the_grade_ids_name_the_fixed_items_and_on_they_name_places(real):
    module = real.module("m3")
    moves = module.meta.exercises[0]
    assert v.grade_ids(module, moves) == [f"moves__{i}" for i in moves.items]
    assert v.grade_ids(module, moves, ON) == [f"moves__{n}" for n in range(1, 13)]
    asked = v.places(module, real, "ana", ON)["moves"]
    assert [iid for _, iid in asked] == v.variant(module, real, "ana")["moves"]
    assert v.places(module, real, "ana")["moves"] == list(zip(v.grade_ids(module, moves), moves.items, strict=True))


def _right(module, bank, student: str) -> dict[str, dict[str, object]]:
    items = bank.items()
    return {
        ex.id: {i: gold(items[i], ex.kind) for i in v.variant(module, bank, student)[ex.id]}
        for ex in module.meta.exercises
    }


@pytest.mark.parametrize("mid", ["m3", "m5"])
def test_the_score_of_record_follows_the_gradebook_id_and_answers_to_other_items_score_nothing(real, mid):
    from framelab.scoring.record import key_hashes, score_picks

    module = real.module(mid)
    ana, ben = _right(module, real, "ana"), _right(module, real, "ben")
    full = sum(len(ex.items) for ex in module.meta.exercises)
    assert sum(score_picks(ana, module, real, "ana", ON).values()) == full
    assert sum(score_picks(ben, module, real, "ben", ON).values()) == full
    # ben claims ana's items (answers right for them, and none for his own): only items both were asked score
    shared_items = {ex.id: set(ana[ex.id]) & set(ben[ex.id]) for ex in module.meta.exercises}
    got = sum(score_picks(ana, module, real, "ben", ON).values())
    assert got == sum(len(s) for s in shared_items.values()) < full
    # every variant is worth the same points, under the same grade ids
    assert set(score_picks({}, module, real, "ana", ON)) == set(score_picks({}, module, real, "ben", ON))
    assert key_hashes(module, real, "ana", ON).keys() == key_hashes(module, real, "ben", ON).keys()
    assert key_hashes(module, real, "ana", ON) != key_hashes(module, real, "ben", ON)


def test_the_kernel_draws_the_same_items_from_public_content_as_the_grader(real, tmp_path):
    from framelab.bank.build import dumps, public_content

    module = real.module("m3")
    content = public_content(real, module, ON)
    moves = content["exercises"]["moves"]
    assert moves["variant"] == {"plan": "moves", "draw": 12, "salt": v.DEFAULT_SALT}
    assert {r["id"] for r in moves["items"]} == set(v.pool(module.meta.exercises[0]))
    assert all(set(r) <= {"id", "text", "client", "difficulty"} for r in moves["items"])  # no key, no rationale
    for student in ("ana", "ben", "chidi"):
        shown = [r["id"] for r in v.shown_items(moves, module.folder, student)]
        assert shown == v.variant(module, real, student)["moves"]
    assert dumps(public_content(real, module)) == (ROOT / "source" / module.folder / "content.json").read_text()


def test_the_kernel_takes_the_graders_id_then_the_hubs_then_the_self_study_default():
    assert v.trainee_id({"FRAMELAB_STUDENT": "ana", "JUPYTERHUB_USER": "ben"}) == "ana"
    assert v.trainee_id({"JUPYTERHUB_USER": "ben"}) == "ben"
    assert v.trainee_id({"JUPYTERHUB_USER": "  "}) == v.SELF_STUDY_ID == v.trainee_id({})


def test_a_notebook_with_variants_on_shows_its_trainees_items_and_names_them_by_place(real, tmp_path, monkeypatch):
    """Built with variants on: one test cell per place, the hidden test holding every pool item's key (the
    release strips it); in the kernel, the exercise shows the hub user's variant and item n is its n-th."""
    from framelab.bank.build import build, dumps, public_content
    from framelab.views.lesson import Lesson

    shutil_copy = __import__("shutil").copytree
    shutil_copy(ROOT / "source" / "m3_three_moves", tmp_path / "source" / "m3_three_moves")
    module = real.module("m3")
    sub = Bank(real.root, {"m3": module}, [])
    result = build(sub, tmp_path / "source", setting=ON)
    assert result.problems == []
    nb = json.loads((tmp_path / "source" / "m3_three_moves" / "m3_three_moves.ipynb").read_text())
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert [i for i in ids if i and i.startswith("moves__")] == [f"moves__{n}" for n in range(1, 13)]
    third = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "moves__3")
    assert 'check_answer(moves, lesson.item("moves", 3), kind="moves")' in "".join(third["source"])
    content = tmp_path / "source" / "m3_three_moves" / "content.json"
    assert content.read_text() == dumps(public_content(real, module, ON))

    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # no widgets
    monkeypatch.delenv("FRAMELAB_STUDENT", raising=False)
    lesson = Lesson.here(content.parent)
    asked = v.variant(module, real, "ana")["moves"]
    assert lesson.exercise("moves").item_ids == asked
    assert [lesson.item("moves", n) for n in (1, 12)] == [asked[0], asked[11]]
    with pytest.raises(IndexError, match="there is no item 13"):
        lesson.item("moves", 13)
    monkeypatch.setenv("JUPYTERHUB_USER", "ben")  # changed in a cell: the notebook shows ben's items
    assert lesson.exercise("moves").item_ids == v.variant(module, real, "ben")["moves"]
