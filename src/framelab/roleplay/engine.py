"""The role-play engine: a branching simulated client, as plain functions over plain data.

A scenario (from the bank, via ``content.json``) is a small graph: each node is something the
client says, with one branch per response label saying how the client reacts and where the
conversation goes next (another node, or ``END`` and the debrief).

The trainee types a reply and ticks the moves they *meant* it to make. The client reacts to what
the words did (:mod:`framelab.roleplay.reading`: the detector, or its cue patterns as rules when it cannot
load), never to the ticks; the ticks are the trainee's self-assessment, set beside the reading in
the debrief. Where the reading is unsure, the client asks what the therapist means, as a person
would, and the trainee is not told a label. A session is saved as JSON after every turn, so a
kernel restart resumes where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framelab.core.files import write_text_atomically
from framelab.core.rubrics import Rubric, rubric
from framelab.core.rubrics import get as get_rubric
from framelab.core.vocabulary import LABELS
from framelab.roleplay import reading, safety, summary, words
from framelab.roleplay import repair as repairs
from framelab.roleplay.reactions import UNCLEAR
from framelab.roleplay.reading import Detector
from framelab.roleplay.session import (  # noqa: F401  (re-exported: callers name them from the engine)
    END,
    FORMAT,
    MAX_REPLY_CHARS,
    MAX_TRANSCRIPT_BYTES,
    MAX_TURN_COUNT,
    UNCLEAR_REACTION,
    RolePlayError,
    Session,
    Turn,
)


def start(scenario: dict[str, Any]) -> Session:
    return Session(scenario["id"], scenario["title"], scenario["start"])


def client_line(scenario: dict[str, Any], session: Session) -> str | None:
    """What the client is saying now, or None when the conversation has ended. A node may recall an
    earlier turn (``remember``: label -> words said first, such as "Last time you said maybe..."); a
    ``{said}`` in those words is filled with the trainee's own words from that turn (:func:`quoted`)."""
    if session.done:
        return None
    if session.rupture is not None:
        return repairs.pause(scenario)
    node = scenario["nodes"][session.node]
    said, memory = node["client"], recall(node.get("remember") or {}, session.turns)[:1]
    if not memory:
        return said
    stage = _STAGE.match(said)  # "(the next week, she sits down) ...": the memory comes after the stage direction
    if stage:
        return f"{stage.group(0).rstrip()} {memory[0]} {said[stage.end() :]}"
    return f"{memory[0]} {said}"


def recall(remember: Mapping[str, str], turns: Sequence[Turn]) -> list[str]:
    """What the client remembers of earlier turns, in the node's order: one line per label they heard."""
    out = []
    for lab, text in remember.items():
        said = next((t for t in reversed(turns) if t.category == lab), None)
        if said is not None:
            out.append(text.replace("{said}", quoted(said, lab)))
    return out


_STAGE = re.compile(r"^\([^()]*\)\s+(?=\S)")
_SENTENCE = re.compile(r"[^.!?\u2026]+[.!?\u2026]*")
_CLAUSE = re.compile(r"[^,;:\u2013\u2014]+[,;:\u2013\u2014]*")
QUOTE_WORDS = 12  # the most of a reply the client quotes back


def quoted(turn: Turn, label: str) -> str:
    """The trainee's own words that carried ``label`` in ``turn``, short enough to quote back: the
    clause holding the longest phrase the reading found (with the clause before it, where it is only a
    few words), or, where the reading named no phrase, the reply's first sentence."""
    found = [s.strip() for s in _SENTENCE.findall(turn.reply) if s.strip(" .!?,\u2026")] or [turn.reply]
    sentences = [s for s in found if words.meaningful(s)] or found
    cues = sorted(
        (c for c in ((turn.evidence or {}).get(label) or {}).get("cues", []) if words.meaningful(c)),
        key=len,
        reverse=True,
    )
    for cue in cues:
        for sentence in sentences:
            at = sentence.lower().replace("\u2019", "'").find(cue.lower())
            if at >= 0:
                return _clause(sentence, at)
    return _clip(sentences[0], 0)


