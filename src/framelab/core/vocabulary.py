"""The fixed eight-label vocabulary for responses to a client's boundary bid.

Every labelled response, exercise, role-play branch and piece of feedback uses exactly
these labels (see the project's design notes). Nothing here imports anything heavy.
"""

from __future__ import annotations

import difflib
import re
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


# --------------------------------------------------------------------------- other answer sets
# Vignette exercises (Modules 2 and 4) and the moves exercises (Module 3) answer from these.

RELATIONS: Final[dict[str, str]] = {
    "transference": "Transference: the client brings feelings from earlier relationships to the therapist",
    "countertransference": "Countertransference: the therapist's own reactions to the client",
    "neither": "Neither: a realistic response to what is actually happening",
}

NEXT_ACTIONS: Final[dict[str, str]] = {
    "explore_in_session": "Explore it together in the session",
    "reflect_and_supervise": "Notice it, reflect, and take it to supervision",
    "repair_directly": "Acknowledge it, apologise where due, and clarify",
    "respond_practically": "Answer the practical matter plainly",
}

BOUNDARY_KINDS: Final[dict[str, str]] = {
    "role": "Role: helper, not friend, family, partner or business associate",
    "confidentiality": "Confidentiality, and its legal limits",
    "time_space": "Time and space: when, where and how long sessions are",
    "communication": "Communication: contact between sessions, texts, email, social media",
    "physical": "Physical: touch and closeness",
    "financial": "Financial: fees, payment, gifts of value, loans and deals",
    "emotional": "Emotional: the therapist's own feelings, self-disclosure, over-identification",
}

#: Crossing or violation (Gutheil & Gabbard): the second question about a boundary vignette.
SEVERITIES: Final[dict[str, str]] = {
    "crossing": "A crossing: a departure from usual practice that does no harm, and may help the work",
    "violation": "A violation: it harms or exploits the client, or serves the therapist's own needs",
}

#: Does a therapist's behaviour strengthen or strain the working alliance (Bordin's goals, tasks and
#: bond)? The question asked about an alliance vignette in Module 5.
ALLIANCE_EFFECTS: Final[dict[str, str]] = {
    "strengthens": "Strengthens the alliance: it builds agreement on goals or tasks, or the bond",
    "strains": "Strains the alliance: it risks a rupture in goals, tasks or the bond, or leaves one unrepaired",
}

#: Does a reply check for risk first (Module 4, section 6b; the codebook's rule "checking for risk")? A skill
#: of its own, beside the eight labels: it earns none of them, and it is graded on its own.
RISK_CHECKS: Final[dict[str, str]] = {
    "yes": "Yes: it asks directly about suicide, self-harm, harm from or to others, or safety tonight",
    "partly": 'Partly: only a vague check on how the client is ("are you ok?", "is anyone with you?")',
    "no": "No: it asks nothing about risk",
}

NONE_OF_THE_MOVES: Final = "none"

#: For each exercise kind: the values an answer may take, with their menu text, and whether
#: an answer is a set of values (tick boxes) rather than one (a menu).
OPTION_SETS: Final[dict[str, tuple[dict[str, str], bool]]] = {
    "single_label": ({lab: menu_text(lab) for lab in LABELS}, False),
    "moves": (
        {**{m: menu_text(m) for m in THREE_MOVES}, NONE_OF_THE_MOVES: "None of the three moves"},
        True,
    ),
    "missing_move": ({m: menu_text(m) for m in THREE_MOVES}, False),
    "relation": (RELATIONS, False),
    "next_action": (NEXT_ACTIONS, False),
    "boundary": (BOUNDARY_KINDS, False),
    "severity": (SEVERITIES, False),
    "alliance": (ALLIANCE_EFFECTS, False),
    "risk_check": (RISK_CHECKS, False),
}


_SINGLE_WORD = ("validate", "recenter")  # also English words: replaced only as "(validate)"
_CODE = re.compile(
    r"\((" + "|".join(LABELS) + r")\)|\b(" + "|".join(x for x in LABELS if x not in _SINGLE_WORD) + r")\b"
)


def readable(text: str) -> str:
    """Prose for trainees with the labels' internal codes written as their names:
    "(gentle_dodge)" becomes "(Gentle dodge)", and a bare "collapse_frame" becomes "“Collapse the frame”"."""
    return _CODE.sub(lambda m: f"({TITLES[m[1]]})" if m[1] else f"“{TITLES[m[2]]}”", text)
