"""Reactions that fit the words: plain functions the engine uses so that the client answers the question
that was asked, never presumes an offer that was not made, and quotes back only words that carry meaning.

* :func:`question_topic` names what a re-centring question asks about (what prompted the request, how it
  feels, what the client wants from it, what would help, the past); :func:`recenter_line` picks the
  client's answer to that question from the lines the scenario wrote for it, keeps the authored reaction
  where it fits, and otherwise gives a neutral invitation to go on.
* :func:`fit_offers` drops the sentences of a reaction that turn down an offer the reply did not make
  ("I don't need your number" after a reply that offered no number).
* :func:`meaningful` tells a phrase with content ("my Saturdays are full") from filler ("I hear you",
  "going", "like", "in the"), for callbacks and the debrief's phrases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from framelab.bank import models as bank_models
from framelab.roleplay.repair import in_the_moment

#: Words that carry no content on their own: quoting or showing only these says nothing. A yes, a no and
#: a "won't" are not among them: they are what a boundary (or a collapse) is made of.
_FILLER_WORDS = """
a an the and or but so if then of in on at to for from by with about as into onto up down out off over
is am are was were be been being do does did have has had will would could should can may might must shall
i me my mine you your yours we us our he him his she her they them their it its this that these those
there here what which who whom whose when where why how just really very quite too also
like well oh okay ok right yeah um uh hmm actually maybe perhaps bit little lot kind sort thing things
going go get got gonna wanna hear heard see know think mean say said tell let lets let's thank thanks
i'm you're it's that's i'd you'd i'll you'll i've you've
"""
FILLER = frozenset(_FILLER_WORDS.split())
#: Stock phrases that carry no content whatever words they hold.
STOCK = frozenset(
    {
        "i hear you",
        "i see",
        "thank you",
        "thank you for",
        "i understand",
        "you know",
        "i mean",
        "i get it",
        "fair enough",
    }
)


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry content (letters only, lower case, no filler)."""
    words = re.findall(r"[a-z][a-z'\u2019]*", text.lower().replace("\u2019", "'"))
    return [w for w in words if w not in FILLER and (len(w) > 2 or w == "no")]


def meaningful(phrase: str) -> bool:
    """Whether a phrase carries meaning worth quoting or showing: not a stock phrase, and at least one
    content word."""
    plain = re.sub(r"[^a-z' ]", " ", phrase.lower().replace("\u2019", "'"))
    plain = " ".join(plain.split())
    return plain not in STOCK and bool(content_words(plain))


# --------------------------------------------------------------------------- offers

#: An offer a reaction may turn down: (what the reaction says about it, what a reply says to make it).
OFFERS: dict[str, tuple[str, str]] = {
    "number": (
        r"\b(your|my) (phone )?number\b|\bring you\b|\btext you\b",
        r"\bnumber\b|\bphone\b|\bring me\b|\bcall me\b|\btext me\b|\bmobile\b",
    ),
    "free": (
        r"\bfree (sessions?|of charge)\b|\bfor free\b",
        r"\bfree\b|\bno charge\b|\bwon't charge\b|\bnot charge\b|\bon me\b|\bwaive\b",
    ),
    "extra": (r"\bextra (session|time)s?\b|\bmore time\b", r"\bextra\b|\bmore time\b|\blonger\b|\banother session\b"),
    "switch": (
        r"\bswitch(ing)? counsellors?\b|\bsomeone else\b|\breferr?al\b",
        r"\bswitch\b|\bsomeone else\b|\brefer\b|\banother counsellor\b",
    ),
}
#: Words that turn an offer down ("I don't need your number", "no need for free sessions").
_DECLINE = re.compile(r"\b(don't|do not|doesn't|no need|not|never|won't|wouldn't)\b", re.IGNORECASE)
_PARTS = re.compile(r"\([^()]*\)|[^()]+")


def fit_offers(reaction: str, reply: str) -> str:
    """``reaction`` without the sentences that answer an offer the reply did not make; never empty."""
    low = reply.lower().replace("\u2019", "'")
    made = {name for name, (_, says) in OFFERS.items() if re.search(says, low)}
    parts = []
    for m in _PARTS.finditer(reaction):  # stage directions whole, speech sentence by sentence
        chunk = m.group(0)
        parts += [chunk.strip()] if chunk.startswith("(") else re.split(r"(?<=[.!?\u2026])\s+", chunk.strip())
    parts = [x for x in parts if x]
    kept = [x for x in parts if x.startswith("(") or not _unmade(x, made)]
    if len(kept) == len(parts) or all(x.startswith("(") for x in kept):
        return reaction
    return " ".join(kept)