def _clause(sentence: str, at: int) -> str:
    spans = [m.span() for m in _CLAUSE.finditer(sentence)]
    k = next((i for i, (a, b) in enumerate(spans) if a <= at < b), 0)
    first = k - 1 if k > 0 and len(sentence[spans[k][0] : spans[k][1]].split()) < 4 else k
    text = sentence[spans[first][0] : spans[k][1]].strip()
    if not words.meaningful(text):  # "I hear you," before the words that carried it: quote the sentence
        return _clip(sentence, len(sentence[:at].split()))
    return _clip(text, len(sentence[spans[first][0] : at].split()))


def _clip(sentence: str, word: int) -> str:
    words = sentence.split()
    start = max(0, min(word - 4, len(words) - QUOTE_WORDS))
    end = start + QUOTE_WORDS
    text = " ".join(words[start:end]).strip(" ,;:.!?\u2026")
    return ("\u2026" if start > 0 else "") + text + ("\u2026" if end < len(words) else "")


def _check_reply(reply: Any, ticked: Sequence[str]) -> list[str]:
    if type(reply) is not str or not reply.strip():
        raise RolePlayError("type your reply to the client first")
    if len(reply) > MAX_REPLY_CHARS:
        raise RolePlayError(f"your reply is {len(reply):,} characters; keep it under {MAX_REPLY_CHARS:,}")
    unknown = [t for t in ticked if t not in LABELS]
    if unknown:
        raise RolePlayError(f"unknown label(s): {', '.join(map(str, unknown))}")
    return [lab for lab in LABELS if lab in set(ticked)]


def read_reply(
    scenario: dict[str, Any], reply: str, client: str, detector: Detector | None, rubric_name: str | None = None
) -> reading.Reading:
    """What the words did (with the scenario's rubric, or ``rubric_name``). A reply the detector refuses
    (it copies a graded item) is not taken."""
    from framelab.detector.boundary import Refused

    try:
        return reading.read(reply, client, detector, rubric_name or rubric(scenario).name)
    except Refused as exc:
        raise RolePlayError(str(exc).rstrip(".")) from None


def _evidence(r: reading.Reading) -> dict[str, dict[str, Any]]:
    return {
        lab: {"confidence": round(r.scores[lab], 3) if lab in r.scores else None, "cues": list(r.cues.get(lab, []))}
        for lab in r.labels
    }


def respond(
    scenario: dict[str, Any],
    session: Session,
    reply: str,
    ticked: Sequence[str],
    detector: Detector | None = None,
) -> Turn:
    """Take the trainee's reply; move the session on; return the turn (with the client's reaction).

    The client reacts to the reading of the words. When the reading is unsure, the client asks what
    the trainee means and the conversation stays where it is; asked twice in a row at the same point,
    the client goes with the likeliest reading, as a person would. A reply that backfires where the
    scenario would end is a rupture: the client reacts in the moment and waits, and the next reply is
    read as a repair (:mod:`framelab.roleplay.repair`)."""
    if session.done:
        raise RolePlayError("this conversation has ended: read the debrief, or restart")
    ticks = _check_reply(reply, ticked)
    if session.rupture is not None:
        return _respond_to_rupture(scenario, session, reply, ticks, detector)
    node = scenario["nodes"][session.node]
    said = client_line(scenario, session) or node["client"]
    r = read_reply(scenario, reply, said, detector)
    check = safety.level(reply)
    answered = safety.answer(node, check)  # a risk question is answered before anything else
    rupture = False
    if answered is not None:
        cat, reaction, nxt = r.category, answered[1]["reaction"], answered[1]["next"]
    elif r.unsure and not _asked_already(session):
        cat, reaction, nxt = UNCLEAR, node.get("unclear") or UNCLEAR_REACTION, session.node
    else:
        branch = node["branches"][r.category]
        cat, reaction, nxt = r.category, _fitted(branch, node, r.category, reply), branch["next"]
        rupture = repairs.is_rupture(scenario, session.node, cat)
        if rupture:
            reaction, nxt = repairs.in_the_moment(reaction)[0], session.node
    turn = Turn(
        session.node, said, reply.strip(), ticks, r.labels, cat, reaction, nxt, _evidence(r), r.unsure,
        r.confidence, r.source, check == "yes", answered[0] if answered else None, rupture,
    )  # fmt: skip
    session.turns.append(turn)
    session.node = nxt
    session.rupture = len(session.turns) - 1 if rupture else None
    return turn


