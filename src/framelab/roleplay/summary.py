"""The debrief's summary lines, as plain text the notebook, the terminal and the Markdown transcript share:
which moves the words made (or the ticks meant), said so that it agrees with how the conversation ended,
and each rupture set beside the reply that answered it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framelab.core.rubrics import Rubric

#: The endings a summary may call a success without a "but".
GOOD_ENDINGS: tuple[str, ...] = ("opened", "held")


def moves_line(seen: Mapping[str, bool], rb: Rubric, ending: Any = None) -> str:
    """ "made Validate the feeling, State the boundary; not yet Re-center on the work." Where the ending was
    not a good one (the client pulled back, the door was left ajar, a risk check was missed), the line says
    so, so that "all three" never reads as success on its own."""
    made = [rb.title(m) for m, ok in seen.items() if ok]
    not_made = [rb.title(m) for m, ok in seen.items() if not ok]
    line = (f"made {', '.join(made)}" if made else "none made") + (
        f"; not yet {', '.join(not_made)}" if not_made else "; all three"
    )
    kind = getattr(ending, "kind", None)
    if kind is not None and kind not in GOOD_ENDINGS:
        line += f". Even so, {ending.title}: the moves were in your words, but not together when it mattered"
    return line + "."


def rupture_lines(rupture: Any, repair: Any) -> list[str]:
    """A rupture and its repair side by side, as lines of text (TurnReviews from the engine's debrief)."""
    out = [
        f"The reply that backfired: {rupture.turn.reply}",
        f"  {rupture.words_did}",
        f"  The client: {rupture.turn.reaction}",
    ]
    if repair is None:
        return [*out, "Your repair: not yet made (the client is waiting)."]
    landed = (
        "it landed, and the conversation went on" if repair.turn.repair == "made" else "it missed, and that ended it"
    )
    return [
        *out,
        f"Your repair: {repair.turn.reply}",
        f"  {repair.words_did}",
        f"  The client: {repair.turn.reaction} ({landed})",
    ]
