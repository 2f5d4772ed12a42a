"""The fixed eight-label vocabulary for responses to a client's boundary bid.

Every labelled response, exercise, role-play branch and piece of feedback uses exactly
these labels (see the project's design notes). Nothing here imports anything heavy.
"""

from __future__ import annotations

import difflib
from typing import Final

#: The labels, in teaching order: the three moves first, then the five that backfire.
LABELS: Final[tuple[str, ...]] = (
    "validate",
    "state_boundary",
    "recenter",
    "gentle_dodge",
    "vague_rule",
    "ignore_redirect",
    "mixed_message",
    "collapse_frame",
)

THREE_MOVES: Final[tuple[str, ...]] = LABELS[:3]
BACKFIRES: Final[tuple[str, ...]] = LABELS[3:]

#: Short, plain names for menus.
TITLES: Final[dict[str, str]] = {
    "validate": "Validate the feeling",
    "state_boundary": "State the boundary",
    "recenter": "Re-center on the work",
    "gentle_dodge": "Gentle dodge",
    "vague_rule": "Vague rule",
    "ignore_redirect": "Ignore and redirect",
    "mixed_message": "Mixed message",
    "collapse_frame": "Collapse the frame",
}

#: One-line meanings, in the curriculum's own words.
MEANINGS: Final[dict[str, str]] = {
    "validate": "names and affirms the feeling or the good intent behind the bid",
    "state_boundary": "a clear, owned limit, tied to protecting the client's work",
    "recenter": "invites curiosity about what prompted the bid, as material for the work",
    "gentle_dodge": "a logistical or 'not now' excuse that implies yes some other time",
    "vague_rule": "hides behind rules, codes or policy as the reason; impersonal",
    "ignore_redirect": "leaves the bid unanswered and moves on to something else",
    "mixed_message": "says no while signalling a wish to say yes, or leaves the door ajar",
    "collapse_frame": "accepts, or agrees to arrange, the social or dual relationship",
}


def is_label(value: object) -> bool:
    """True only for a plain ``str`` (not a subclass) that is one of the eight labels."""
    return type(value) is str and value in LABELS


def nearest_label(value: str) -> str | None:
    """The closest valid label to a misspelt one, or ``None`` when nothing is close."""
    cleaned = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if cleaned in LABELS:
        return cleaned
    close = difflib.get_close_matches(cleaned, LABELS, n=1, cutoff=0.5)
    return close[0] if close else None


def menu_text(label: str) -> str:
    """How a label appears in a menu: its title and meaning."""
    return f"{TITLES[label]}: {MEANINGS[label]}"
