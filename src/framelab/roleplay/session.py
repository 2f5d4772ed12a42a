"""A role-play's state as plain data: the turns said so far and where the conversation is
(:class:`Session`), saved as JSON and checked again when it is read back (:meth:`Session.from_json`).
:mod:`framelab.roleplay.engine` moves a session on and re-exports these names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from framelab.core.vocabulary import LABELS
from framelab.roleplay.reactions import UNCLEAR

END = "END"
FORMAT = "framelab-transcript/1"
MAX_REPLY_CHARS = 5000
MAX_TRANSCRIPT_BYTES = 2_000_000
MAX_TURN_COUNT = 40  # a saved transcript with more turns than this is not one the course wrote
#: What a client says when they cannot tell what the reply meant, where the scenario has no line of its own.
UNCLEAR_REACTION = "(looks at you, unsure) Sorry... I'm not sure what you mean. Can you say that another way?"


class RolePlayError(ValueError):
    """Something the trainee can fix: the message says what."""


@dataclass
class Turn:
    node: str
    client: str
    reply: str
    ticked: list[str]  # what the trainee meant (their self-assessment)
    detected: list[str] | None  # what the words did (the reading's labels)
    category: str  # what the client reacted to: a label, or "unclear"
    reaction: str
    next: str
    #: per label the words carried: {"confidence": 0-1 or None, "cues": [phrases]}
    evidence: dict[str, dict[str, Any]] | None = None
    #: True when the reading was unsure (the client asked what the trainee meant; no label is shown)
    unsure: bool = False
    #: the chance that the dominant label is right, where the reader can say
    confidence: float | None = None
    #: which reader read the words: "detector", "cue rules", "repair cues" or "given"
    source: str = "given"
    #: whether the reply asked directly about risk (framelab.detector.safety); None in older transcripts
    checks_safety: bool | None = None
    #: at a risk cue, what the client answered the reply's check ("yes", "no", "unsure"; roleplay.safety)
    risk_answer: str | None = None
    #: True where the reply backfired where the scenario would end: the client waits for a repair (roleplay.repair)
    rupture: bool = False
    #: on a reply to a rupture, read with the repair rubric: "made" (it landed) or "missed"
    repair: str | None = None


_TURN_FIELDS = {f.name for f in fields(Turn)}


def _turn_from_json(raw: Any) -> Turn:
    if type(raw) is not dict or not set(raw) <= _TURN_FIELDS:
        raise RolePlayError("a turn in the transcript is damaged")
    try:
        turn = Turn(**raw)
    except TypeError:
        raise RolePlayError("a turn in the transcript is damaged") from None
    texts = (turn.node, turn.client, turn.reply, turn.category, turn.reaction, turn.next, turn.source)
    if not all(isinstance(x, str) for x in texts) or type(turn.ticked) is not list:
        raise RolePlayError("a turn in the transcript is damaged")
    if type(turn.unsure) is not bool or (turn.confidence is not None and type(turn.confidence) not in (int, float)):
        raise RolePlayError("a turn in the transcript is damaged")
    if turn.detected is not None and type(turn.detected) is not list:
        raise RolePlayError("a turn in the transcript is damaged")
    if not all(lab in LABELS for lab in [*turn.ticked, *(turn.detected or []), turn.category] if lab != UNCLEAR):
        raise RolePlayError("a turn in the transcript has an unknown label")
    if turn.checks_safety not in (None, True, False) or turn.risk_answer not in (None, "yes", "no", "unsure"):
        raise RolePlayError("a turn in the transcript is damaged")
    if turn.evidence is not None and not _evidence_ok(turn.evidence):
        raise RolePlayError("a turn in the transcript is damaged")
    if type(turn.rupture) is not bool or turn.repair not in (None, "made", "missed"):
        raise RolePlayError("a turn in the transcript is damaged")
    return turn


def _evidence_ok(evidence: Any) -> bool:
    if type(evidence) is not dict:
        return False
    for ev in evidence.values():
        if type(ev) is not dict or type(ev.get("cues", [])) is not list:
            return False
        if not all(isinstance(c, str) for c in ev.get("cues", [])):
            return False
        conf = ev.get("confidence")
        if conf is not None and (type(conf) not in (int, float) or not 0 <= conf <= 1):
            return False
    return True


@dataclass
class Session:
    scenario_id: str
    title: str
    node: str
    turns: list[Turn] = field(default_factory=list)
    #: the index of the turn whose reply backfired, while the client waits for a repair; None otherwise
    rupture: int | None = None

    @property
    def done(self) -> bool:
        return self.node == END

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any, scenario: dict[str, Any]) -> Session:
        """Rebuild a saved session, checking it still fits the scenario."""
        if type(data) is not dict or data.get("format") != FORMAT:
            raise RolePlayError("not a Frame Lab transcript")
        if data.get("scenario_id") != scenario["id"]:
            raise RolePlayError(f"the transcript is for scenario '{data.get('scenario_id')}'")
        node = data.get("node")
        if type(node) is not str or (node != END and node not in scenario["nodes"]):
            raise RolePlayError(f"the transcript stops at '{node}', which this scenario no longer has")
        raw_turns = data.get("turns", [])
        if type(raw_turns) is not list or len(raw_turns) > MAX_TURN_COUNT:
            raise RolePlayError("the transcript's list of turns is damaged")
        turns = [_turn_from_json(raw) for raw in raw_turns]
        rupture = data.get("rupture")
        if rupture is not None and (type(rupture) is not int or not 0 <= rupture < len(turns) or node == END):
            raise RolePlayError("the transcript's rupture is damaged")
        if rupture is not None and not turns[rupture].rupture:
            raise RolePlayError("the transcript's rupture is damaged")
        return cls(scenario["id"], scenario["title"], node, turns, rupture)
