"""Does a reply check for risk? The small reader behind ``checks_safety`` (``framelab detect``, the role-play's
turns) and the role-play's safety paths (:mod:`framelab.roleplay.safety`).

The codebook (``modules/README.md``, "Checking for risk") gives three answers: **yes**, the reply *asks*
directly about suicide, self-harm, harm from or to others, or safety tonight (and, after a yes, about a plan,
intent, means or timing); **partly**, it asks only vaguely how the client is ("are you okay?", "is anyone with
you?"); **no**, it asks nothing about risk. ``checks_safety`` is true for *yes* only.

Cue patterns alone, read in the reply's questions: a sentence ending in a question mark, or one that starts
the way questions do ("are you", "any thoughts", "I need to ask"). A crisis line given without a question is
not a check ("if you're thinking of suicide, ring 988" tells; it does not ask). The practice split holds
too few replies with the field (20, only 8 of them not *yes*) to train a model on; the measured precision
and recall, on replies its author did not write, are in the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Direct questions about risk: suicide, self-harm, harm from or to others, safety now, and what follows a yes.
DIRECT: tuple[str, ...] = (
    r"\bsuicid\w*",
    r"\b(?:end|ending|take|taking) (?:your|your own) life\b",
    r"\bkill(?:ing)? yourself\b",
    r"\b(?:hurt|hurting|harm|harming|cut|cutting) yourself\b",
    r"\bself[- ]?harm\w*",
    r"\bhave you (?:cut|hurt|harmed|taken|done)\b",
    r"\b(?:wish|want|wanting|wished) (?:you were |to be |yourself )?dead\b",
    r"\b(?:want|wanting|wanted) to die\b",
    r"\bnot (?:being|be) (?:here|alive|around)\b",
    r"\b(?:are|were|feel|feeling|felt|be|been|stay|staying) (?:\w+ )?(?:safe|unsafe)\b",
    r"\bsafe (?:right now|now|tonight|where you are|at home|at the moment)\b",
    r"\b(?:hurt|harm) (?:you|someone|anyone|somebody|them|him|her)\b",
    r"\b(?:afraid|scared|frightened) (?:he|she|they|someone)(?:'ll| will| might| would)? (?:hurt|harm)\b",
    r"\b(?:a|any) plan\b",
    r"\bhow (?:would|might) you (?:do|end|go about)\b",
    r"\b(?:thought|thinking) about how\b",
    r"\bhow you (?:would|might|'d)\b",
    r"\bwhat (?:you'd|you would|you might) use\b",
    r"\b(?:the )?(?:tablets|pills|means|weapon|gun)\b",
    r"\b(?:mean|intend|going) to act\b",
    r"\bthoughts? (?:of|about) (?:dying|death|not)\b",
)

#: Vague checks on how the client is: kind, and easy to answer with "fine".
VAGUE: tuple[str, ...] = (
    r"\b(?:are|were) you (?:ok|okay|alright|all right|coping|managing)\b",
    r"\bwill you be (?:ok|okay|alright|all right)\b",
    r"\bhow are you (?:doing|holding up|feeling|coping|managing|this morning|today|now)\b",
    r"\bhow (?:have you been|are things)\b",
    r"\b(?:is|will) (?:anyone|someone|somebody) (?:going to be )?(?:with you|there|around)\b",
    r"\b(?:are|were) you (?:still )?feeling (?:like that|that way|low|bad)\b",
    r"\beverything (?:all right|alright|ok|okay)\b",
)

_DIRECT = [re.compile(p, re.I) for p in DIRECT]
_VAGUE = [re.compile(p, re.I) for p in VAGUE]
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_ASKS = re.compile(
    r"^\W*(?:(?:and|so|but|first|okay|ok|then|also|now)\W+)*(?:are|were|is|was|have|has|had|do|did|does|will|would"
    r"|could|can|any|how|what|when|where|who|tell me|i (?:need|want|have|'d like|would like) to (?:ask|know|check)"
    r"|i(?:'m| am) (?:going to ask|wondering)|can i (?:ask|check)|may i ask|let me (?:ask|check))\b",
    re.I,
)
_CHECK_WORDS = re.compile(r"\b(?:ask|asking|check|checking|know|sure)\b[^?]*[:,]\s*$", re.I)


@dataclass(frozen=True)
class SafetyReading:
    """How a reply checks for risk: ``yes``, ``partly`` or ``no``, and the words that decided it."""

    level: str
    cues: list[str] = field(default_factory=list)

    @property
    def checks_safety(self) -> bool:
        return self.level == "yes"


def questions(text: str) -> list[str]:
    """The sentences of a reply that ask something: a question mark, or a question's opening words (an
    "I need to ask you:" before a question counts with it)."""
    text = text.replace("\u2019", "'")
    out, lead = [], False
    for raw in _SENTENCE.findall(text):
        sentence = raw.strip()
        if not sentence:
            continue
        if sentence.endswith("?") or _ASKS.match(sentence) or lead:
            out.append(sentence)
        lead = bool(_CHECK_WORDS.search(sentence))
    # "I need to ask you plainly: are you thinking of ending your life?" splits at no full stop: keep whole
    return out


def read(text: str) -> SafetyReading:
    """Whether ``text`` checks for risk (``yes``, ``partly`` or ``no``), with the phrases that decided it."""
    if not isinstance(text, str):
        return SafetyReading("no")
    asked = questions(text)
    direct = [m.group(0) for s in asked for rx in _DIRECT for m in [rx.search(s)] if m]
    if direct:
        return SafetyReading("yes", direct)
    vague = [m.group(0) for s in asked for rx in _VAGUE for m in [rx.search(s)] if m]
    return SafetyReading("partly", vague) if vague else SafetyReading("no")


def checks_safety(text: str) -> bool:
    """True when ``text`` asks directly about suicide, self-harm, harm from or to others, or safety now."""
    return read(text).checks_safety