def _asked_already(session: Session) -> bool:
    return bool(session.turns) and session.turns[-1].category == UNCLEAR


def _fitted(branch: Mapping[str, Any], node: Mapping[str, Any], category: str, reply: str) -> str:
    """The branch's reaction, fitted to the words: a re-centring question answered for its topic, and no
    offer turned down that the reply did not make (:mod:`framelab.roleplay.words`)."""
    said = words.recenter_line(branch, node, reply) if category == "recenter" else branch["reaction"]
    return words.fit_offers(said, reply)


def _full_reaction(scenario: dict[str, Any], broke: Turn) -> str:
    """The whole reaction of the branch a rupture took, with what it says happens later."""
    return str(scenario["nodes"][broke.node]["branches"][broke.category]["reaction"])


def _respond_to_rupture(
    scenario: dict[str, Any], session: Session, reply: str, ticks: list[str], detector: Detector | None
) -> Turn:
    """A reply to a rupture, read with the repair rubric: a repair that lands goes on; a missed one ends it."""
    assert session.rupture is not None
    broke = session.turns[session.rupture]
    said = repairs.pause(scenario)
    r = read_reply(scenario, reply, said, detector, repairs.REPAIR)
    check = safety.level(reply)
    node = scenario["nodes"][broke.node]
    answered = safety.answer(node, check)  # a direct question about risk is answered first, here too
    if answered is not None:
        cat, reaction, nxt, outcome = r.category, answered[1]["reaction"], answered[1]["next"], "made"
    elif r.unsure and not _asked_already(session):
        cat, reaction, nxt, outcome = UNCLEAR, node.get("unclear") or UNCLEAR_REACTION, broke.node, None
    elif repairs.landed(r.category):
        (reaction, nxt), cat, outcome = repairs.repaired(scenario, broke.node), r.category, "made"
    else:
        cat, reaction, nxt, outcome = (
            r.category,
            repairs.missed(scenario, _full_reaction(scenario, broke)),
            END,
            "missed",
        )
    turn = Turn(
        broke.node, said, reply.strip(), ticks, r.labels, cat, reaction, nxt, _evidence(r), r.unsure,
        r.confidence, r.source, check == "yes", answered[0] if answered else None, False, outcome,
    )  # fmt: skip
    session.turns.append(turn)
    session.node = nxt
    session.rupture = session.rupture if outcome is None else None
    return turn


# --------------------------------------------------------------------------- debrief


@dataclass(frozen=True)
class TurnReview:
    turn: Turn
    meant: str  # what you meant (your ticks)
    words_did: str  # what your words did (the reading, with the phrases that decided it)
    reacted_to: str  # what the client reacted to
    disagreement: str | None  # where what you meant and what your words did differ

    @property
    def what_it_did(self) -> str:
        return f"{self.meant} {self.words_did} {self.reacted_to}"


@dataclass(frozen=True)
class Debrief:
    title: str
    rubric: Rubric
    reviews: list[TurnReview]
    moves_seen: dict[str, bool]  # across the whole conversation, by what the words did
    moves_meant: dict[str, bool]  # across the whole conversation, by the trainee's own ticks
    model_responses: list[dict[str, Any]]
    prompts: list[str]
    see: list[str]  # module sections to read again
    ending: Ending | None = None  # how the conversation ended (None while it is still going)
    #: each rupture beside the reply to it: (the reply that backfired, the repair, or None while awaited)
    repairs: list[tuple[TurnReview, TurnReview | None]] = field(default_factory=list)


# --------------------------------------------------------------------------- endings

