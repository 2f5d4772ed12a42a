"""Each kind of bad content file gets a message naming the file, line, item, field and fix."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from framelab.bank.loader import BankError, counts, validate_bank
from framelab.cli import main

MODULE = """\
id: m9
title: Test module
minutes: 10
objectives: [Learn a thing.]
key_points: [A thing was learnt.]
references:
  - {key: ref, text: "A reference."}
exercises:
  - {id: quiz, kind: single_label, title: Quiz, items: [m9-r002]}
"""


def item(iid: str, text: str, labels: str = "[gentle_dodge]", split: str = "practice", **extra: str) -> str:
    fields = {
        "id": iid,
        "situation": "coffee",
        "client": '"Coffee some time?"',
        "text": f'"{text}"',
        "labels": labels,
        "rationale": '"A reason that teaches."',
        "difficulty": "2",
        "split": split,
        "english": "british",
        "register": "casual",
    }
    fields.update(extra)
    body = "\n".join(f"  {k}: {v}" for k, v in fields.items() if v is not None)
    return "- " + body[2:] + "\n"


GOOD = item("m9-r001", "My diary is packed this month, sorry.") + item(
    "m9-r002", "Rules are rules, I'm afraid.", "[vague_rule]", "assessment"
)


def make_bank(tmp_path: Path, responses: str, module: str = MODULE) -> Path:
    folder = tmp_path / "modules" / "m9_test"
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(module)
    (folder / "responses.yaml").write_text(responses)
    return tmp_path / "modules"


def only_problem(root: Path):
    bank = validate_bank(root)
    assert len(bank.problems) == 1, "\n".join(map(str, bank.problems))
    return bank.problems[0]


def test_a_good_bank_has_no_problems(tmp_path):
    bank = validate_bank(make_bank(tmp_path, GOOD))
    assert bank.problems == []
    assert [r.id for r in bank.responses] == ["m9-r001", "m9-r002"]


def test_unknown_label_names_line_and_nearest_label(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", "Not now, maybe later.", "[gental_dodge]")))
    assert (p.file, p.item, p.field) == ("modules/m9_test/responses.yaml", "m9-r003", "labels")
    assert p.line == 25  # the 'labels:' line of the third item (items are 10 lines long)
    assert "unknown label 'gental_dodge'" in p.message
    assert "did you mean 'gentle_dodge'" in p.fix
    assert str(p).startswith("modules/m9_test/responses.yaml:25: item m9-r003, field 'labels': unknown label")


def test_duplicate_id_points_at_the_first_use(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r001", "A different reply entirely, about tea.")))
    assert p.item == "m9-r001" and p.field == "id" and p.line == 21
    assert "duplicate id" in p.message and "modules/m9_test/responses.yaml:1" in p.message
    assert "new, unused id" in p.fix


def test_missing_rationale(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", "Sure, Thursday works.", rationale=None)))
    assert (p.item, p.field, p.message) == ("m9-r003", "rationale", "is missing")
    assert p.line == 21 and "add a 'rationale:' line" in p.fix


def test_blank_rationale(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", "Sure, Thursday works.", rationale='"   "')))
    assert (p.item, p.field) == ("m9-r003", "rationale") and "blank" in p.message


def test_empty_label_set(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", "Sure, Thursday works.", "[]")))
    assert (p.item, p.field) == ("m9-r003", "labels")
    assert "empty" in p.message and "at least one label" in p.fix


def test_text_duplicated_across_splits(tmp_path):
    bad = GOOD + item("m9-r003", "My diary is packed this month - sorry!", split="assessment")
    p = only_problem(make_bank(tmp_path, bad))
    assert (p.item, p.field) == ("m9-r003", "text")
    assert "also a practice item (m9-r001)" in p.message and "rewrite one" in p.fix


def test_templated_near_duplicate_one_word_swapped(tmp_path):
    bad = GOOD + item("m9-r003", "My diary is packed this week, sorry.")
    p = only_problem(make_bank(tmp_path, bad))
    assert p.item == "m9-r003" and "near-duplicate of m9-r001" in p.message


def test_templated_near_duplicate_by_jaccard(tmp_path):
    long_a = "I am so glad you asked, and I will not meet outside, because this room keeps the work safe for you."
    long_b = "I am so glad you asked, and I will not meet outside, because this room keeps our work safe for you today."
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", long_a) + item("m9-r004", long_b)))
    assert p.item == "m9-r004" and "near-duplicate of m9-r003" in p.message and "% of words shared" in p.message


def test_different_texts_on_one_theme_are_not_near_duplicates(tmp_path):
    a = "I won't be meeting for coffee; keeping us to this room is what keeps it safe for you."
    b = "Coffee is a no from me, and I'd like us to look at what made you want to ask."
    assert validate_bank(make_bank(tmp_path, GOOD + item("m9-r003", a) + item("m9-r004", b))).problems == []


def test_bad_difficulty_and_split_values(tmp_path):
    bank = validate_bank(
        make_bank(tmp_path, GOOD + item("m9-r003", "Sure, Thursday.", difficulty="5", split="homework"))
    )
    fields = sorted(p.field for p in bank.problems)
    assert fields == ["difficulty", "split"]
    assert all("use one of" in p.fix for p in bank.problems)


def test_misspelt_key(tmp_path):
    p = only_problem(make_bank(tmp_path, GOOD + item("m9-r003", "Sure, Thursday.", rationalle='"x"')))
    assert p.field == "rationalle" and "remove 'rationalle' or correct its spelling" in p.fix


def test_malformed_yaml_names_the_line(tmp_path):
    broken = GOOD + '- id: m9-r003\n  text: "unclosed\n  labels: [validate\n'
    p = only_problem(make_bank(tmp_path, broken))
    assert p.file == "modules/m9_test/responses.yaml" and p.line == 22  # where the unclosed quote opens
    assert "not valid YAML" in p.message and "indentation and quoting" in p.fix


def test_exercise_must_use_single_label_assessment_items(tmp_path):
    module = MODULE.replace("items: [m9-r002]", "items: [m9-r001, m9-r404]")
    bank = validate_bank(make_bank(tmp_path, GOOD, module))
    messages = sorted(str(p) for p in bank.problems)
    assert len(messages) == 2
    assert "m9-r001" in messages[0] and "only assessment items" in messages[0]
    assert "m9-r404" in messages[1] and "no such item" in messages[1]


def test_missing_module_yaml(tmp_path):
    (tmp_path / "modules" / "m9_test").mkdir(parents=True)
    p = only_problem(tmp_path / "modules")
    assert p.file == "modules/m9_test/module.yaml" and p.message == "is missing"


def test_scenario_problems_are_found(tmp_path):
    root = make_bank(tmp_path, GOOD)
    branches = "\n".join(f"        {lab}: {{reaction: 'Hm.', next: END}}" for lab in ("validate", "recenter"))
    (root / "m9_test" / "scenarios.yaml").write_text(
        textwrap.dedent(
            """\
            - id: door
              module: m9
              title: At the door
              situation: coffee
              context: {stage: Late, background: A client.}
              start: bid
              nodes:
                bid:
                  client: Coffee?
                  branches:
            """
        )
        + branches.replace("recenter: {reaction: 'Hm.', next: END}", "recenter: {reaction: 'Hm.', next: nowhere}")
        + "\n  model_responses:\n    - {level: 1, text: A reply., commentary: Why.}\n"
    )
    messages = [str(p) for p in validate_bank(root).problems]
    assert any("no branch for state_boundary" in m for m in messages), messages
    assert any("leads to 'nowhere'" in m and "use END" in m for m in messages), messages


def test_cli_validate_lists_problems_and_exits_1(tmp_path, capsys):
    root = make_bank(tmp_path, GOOD + item("m9-r003", "Nope.", "[bogus]"))
    assert main(["validate", "--modules", str(root)]) == 1
    out = capsys.readouterr()
    assert "item m9-r003, field 'labels': unknown label 'bogus'" in out.out
    assert "1 problem(s) found" in out.err


def test_cli_bank_json_shape(tmp_path, capsys):
    root = make_bank(tmp_path, GOOD)
    assert main(["bank", "--json", "--modules", str(root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"responses", "vignettes"}
    assert set(data["responses"]) == {"total", "by_label", "by_split", "overlap"}
    assert set(data["vignettes"]) == {"transference", "countertransference", "neither", "boundary_kind", "alliance"}
    assert data["responses"]["total"] == 2
    assert data["responses"]["by_label"]["gentle_dodge"] == 1
    assert data["responses"]["by_split"] == {"practice": 1, "assessment": 1}
    assert data["responses"]["overlap"] == 0
    assert data == counts(validate_bank(root))


def test_bank_error_lists_problems(tmp_path):
    bank = validate_bank(make_bank(tmp_path, GOOD + item("m9-r003", "Nope.", "[bogus]")))
    with pytest.raises(BankError, match="1 problem"):
        raise BankError(bank.problems)
