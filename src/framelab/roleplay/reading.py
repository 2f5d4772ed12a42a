"""How the simulated client reads a reply: from the trainee's words, never from their ticks.

A :class:`Reading` is what the words did (labels, with the phrases that decided them), the one
label the client reacts to (:func:`framelab.learner.practice.category`), and how sure that is. The reading
comes from the detector (:mod:`framelab.detector.core`) when it is there, and otherwise from the same cue
patterns it uses, as plain rules, so a role-play works the same with or without scikit-learn.
Scenarios with the repair rubric (a client who objects to something the therapist did) are read by
the repair detector (:mod:`framelab.detector.repair`, trained on replies to ruptures), or, where it cannot
load, by repair cue rules; the boundary-bid detector never reads them.

Everything here is deterministic: the same reply gets the same reading in the notebook, in the
saved transcript and in ``framelab roleplay``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from framelab.core.vocabulary import LABELS
from framelab.learner.practice import UNSURE_BELOW, category, category_confidence

#: A detector takes a reply (and the client's line) and returns a :class:`framelab.detector.core.Detection`
#: (labels, scores, cues), a plain list of labels, or None when it cannot run.
Detector = Callable[[str, str], Any]

#: Repair cues: what a therapist says when a client objects, read as the eight labels
#: (validate = thanks them for saying it; state_boundary = owns their part; recenter = gets curious;
#: vague_rule = defends; mixed_message = apologises, then justifies; collapse_frame = over-apologises
#: or gives something outside the frame; ignore_redirect = dismisses it; gentle_dodge = puts it off).
REPAIR_CUES: dict[str, tuple[str, ...]] = {
    "validate": (
        r"\bthank(?:s| you)\b",
        r"\b(?:glad|pleased) (?:you|that you) (?:said|told|came|brought|raised|did|were)\b",
        r"\b(?:took|takes|must have taken) (?:courage|guts|some nerve)\b",
        r"\bappreciate\b",
        r"\b(?:right|good|important) (?:to|that you) (?:say|tell|raise|said|told|came)\b",
    ),
    "state_boundary": (
        r"\bi (?:got|had|read) (?:that|it|you|this) (?:wrong|badly wrong|completely wrong)\b",
        r"\bi was wrong\b|\bi (?:made|make) a mistake\b",
        r"\bmy (?:mistake|fault|part|error|bad)\b",
        r"\bi (?:misread|misjudged|missed|jumped|assumed|rushed|put words|got ahead|overstepped)\b",
        r"\bthat (?:was|is) (?:on me|my)\b",
        r"\bi(?:'m| am) sorry (?:i|that i|for|about)\b",
        r"\bi shouldn't have\b",
        r"\bi (?:made an assumption|put my own|was off|got ahead of)\b",
        r"\bi can see (?:how|that|why) (?:i|it|that)\b",
    ),
    "recenter": (
        r"\bwhat (?:was|is|has) (?:that|it|this) (?:been )?like\b|\bwhat (?:it|that|this) (?:was|is|felt) like\b",
        r"\btell me (?:more|about|what|how)\b",
        r"\bhelp me (?:understand|see|get)\b",
        r"\bi(?:'d| would) (?:like|love|want) to (?:understand|hear|know)\b",
        r"\bcurious\b|\bi wonder\b",
        r"\bwhat (?:did|do|does|would|could|felt|made|happened)\b[^.?!]*\?",
        r"\bhow (?:did|does|do|has) (?:that|it|this|you)\b[^.?!]*\?",
    ),
    "vague_rule": (
        r"\bi (?:only|just|simply) (?:meant|wanted|said|suggested|asked)\b",
        r"\bwhat i (?:meant|was trying|was saying|said was)\b",
        r"\byou (?:misunderstood|took it|misheard|may have misunderstood|got the wrong)\b",
        r"\b(?:technique|standard practice|approach|the model|my training|the research|the evidence)\b",
        r"\b(?:it's|it is) (?:normal|common|usual|standard) (?:to|for|in)\b",
        r"\bi(?:'m| am) (?:trained|qualified|experienced)\b",
        r"\b(?:policy|procedure|guidelines?)\b",
    ),
    "mixed_message": (
        r"\bsorry (?:if|you feel|you felt|that you feel|that you felt)\b",
        r"\bsorry (?:it|that it|if it) (?:came across|landed|sounded|felt|seemed)\b",
        r"\bsorry,? (?:but|though)\b",
        r"\bi still (?:think|believe|wonder if)\b",
        r"\bto be fair\b|\bin my defen[cs]e\b|\bin fairness\b",
        r"\bi didn't mean (?:it|to)\b[^.?!]*\bbut\b",
    ),
    "collapse_frame": (
        r"\b(?:so,? so|terribly|awfully|really,? really|incredibly|truly,? truly) sorry\b",
        r"\bi feel (?:awful|terrible|dreadful|so bad|sick)\b",
        r"\b(?:free|extra) sessions?\b|\bno charge\b|\bon the house\b|\bmake it up to you\b",
        r"\bforgive me\b|\bplease don't (?:leave|go|stop coming)\b",
        r"\bi(?:'m| am) (?:a|such a|the) (?:terrible|bad|awful|useless|rubbish)\b",
        r"\bmy (?:personal |own )?(?:number|mobile|phone)\b",
    ),
    "ignore_redirect": (
        r"\banyway\b|\banyhow\b",
        r"\blet's (?:move on|get back|carry on|not dwell|focus on|pick up|start)\b",
        r"\bdon't worry about (?:it|that)\b|\bno harm done\b|\bwater under the bridge\b",
        r"\bit doesn't matter\b|\bforget (?:it|about it|about that)\b",
        r"\bback to\b|\bmoving on\b",
        r"\bhow (?:was|has|is) your (?:week|weekend|exam|day)\b",
        r"^(?:so|right|okay|ok),? (?:the|how|did|have|what about)\b",
        r"\b(?:exam timetable|the dates|homework|the agenda|the plan for today)\b",
    ),
    "gentle_dodge": (
        r"\b(?:come back to|revisit|return to|park|shelve|put a pin in) (?:that|it|this)\b",
        r"\b(?:later|another time|some other time|next week|next session)\b",
        r"\bnot (?:right )?now\b|\bwhen we have (?:more )?time\b|\bfor now\b",
    ),
}
_REPAIR = {lab: [re.compile(p, re.IGNORECASE) for p in pats] for lab, pats in REPAIR_CUES.items()}


@dataclass(frozen=True)
class Reading:
    """What a reply's words did, and what the client will react to."""

    labels: list[str]  # what the words did, in vocabulary order
    cues: dict[str, list[str]]  # label -> the phrases that decided it
    category: str  # the dominant label (the client reacts to it unless the reading is unsure)
    confidence: float | None  # the chance the dominant label is right, where the reader can say
    source: str  # "detector", "cue rules", "repair cues" or "given" (a plain list from a test or tool)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def unsure(self) -> bool:
        """True when a person could not tell what the reply meant either."""
        if not self.labels:
            return True
        return self.confidence is not None and self.confidence < UNSURE_BELOW