def _unmade(sentence: str, made: set[str]) -> bool:
    """Whether a sentence turns down an offer, none of which the reply made."""
    if not _DECLINE.search(sentence):  # the client's own offer ("I'll give you my number") is theirs to make
        return False
    about = {n for n, (says, _) in OFFERS.items() if re.search(says, sentence, re.IGNORECASE)}
    return bool(about) and not about & made


# --------------------------------------------------------------------------- re-centring questions

#: What a re-centring question can ask about, and the words that say so (checked in this order).
TOPICS: dict[str, str] = {
    "help": "|".join(
        (r"\bhelp(s|ed|ful)?\b", r"\bsupport\b", r"\bget (you )?through\b", r"\bcop(e|ing)\b", r"\bmake it easier\b")
    ),
    "feeling": "|".join(
        (
            r"\bfeel(s|ing|ings)?\b",
            r"\bfelt\b",
            r"\bpanic\w*",
            r"\bscared\b",
            r"\bafraid\b",
            r"\bfear\w*",
            r"\bworr\w*",
            r"\bhurt\b",
            r"\bangry\b",
            r"\blonely\b",
        )
    ),
    "prompted": "|".join(
        (
            r"\bprompted\b",
            r"\bbehind\b",
            r"\bbrought (this|it|that|you)\b",
            r"\bmake?s? you\b|\bmade you\b",
            r"\bled (you|to)\b",
            r"\bwhy\b",
            r"\bwhat's going on\b",
            r"\bcame up\b",
        )
    ),
    "want": "|".join(
        (
            r"\bwant\w*",
            r"\bwish\w*",
            r"\bhop(e|ing)\b",
            r"\blooking for\b",
            r"\bgive you\b",
            r"\bget from\b",
            r"\bmeans? to you\b",
            r"\bwould it mean\b",
        )
    ),
    "past": r"\bbefore\b|\bpast\b|\bremind\w*|\bused to\b|\bhistory\b|\bother times\b|\bgrowing up\b|\balways\b",
    "experience": r"\bwhat (it|that) was like\b|\blike (for you )?to come\b|\bcom(e|ing) back\b",
}
assert tuple(TOPICS) == bank_models.TOPICS, "the topics a scenario may key its answers by are the bank's"
_QUESTION = re.compile(r"[^.!?]*\?|(?:tell me|i wonder|i'd like to (?:understand|hear|know))[^.!?]*", re.IGNORECASE)
_ECHO = re.compile(r"^(\([^()]*\)\s*)?((?:What|Why|How|Where|When|Who)\b[^.?!]*\?)\s*")


def question_topic(text: str) -> str | None:
    """What the question (or invitation) in ``text`` asks about, or None where it names none."""
    asked = " ".join(_QUESTION.findall(text)) or text
    low = asked.lower().replace("\u2019", "'")
    return next((name for name, pat in TOPICS.items() if re.search(pat, low)), None)


def echoed(reaction: str) -> str | None:
    """The question a reaction repeats back before answering it ("What I'd want from a call? ..."), or None."""
    m = _ECHO.match(reaction)
    return m.group(2) if m else None


#: The client's neutral answer where the question asked is not the one the reaction was written for.
NEUTRAL = "(takes a moment) I'm not sure where to start with that."


def recenter_line(branch: Mapping[str, Any], node: Mapping[str, Any], reply: str) -> str:
    """The client's answer to a re-centring reply: the scenario's line for the question's topic
    (``topics`` on the branch); the authored reaction where it answers that question, or presumes none;
    otherwise a neutral invitation to go on (the node's ``neutral``, or :data:`NEUTRAL`)."""
    asked = question_topic(reply)
    topics: Mapping[str, str] = branch.get("topics") or {}
    if asked is not None and asked in topics:
        return topics[asked]
    echo = echoed(branch["reaction"])  # where the neutral line replaces it, what happens next still happens
    if echo is None or _answers(echo, reply, asked):
        return branch["reaction"]
    return f"{node.get('neutral') or NEUTRAL} {in_the_moment(branch['reaction'])[1]}".strip()


def _answers(echo: str, reply: str, asked: str | None) -> bool:
    """Whether the question a reaction echoes is the one the reply asked: the same topic, or a shared content word."""
    if asked is not None and question_topic(echo) == asked:
        return True
    return bool(set(content_words(echo)) & set(content_words(reply)))
