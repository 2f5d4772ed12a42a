from framelab.core.vocabulary import BACKFIRES, LABELS, MEANINGS, THREE_MOVES, TITLES, is_label, nearest_label


def test_the_eight_labels_are_fixed():
    assert LABELS == (
        "validate",
        "state_boundary",
        "recenter",
        "gentle_dodge",
        "vague_rule",
        "ignore_redirect",
        "mixed_message",
        "collapse_frame",
    )
    assert set(THREE_MOVES) | set(BACKFIRES) == set(LABELS)
    assert set(TITLES) == set(MEANINGS) == set(LABELS)


def test_only_plain_strings_are_labels():
    class Sneaky(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    assert is_label("validate")
    assert not is_label(Sneaky("validate"))
    assert not is_label("Validate")
    assert not is_label(["validate"])


def test_nearest_label_suggests_the_fix():
    assert nearest_label("gental_dodge") == "gentle_dodge"
    assert nearest_label("state boundary") == "state_boundary"
    assert nearest_label("Re-center") == "recenter"
    assert nearest_label("zzzz") is None
