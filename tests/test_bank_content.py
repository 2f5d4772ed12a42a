"""The real bank: valid, big and varied enough to teach and assess from."""

from __future__ import annotations

from collections import Counter

from framelab.bank.loader import counts, validate_bank
from framelab.core.vocabulary import LABELS

MIN_RESPONSES = 400
MIN_PER_LABEL = 30
MIN_RELATION_VIGNETTES = 60
MIN_BOUNDARY_VIGNETTES = 50
MIN_SITUATIONS = 25


def test_the_bank_validates(root):
    full = validate_bank(root / "modules")  # every check, not only the ones made at each use
    assert full.problems == [], "\n".join(map(str, full.problems[:20]))


def test_the_bank_meets_its_counts(bank):
    c = counts(bank)
    assert c["responses"]["total"] >= MIN_RESPONSES, c["responses"]
    for label in LABELS:
        assert c["responses"]["by_label"][label] >= MIN_PER_LABEL, (label, c["responses"]["by_label"])
    v = c["vignettes"]
    assert v["transference"] + v["countertransference"] + v["neither"] >= MIN_RELATION_VIGNETTES, v
    assert min(v["transference"], v["countertransference"], v["neither"]) >= 15, v
    assert v["boundary_kind"] >= MIN_BOUNDARY_VIGNETTES, v


def test_splits_are_disjoint_and_both_used(bank):
    c = counts(bank)
    assert c["responses"]["overlap"] == 0
    assert min(c["responses"]["by_split"].values()) >= 100, c["responses"]["by_split"]
    for family in ("relation", "boundary", "alliance"):
        splits = Counter(v.split for v in bank.vignettes if v.family == family)
        assert min(splits["practice"], splits["assessment"]) >= 15, (family, splits)


def test_the_bank_is_varied(bank):
    responses = bank.responses
    situations = Counter(r.situation for r in responses)
    assert len(situations) >= MIN_SITUATIONS, sorted(situations)
    for needed in (
        "coffee",
        "social-media",
        "gift",
        "texting",
        "wedding-invitation",
        "chance-meeting",
        "business-offer",
        "after-last-session",
        "hug",
        "personal-questions",
    ):
        assert situations[needed] >= 5, (needed, situations[needed])
    english = Counter(r.english for r in responses)
    assert english["british"] >= 60 and english["american"] >= 60, english
    tone = Counter(r.tone for r in responses)
    assert tone["formal"] >= 30 and tone["casual"] >= 60, tone
    lengths = sorted(len(r.text.split()) for r in responses)
    assert lengths[len(lengths) // 10] <= 15 and lengths[-len(lengths) // 10] >= 45, (lengths[:5], lengths[-5:])
    difficulty = Counter(r.difficulty for r in responses)
    assert min(difficulty.values()) >= 60, difficulty
    # no client line is reused more than three times
    assert max(Counter(r.client for r in responses).values()) <= 3


def test_hard_near_misses_are_there(bank):
    """Items that combine a good move with a backfire, the ones trainees most often misjudge."""
    combos = Counter(frozenset(r.labels) for r in bank.responses)
    for pair in (
        {"validate", "gentle_dodge"},
        {"validate", "vague_rule"},
        {"validate", "ignore_redirect"},
        {"gentle_dodge", "mixed_message"},
        {"recenter", "mixed_message"},
    ):
        assert combos[frozenset(pair)] >= 3, (pair, combos[frozenset(pair)])
    assert sum(r.difficulty == 3 for r in bank.responses if r.split == "assessment") >= 30


def test_every_rationale_is_short_and_teaches(bank):
    for item in [*bank.responses, *bank.vignettes]:
        sentences = [s for s in item.rationale.replace("e.g.", "eg").split(". ") if s.strip()]
        assert 1 <= len(sentences) <= 3, (item.id, item.rationale)
        assert len(item.rationale) >= 40, (item.id, item.rationale)