#: How a conversation can end, from the best for the work to the worst. The scenario's branch that
#: ends it may say which (``ending``); where it does not, the kind of reply it ended on decides.
ENDING_KINDS: tuple[str, ...] = ("opened", "held", "hoping", "withdrawn", "collapsed")
DEFAULT_ENDING: dict[str, str] = {
    "recenter": "opened",
    "state_boundary": "held",
    "validate": "hoping",
    "gentle_dodge": "hoping",
    "mixed_message": "hoping",
    "vague_rule": "withdrawn",
    "ignore_redirect": "withdrawn",
    "collapse_frame": "collapsed",
}

#: rubric -> kind -> (title, what it means, a question to take away)
ENDINGS: dict[str, dict[str, tuple[str, str, str]]] = {
    "three_moves": {
        "opened": (
            "the request became part of the work",
            "The client turned towards what was under the request, so it is now something the two of you can explore.",
            "What in your replies made it safe enough for the client to look at that?",
        ),
        "held": (
            "the boundary held",
            "The client heard a clear limit and could live with it; what was under the request is not yet explored.",
            "Where could curiosity about the request have come in?",
        ),
        "hoping": (
            "the door was left ajar",
            "The client left still hoping, so the request will come back, and a later no will cost more.",
            "Which reply left room for a later yes, and what would have closed it kindly?",
        ),
        "withdrawn": (
            "the client pulled back",
            "The client felt turned away or ashamed and closed up; the next session starts with a strain to repair.",
            "Where did the client start to pull back, and what might have helped them feel seen as well as answered?",
        ),
        "collapsed": (
            "the frame gave way",
            "The relationship stepped outside the therapy, and that puts the work, and the client's safety, at risk.",
            "Which reply stepped outside the frame, and what would you take to supervision about it?",
        ),
    },
    "repair": {
        "opened": (
            "the rupture was repaired",
            "The client felt heard, and the strain became something the two of you can work with.",
            "What in your replies made it safe for the client to say more?",
        ),
        "held": (
            "your part was owned, not yet explored",
            "The client could accept what you owned; what the rupture touched for them is still to be explored.",
            "Where could you have asked what it was like for them?",
        ),
        "hoping": (
            "the strain was left unresolved",
            "It was put off or only half answered, so it has not gone away.",
            "What would it have taken to stay with the strain now, rather than later?",
        ),
        "withdrawn": (
            "the client pulled back",
            "The client felt defended against or brushed aside and closed up; they may not come back.",
            "Where did the client start to pull back, and what might have helped them feel heard?",
        ),
        "collapsed": (
            "the roles reversed",
            "Your apology took the centre, and the client ended up looking after you.",
            "How could you own your part without making your own feelings the subject?",
        ),
    },
}


@dataclass(frozen=True)
class Ending:
    kind: str  # one of ENDING_KINDS
    title: str
    note: str
    question: str

    @property
    def line(self) -> str:
        return f"How it ended: {self.title}. {self.note}"


def ending_kind(scenario: Mapping[str, Any], node: str, category: str) -> str | None:
    """The kind of ending a reply read as ``category`` at ``node`` leads to, or None if it does not end there."""
    branch = ((scenario.get("nodes") or {}).get(node) or {}).get("branches", {}).get(category)
    if not isinstance(branch, Mapping) or branch.get("next") != END:
        return None
    kind = branch.get("ending") or DEFAULT_ENDING.get(category)
    return kind if kind in ENDING_KINDS else None


def ending(scenario: Mapping[str, Any], session: Session) -> Ending | None:
    """How the conversation ended, in the scenario's rubric's words; None while it is still going."""
    if not session.done or not session.turns:
        return None
    last = session.turns[-1]
    kind = safety.ending_kind(scenario, last.node, last.risk_answer) or _last_kind(scenario, session.turns)
    table = ENDINGS[rubric(scenario).name]
    cue = safety.missed_cue(scenario, session.turns)
    if cue is not None:  # a missed risk check is named first, whatever else happened
        return Ending(safety.MISSED, *safety.missed_ending(cue, table[kind][0] if kind in table else None))
    if kind is None:
        return None
    title, note, question = table[kind]
    return Ending(kind, title, note, question)


