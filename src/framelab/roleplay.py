"""The role-play engine: a branching simulated client, as plain functions over plain data.

A scenario (from the bank, via ``content.json``) is a small graph: each node is something the
client says, with one branch per response label saying how the client reacts and where the
conversation goes next (another node, or ``END`` and the debrief).

The trainee types a reply and ticks the moves they think it makes. Those ticks decide the
branch (:func:`framelab.practice.category`). Where a detector is available, it also proposes
labels; when the two disagree, the debrief says so. A session is saved as JSON after every
turn, so a kernel restart resumes where it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .practice import category
from .vocabulary import LABELS, THREE_MOVES, TITLES

END = "END"
FORMAT = "framelab-transcript/1"
MAX_REPLY_CHARS = 5000
#: A detector takes a reply (and the client's line) and returns labels, or None when it cannot say.
#: It may instead return an object with ``labels``, ``scores`` (label -> probability) and ``cues``
#: (label -> phrases), as :class:`framelab.detect.Detector` does; the turn then keeps that evidence.
Detector = Callable[[str, str], Any]


class RolePlayError(ValueError):
    """Something the trainee can fix: the message says what."""


@dataclass
class Turn:
    node: str
    client: str
    reply: str
    ticked: list[str]
    detected: list[str] | None
    category: str
    reaction: str
    next: str
    #: per detected label: {"confidence": 0-1, "cues": [phrases]}, when the detector gave them
    evidence: dict[str, dict[str, Any]] | None = None


@dataclass
class Session:
    scenario_id: str
    title: str
    node: str
    turns: list[Turn] = field(default_factory=list)

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
        if node != END and node not in scenario["nodes"]:
            raise RolePlayError(f"the transcript stops at '{node}', which this scenario no longer has")
        turns = []
        for raw in data.get("turns", []):
            if type(raw) is not dict:
                raise RolePlayError("a turn in the transcript is damaged")
            try:
                turn = Turn(**raw)
            except TypeError:
                raise RolePlayError("a turn in the transcript is damaged") from None
            if not all(lab in LABELS for lab in turn.ticked):
                raise RolePlayError("a turn in the transcript has an unknown label")
            turns.append(turn)
        return cls(scenario["id"], scenario["title"], node, turns)


def start(scenario: dict[str, Any]) -> Session:
    return Session(scenario["id"], scenario["title"], scenario["start"])


def client_line(scenario: dict[str, Any], session: Session) -> str | None:
    """What the client is saying now, or None when the conversation has ended."""
    return None if session.done else scenario["nodes"][session.node]["client"]


def respond(
    scenario: dict[str, Any],
    session: Session,
    reply: str,
    ticked: Sequence[str],
    detector: Detector | None = None,
) -> Turn:
    """Take the trainee's reply; move the session on; return the turn (with the client's reaction)."""
    if session.done:
        raise RolePlayError("this conversation has ended: open the debrief, or restart")
    if type(reply) is not str or not reply.strip():
        raise RolePlayError("type your reply to the client first")
    if len(reply) > MAX_REPLY_CHARS:
        raise RolePlayError(f"your reply is {len(reply):,} characters; keep it under {MAX_REPLY_CHARS:,}")
    ticks = [lab for lab in LABELS if lab in set(ticked)]
    unknown = [t for t in ticked if t not in LABELS]
    if unknown:
        raise RolePlayError(f"unknown label(s): {', '.join(map(str, unknown))}")
    node = scenario["nodes"][session.node]
    detected, evidence = None, None
    if detector is not None:
        found = detector(reply, node["client"])
        if found is not None:
            labels = set(getattr(found, "labels", found))
            detected = [lab for lab in LABELS if lab in labels]
            scores, cues = getattr(found, "scores", None), getattr(found, "cues", None) or {}
            if scores:
                evidence = {
                    lab: {"confidence": float(scores[lab]), "cues": list(cues.get(lab, []))} for lab in detected
                }
    basis = ticks or detected
    if not basis:
        raise RolePlayError("tick the moves you think your reply makes, so the client can react")
    cat = category(basis)
    branch = node["branches"][cat]
    turn = Turn(
        session.node, node["client"], reply.strip(), ticks, detected, cat, branch["reaction"], branch["next"], evidence
    )
    session.turns.append(turn)
    session.node = branch["next"]
    return turn


# --------------------------------------------------------------------------- debrief


@dataclass(frozen=True)
class TurnReview:
    turn: Turn
    what_it_did: str
    disagreement: str | None


@dataclass(frozen=True)
class Debrief:
    title: str
    reviews: list[TurnReview]
    moves_seen: dict[str, bool]  # across the whole conversation, by the trainee's own ticks
    model_responses: list[dict[str, Any]]
    prompts: list[str]
    see: list[str]  # module sections to read again


def _names(labels: Sequence[str]) -> str:
    return ", ".join(TITLES[lab] for lab in labels) or "nothing ticked"


def heard(turn: Turn, labels: Sequence[str] | None = None) -> str:
    """What the detector heard, in words: each label with its confidence and cue phrases."""
    labels = turn.detected if labels is None else labels
    if not labels:
        return "nothing it could name"
    parts = []
    for lab in labels:
        ev = (turn.evidence or {}).get(lab)
        if ev:
            cues = ", ".join(f"\u201c{c}\u201d" for c in ev.get("cues", [])[:3])
            parts.append(f"{TITLES[lab]} ({ev['confidence']:.0%}{'; ' + cues if cues else ''})")
        else:
            parts.append(TITLES[lab])
    return "; ".join(parts)


def review(turn: Turn) -> TurnReview:
    did = f"You ticked: {_names(turn.ticked)}. The client reacted to the {TITLES[turn.category].lower()}."
    disagreement = None
    if turn.detected is not None and set(turn.detected) != set(turn.ticked):
        only_you = [lab for lab in turn.ticked if lab not in turn.detected]
        only_it = [lab for lab in turn.detected if lab not in turn.ticked]
        parts = []
        if only_it:
            parts.append(f"the detector also heard {heard(turn, only_it)}")
        if only_you:
            parts.append(f"it did not hear {_names(only_you)}")
        disagreement = (
            "Your ticks and the automatic detector disagree: "
            + "; ".join(parts)
            + ". Read your reply again against the label meanings: the detector can be wrong, and so can we."
        )
    return TurnReview(turn, did, disagreement)


def debrief(scenario: dict[str, Any], session: Session) -> Debrief:
    ticked_any = {lab for t in session.turns for lab in t.ticked}
    seen = {m: m in ticked_any for m in THREE_MOVES}
    missing = [TITLES[m].lower() for m, ok in seen.items() if not ok]
    prompts = ["Which reply would you keep, and which would you change first?"]
    if missing:
        prompts.append(f"You did not tick {', '.join(missing)} in any reply. How could you add it next time?")
    if any(t.category in ("gentle_dodge", "mixed_message") for t in session.turns):
        prompts.append("The client asked again after a reply that left the door ajar. What closed it?")
    return Debrief(
        scenario["title"],
        [review(t) for t in session.turns],
        seen,
        sorted(scenario.get("model_responses", []), key=lambda m: m["level"]),
        prompts,
        list(scenario.get("see", [])),
    )


def transcript_markdown(session: Session, scenario: dict[str, Any] | None = None) -> str:
    """A transcript for supervision: what was said, what each reply did, and the model responses."""
    lines = [f"# Role-play: {session.title}", ""]
    if scenario:
        ctx = scenario.get("context", {})
        lines += [f"*{ctx.get('stage', '')}* {ctx.get('background', '')}".strip(), ""]
    for n, turn in enumerate(session.turns, 1):
        lines += [
            f"## Turn {n}",
            "",
            f"**Client:** {turn.client}",
            "",
            f"**Me:** {turn.reply}",
            "",
            f"*Moves I ticked:* {_names(turn.ticked)}.",
        ]
        if turn.detected is not None:
            lines.append(f"*Detector heard:* {heard(turn)}.")
        lines += ["", f"**Client's reaction:** {turn.reaction}", ""]
    lines.append("*The conversation ended.*" if session.done else "*The conversation was still going.*")
    if scenario and scenario.get("model_responses"):
        lines += ["", "## Model responses", ""]
        for m in sorted(scenario["model_responses"], key=lambda m: m["level"]):
            lines += [f"**Level {m['level']}.** {m['text']}", "", f"*Why it works:* {m['commentary']}", ""]
    if scenario and scenario.get("see"):
        lines += ["", "Read again in the module: " + "; ".join(f"*{s}*" for s in scenario["see"]) + "."]
    lines += ["", "## For supervision", "", "- What did I feel as the client pressed?", "- What would I say next time?"]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- saving


def transcript_path(folder: Path, scenario_id: str) -> Path:
    return folder / f"roleplay-{scenario_id}.json"


def save(session: Session, path: Path) -> None:
    """Write the transcript atomically."""
    payload = json.dumps(session.to_json(), indent=1, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".roleplay-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, scenario: dict[str, Any]) -> Session | None:
    """A saved session, or None when there is none. A damaged file raises RolePlayError."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RolePlayError(f"{path.name} is damaged ({exc})") from None
    return Session.from_json(data, scenario)
