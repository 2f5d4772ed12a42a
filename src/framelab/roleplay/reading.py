"""How the simulated client reads a reply: from the trainee's words, never from their ticks.

A :class:`Reading` is what the words did (labels, with the phrases that decided them), the one
label the client reacts to (:func:`framelab.roleplay.reactions.category`), and how sure that is. The reading
comes from the detector (:mod:`framelab.detector.boundary`) when it is there, and otherwise from the same cue
patterns it uses (:mod:`framelab.detector.cues`), as plain rules, so a role-play works the same with
or without scikit-learn.
Scenarios with the repair rubric (a client who objects to something the therapist did) are read by
the repair detector (:mod:`framelab.detector.repair`, trained on replies to ruptures), or, where it cannot
load, by repair cue rules; the boundary-bid detector never reads them.

Everything here is deterministic: the same reply gets the same reading in the notebook, in the
saved transcript and in ``framelab roleplay``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from framelab.core.vocabulary import LABELS
from framelab.detector import cues
from framelab.roleplay.reactions import UNSURE_BELOW, category, category_confidence

#: A detector takes a reply (and the client's line) and returns a :class:`framelab.detector.boundary.Detection`
#: (labels, scores, cues), a plain list of labels, or None when it cannot run.
Detector = Callable[[str, str], Any]


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


def _from_cues(found: dict[str, list[str]], source: str) -> Reading:
    labels = [lab for lab in LABELS if lab in found]
    # with no cue at all, the words did not answer the bid: that is what a client would hear if pressed
    cat = category(labels) if labels else "ignore_redirect"
    return Reading(labels, found, cat, None, source)


def by_rules(reply: str) -> Reading:
    """The fallback when the detector cannot load: the detector's own cue patterns, as rules."""
    return _from_cues(cues.find(cues.COMPILED, reply, 4), "cue rules")


def by_repair_cues(reply: str) -> Reading:
    """A reply to a client's objection, read with the repair cues: the fallback where the repair
    detector (:mod:`framelab.detector.repair`) cannot load."""
    return _from_cues(cues.repair_cue_matches(reply), "repair cues")


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
    """Read a reply. A set of readers (``for_rubric``, :class:`framelab.detector.readers.Detectors`) gives the one
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