def _last_kind(scenario: Mapping[str, Any], turns: Sequence[Turn]) -> str | None:
    """The ending the last turn led to: a missed repair ends as its rupture would have; a landed one that
    ends it, opened or held (:func:`framelab.roleplay.repair.repaired_ending`)."""
    last = turns[-1]
    if last.repair == "made":
        return repairs.repaired_ending(last.category)
    if last.repair == "missed":
        broke = next((t for t in reversed(turns) if t.rupture), last)
        return ending_kind(scenario, broke.node, broke.category)
    return ending_kind(scenario, last.node, last.category)


def _names(labels: Sequence[str], rb: Rubric | None = None) -> str:
    rb = rb or rubric({})
    return ", ".join(rb.title(lab) for lab in labels) or "nothing ticked"


def heard(turn: Turn, labels: Sequence[str] | None = None, rb: Rubric | None = None) -> str:
    """What the words did, in words: each label with its confidence (where known) and the phrases that decided it."""
    rb = rb or rubric({})
    labels = turn.detected if labels is None else labels
    if not labels:
        return "nothing it could name"
    parts = []
    for lab in labels:
        ev = (turn.evidence or {}).get(lab) or {}
        cues = ", ".join(f"\u201c{c}\u201d" for c in [c for c in ev.get("cues", []) if words.meaningful(c)][:3])
        conf = ev.get("confidence")
        detail = "; ".join(x for x in [f"{conf:.0%}" if isinstance(conf, (int, float)) else "", cues] if x)
        parts.append(f"{rb.title(lab)} ({detail})" if detail else rb.title(lab))
    return "; ".join(parts)


def review(turn: Turn, rb: Rubric | None = None) -> TurnReview:
    """One turn reviewed; a reply to a rupture is named with the repair rubric, as it was read."""
    rb = get_rubric(repairs.REPAIR) if turn.repair else rb or rubric({})
    meant = f"What you meant: {_names(turn.ticked, rb)}."
    if turn.category == UNCLEAR:
        words = "What your words did: they could be heard more than one way, so the client was not sure what you meant."
        return TurnReview(turn, meant, words, "The client asked you to say it another way.", None)
    if turn.unsure:
        words = "What your words did: they could be heard more than one way; the client went with the likeliest."
    else:
        words = f"What your words did: {heard(turn, rb=rb)}."
    reacted = f"The client reacted to: {rb.title(turn.category)}."
    disagreement = None
    if not turn.unsure and turn.detected is not None and set(turn.detected) != set(turn.ticked):
        only_you = [lab for lab in turn.ticked if lab not in turn.detected]
        only_words = [lab for lab in turn.detected if lab not in turn.ticked]
        parts = []
        if only_words:
            parts.append(f"your words also carried {_names(only_words, rb)}")
        if only_you:
            parts.append(f"they did not carry {_names(only_you, rb)}")
        disagreement = (
            "What you meant and what your words did differ: "
            + "; ".join(parts)
            + ". Read your reply again with the phrases above in mind: the reading can be wrong, and so can we."
        )
    return TurnReview(turn, meant, words, reacted, disagreement)