def _matches(patterns: Mapping[str, list[re.Pattern[str]]], text: str) -> dict[str, list[str]]:
    from framelab.detector.core import normalise

    clean = normalise(text)
    found: dict[str, list[str]] = {}
    for lab in LABELS:
        hits: list[str] = []
        for pat in patterns.get(lab, []):
            for m in pat.finditer(clean):
                phrase = m.group(0).strip(" ,?")
                if phrase and phrase not in hits:
                    hits.append(phrase)
        if hits:
            found[lab] = hits[:4]
    return found


def _from_cues(found: dict[str, list[str]], source: str) -> Reading:
    labels = [lab for lab in LABELS if lab in found]
    # with no cue at all, the words did not answer the bid: that is what a client would hear if pressed
    cat = category(labels) if labels else "ignore_redirect"
    return Reading(labels, found, cat, None, source)


def by_rules(reply: str) -> Reading:
    """The fallback when the detector cannot load: the detector's own cue patterns, as rules."""
    from framelab.detector.core import cue_matches

    return _from_cues({lab: hits[:4] for lab, hits in cue_matches(reply).items()}, "cue rules")


def repair_cue_matches(text: str) -> dict[str, list[str]]:
    """Per label, the repair cue phrases found in the text (at most four each)."""
    return _matches(_REPAIR, text)


def by_repair_cues(reply: str) -> Reading:
    """A reply to a client's objection, read with the repair cues: the fallback where the repair
    detector (:mod:`framelab.detector.repair`) cannot load."""
    return _from_cues(repair_cue_matches(reply), "repair cues")


def from_detection(found: Any) -> Reading:
    """A reading from what a detector returned: a Detection (labels, scores, cues) or a list of labels."""
    got = set(getattr(found, "labels", found))
    labels = [lab for lab in LABELS if lab in got]
    if not labels:
        return Reading([], {}, "ignore_redirect", None, "given")
    scores = {lab: float(p) for lab, p in (getattr(found, "scores", None) or {}).items()}
    cues = {lab: list(c) for lab, c in (getattr(found, "cues", None) or {}).items() if lab in got}
    cat = category(labels)
    if not scores:
        return Reading(labels, cues, cat, None, "given")
    return Reading(labels, cues, cat, round(category_confidence(scores, cat), 3), "detector", scores)


def read(reply: str, client: str, detector: Detector | None, rubric: str = "three_moves") -> Reading:
    """Read a reply. A set of readers (``for_rubric``, :class:`framelab.detector.core.Detectors`) gives the one
    trained for the scenario's rubric: the repair detector for ruptures. A detector that names the rubrics
    it was trained for (``rubrics``) is used only for those, so with no repair detector ruptures go to
    the repair cues. A detector that refuses the text raises (the caller says why); one that cannot run
    (returns None) leaves the reading to the cue rules, never to the ticks."""
    pick = getattr(detector, "for_rubric", None)
    if callable(pick):
        detector = pick(rubric)
    if rubric == "repair" and (detector is None or rubric not in getattr(detector, "rubrics", {rubric})):
        return by_repair_cues(reply)
    found = detector(reply, client) if detector is not None else None
    if found is None:
        return by_rules(reply)
    return from_detection(found)
