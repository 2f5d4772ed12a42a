"""Detect the three moves and the five backfiring patterns in a trainee's own words, offline.

A small, deterministic model: TF-IDF word and character n-grams plus a few hand-written cue
counts, one logistic regression per label. It learns from the bank's **practice** split only,
read from ``framelab/data/detect.json`` (written by ``framelab build``, which carries the
practice items with their labels and, for the oracle guard, the assessment item texts *without*
labels). The trained model is cached on disk as plain arrays (:mod:`framelab.detector.lite`, which
labels without importing scikit-learn), keyed by that file's hash and the library versions, so
training happens once (``make install`` warms it) and takes about a second.

The engine is not an answer key: :func:`Detector.check` refuses any text that is a
near-duplicate of an assessment item, and says why.

    >>> from framelab.detector.boundary import load_detector
    >>> d = load_detector()
    >>> d.detect("I can hear how much this matters to you. I won't be meeting outside our sessions...")

Everything here is plain functions over plain data; the role-play reads replies through
:func:`framelab.detector.readers.for_roleplay`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from framelab.core import settings
from framelab.core.vocabulary import LABELS, TITLES
from framelab.detector.cues import cue_matches, normalise, words
from framelab.detector.data import DATA_FILE, load_data
from framelab.detector.guard import Guard
from framelab.detector.lite import LinearModel
from framelab.detector.model import LABEL_THRESHOLDS, _cue_features, cache_key, decide, trained_model

MAX_CHARS = 5000


@dataclass(frozen=True)
class Detection:
    labels: list[str]
    scores: dict[str, float]
    cues: dict[str, list[str]]

    def to_json(self, item_id: Any) -> dict[str, Any]:
        return {"id": item_id, "labels": self.labels, "scores": self.scores, "cues": self.cues}


#: A word n-gram is shown as a cue only if its weight towards the label is at least this.
CUE_MIN_WEIGHT = 1.0


class Refused(ValueError):
    """The text cannot be labelled; ``str(exc)`` says why in plain words."""


class Detector:
    #: the role-play rubrics it was trained for (framelab.core.rubrics.RUBRICS): replies to boundary bids only
    rubrics = frozenset({"three_moves"})
    #: the cue patterns it was trained with, as model features and as the phrases shown as evidence
    cue_features = staticmethod(_cue_features)
    cue_finder = staticmethod(cue_matches)
    #: labels proposed below :data:`THRESHOLD`
    label_thresholds: Mapping[str, float] = LABEL_THRESHOLDS

    def __init__(self, model: LinearModel, guard: Guard, digest: str):
        self.model = model  # the trained pipeline's numbers, run without scikit-learn
        self.guard = guard
        self.digest = digest
        self._vocab = model.words

    def check(self, text: Any, client: Any = "") -> str:
        """The text, if the detector may label it; else :class:`Refused` with the reason. ``client``, the client
        line the reply answers where one is given: in a course deployment, a reply to a graded item's line that is close
        to its response is refused (:meth:`Guard.graded_client`)."""
        if not isinstance(text, str):
            raise Refused(f"'text' must be a string, not {type(text).__name__}.")
        if not text.strip():
            raise Refused("'text' is empty: write the reply you would give the client.")
        if len(text) > MAX_CHARS:
            raise Refused(
                f"'text' is {len(text):,} characters; the detector reads replies up to {MAX_CHARS:,}. "
                "Shorten it to what you would say in the room."
            )
        hit = self.guard.match(text)
        if hit is not None:
            raise Refused(
                f"This text is very close ({hit[1]:.0%}) to a response in a graded exercise ({hit[0]}), "
                "so the detector will not label it: it would become an answer key. Classify graded items "
                "yourself; use the detector on replies you write."
            )
        if isinstance(client, str) and self.guard.graded_client(client, text):
            raise Refused(
                "This client line comes from a graded exercise and the reply says much what its graded response "
                "says, so in this course the detector will not read it. Practise on another client line, or in a "
                "role-play."
            )
        if self.guard.close_in_meaning(text) is not None:
            raise Refused(
                "This text says much the same as a response in a graded exercise, so in this course the "
                "detector will not label it. Put the reply in your own words, as you would say it to the client."
            )
        return text

    def detect_many(self, texts: Sequence[str]) -> list[Detection]:
        """Label texts that have passed :meth:`check`."""
        if not texts:
            return []
        probs = self.model.predict_proba(list(texts), normalise, self.cue_features)
        out = []
        for text, row in zip(texts, probs, strict=True):
            scores = {lab: round(float(p), 3) for lab, p in zip(LABELS, row, strict=True)}
            labels = decide([float(p) for p in row], per_label=self.label_thresholds)
            out.append(Detection(labels, scores, self.cues(text, labels)))
        return out

    def detect(self, text: str) -> Detection:
        return self.detect_many([self.check(text)])[0]

    def cues(self, text: str, labels: Sequence[str]) -> dict[str, list[str]]:
        """For each proposed label, the phrases in the text that pushed hardest towards it:
        the cue patterns it matched, then the word n-grams with the largest positive weight."""
        found = self.cue_finder(text)
        tokens = words(text)
        grams = {" ".join(tokens[i : i + n]) for n in (1, 2) for i in range(len(tokens) - n + 1)}
        grams = {g for g in grams if " " in g or (len(g) > 3 and g not in self.model.stop_words)}
        out: dict[str, list[str]] = {}
        for lab in labels:
            coef = self.model.word_coef(LABELS.index(lab))
            weighted = sorted(
                (
                    (coef[self._vocab[g]], g)
                    for g in grams
                    if g in self._vocab and coef[self._vocab[g]] >= CUE_MIN_WEIGHT
                ),
                reverse=True,
            )
            phrases = list(found.get(lab, []))
            for _, g in weighted:
                if len(phrases) >= 4:
                    break
                if not any(g in p or p in g for p in phrases):
                    phrases.append(g)
            out[lab] = phrases[:4]
        return out

    def __call__(self, reply: str, client: str = "") -> Detection:
        """The role-play's detector hook: labels with scores and cues. A text it must not label
        (a copy of a graded item) raises :class:`Refused`, so that no fallback labels it either."""
        return self.detect_many([self.check(reply, client)])[0]


def load_detector(data_path: Path = DATA_FILE, *, use_cache: bool = True, deployment: bool | None = None) -> Detector:
    """The detector for the current bank: from the cache if it holds this bank's model (plain Python
    numbers: no scikit-learn import, a fraction of a second), else trained (a second or two, with
    scikit-learn) and cached. A cache that cannot be written or read is simply not used. In a course
    deployment (:func:`framelab.core.settings.course_deployment`, unless ``deployment`` says), the guard also
    refuses paraphrases."""
    data = load_data(data_path)
    deployed = settings.course_deployment() if deployment is None else deployment
    guard = Guard(data.guard, meaning=deployed, clients=data.guard_clients)
    model = trained_model("detect", data.training, cache_key(data.digest), use_cache=use_cache)
    return Detector(model, guard, data.digest)


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    return load_detector()


def describe(det: Detection) -> str:
    """One line for people: the labels with their confidence."""
    return ", ".join(f"{TITLES[lab]} ({det.scores[lab]:.0%})" for lab in det.labels)