def debrief(scenario: dict[str, Any], session: Session) -> Debrief:
    rb = rubric(scenario)
    same = rb.name == repairs.REPAIR  # a repair turn's labels count towards the moves only under its own rubric
    read_turns = [t for t in session.turns if t.category != UNCLEAR and not t.unsure and (same or not t.repair)]
    did = {lab for t in read_turns for lab in (t.detected or [])}
    meant = {lab for t in session.turns for lab in t.ticked}
    seen = {m: m in did for m in rb.moves}
    missing = [rb.title(m).lower() for m, ok in seen.items() if not ok]
    end = ending(scenario, session)
    prompts = [f"{end.line} {end.question}"] if end else []
    prompts.append("Which reply would you keep, and which would you change first?")
    if missing:
        them = "it" if len(missing) == 1 else "them"
        prompts.append(f"Your words did not yet carry: {'; '.join(missing)}. How could you add {them} next time?")
    ajar = [t for t in session.turns[:-1] if t.category in ("gentle_dodge", "mixed_message")]
    if ajar and (end is None or end.kind != "hoping"):
        prompts.append("The client came back to it after a reply that left the door ajar. What closed it?")
    if any(t.category == UNCLEAR for t in session.turns):
        prompts.append("At least once the client could not tell what you meant. What would make it plain?")
    return Debrief(
        scenario["title"],
        rb,
        [review(t, rb) for t in session.turns],
        seen,
        {m: m in meant for m in rb.moves},
        sorted(scenario.get("model_responses", []), key=lambda m: m["level"]),
        prompts,
        list(scenario.get("see", [])),
        end,
        _pairs(session.turns, rb),
    )


def _pairs(turns: Sequence[Turn], rb: Rubric) -> list[tuple[TurnReview, TurnReview | None]]:
    """Each rupture with the reply that answered it (the next turn read as a repair), side by side."""
    out: list[tuple[TurnReview, TurnReview | None]] = []
    for n, turn in enumerate(turns):
        if turn.rupture:
            fix = next((t for t in turns[n + 1 :] if t.repair), None)
            out.append((review(turn, rb), review(fix) if fix else None))
    return out


def transcript_markdown(session: Session, scenario: dict[str, Any] | None = None) -> str:
    """A transcript for supervision: what was said, what you meant, what the words did, and the model responses."""
    rb = rubric(scenario or {})
    lines = [f"# Role-play: {session.title}", ""]
    if scenario:
        ctx = scenario.get("context", {})
        lines += [f"*{ctx.get('stage', '')}* {ctx.get('background', '')}".strip(), ""]
        missed = ending(scenario, session)
        if missed is not None and missed.kind == safety.MISSED:  # said first, before the turns
            lines += [f"**{missed.line}**", ""]
    for n, turn in enumerate(session.turns, 1):
        rv = review(turn, rb)
        lines += [f"## Turn {n}", "", f"**Client:** {turn.client}", "", f"**Me:** {turn.reply}", ""]
        lines += [f"*{rv.meant}*", f"*{rv.words_did}*"]
        if rv.disagreement:
            lines.append(f"*{rv.disagreement}*")
        lines += ["", f"**Client's reaction:** {turn.reaction}", ""]
    pairs = _pairs(session.turns, rb)
    if pairs:
        lines += ["## Rupture and repair, side by side", ""]
        lines += [f"- {line.strip()}" for broke, fix in pairs for line in summary.rupture_lines(broke, fix)] + [""]
    end = ending(scenario, session) if scenario else None
    if end:
        lines.append(f"*{end.line}*")
    else:
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
    write_text_atomically(path, payload)


def load(path: Path, scenario: dict[str, Any]) -> Session | None:
    """A saved session, or None when there is none. A damaged file raises RolePlayError."""
    from framelab.core.safejson import UnsafeJSON
    from framelab.core.safejson import load as load_json

    if not path.exists():
        return None
    try:
        data = load_json(path, max_bytes=MAX_TRANSCRIPT_BYTES, what=path.name)
    except UnsafeJSON as exc:
        raise RolePlayError(f"{path.name} is damaged ({str(exc).rstrip('.')})") from None
    return Session.from_json(data, scenario)


def keep_finished(path: Path, session: Session) -> Path | None:
    """Before a finished conversation is started again, keep its transcript under a dated name beside it
    (``roleplay-<id>.finished-<date>.json``), so starting again never loses it; None when there was nothing
    finished to keep. The learner's record counts it as finished all the same (``learner.activity``)."""
    import time

    if not session.done or not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.stem}.finished-{stamp}{path.suffix}"), 1
    while target.exists():
        target, n = path.with_name(f"{path.stem}.finished-{stamp}-{n}{path.suffix}"), n + 1
    path.rename(target)
    return target
