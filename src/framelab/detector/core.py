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

    >>> from framelab.detector.core import load_detector
    >>> d = load_detector()
    >>> d.detect("I can hear how much this matters to you. I won't be meeting outside our sessions...")

Everything here is plain functions over plain data; the role-play widget uses :func:`for_roleplay`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from framelab.core.vocabulary import LABELS, TITLES
from framelab.detector import lite as detectlite
from framelab.detector.lite import LinearModel

#: Bumped whenever features or the model change, so old caches are not reused.
MODEL_VERSION = "detect/2"
DATA_FORMAT = "framelab-detect-data/1"
#: written by ``framelab build``; the package's data folder, beside the subpackages
DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "detect.json"
MAX_CHARS = 5000
#: A text at least this similar to an assessment item (word 3-gram or character similarity) is refused.
#: Lightly edited copies of assessment items score 0.88 and more; the closest practice item, 0.63.
GUARD_THRESHOLD = 0.75
#: A label is proposed when its probability reaches this.
THRESHOLD = 0.5
#: Labels proposed at a lower probability. A mixed message read as a plain warm reply is the costliest
#: miss (the client is met warmly for leaving the door ajar), and the model under-calls it: chosen by
#: 3 x 5-fold cross-validation on the practice split only (mixed-message F1 0.66 at 0.5, 0.76 at 0.25;
#: macro-F1 0.831 to 0.844). Where such a label decides the reply, its low probability makes the client
#: unsure (it asks what the therapist means) rather than sure.
LABEL_THRESHOLDS: dict[str, float] = {"mixed_message": 0.25}

#: Cue phrases a clinical educator listens for, per label. They are features for the model
#: (it learns how much each is worth) and the whole of the keyword baseline in ``make bench``.
CUES: dict[str, tuple[str, ...]] = {
    "validate": (
        r"\bi (?:can |do )?(?:hear|see|sense|get|notice|understand|feel)\b",
        r"\bi can tell\b",
        r"\bsounds? like\b",
        r"\bit sounds\b",
        r"\bmakes? (?:complete |total |a lot of |real |perfect )?sense\b",
        r"\b(?:no wonder|of course you|really natural|so natural|completely natural)\b",
        r"\bunderstandabl[ey]\b",
        r"\bhow (?:much|hard|lonely|important|painful|scary|frightening|good|proud|grateful|close)\b",
        r"\b(?:means?|meant|matters?|mattered) (?:a lot|so much|a great deal|to you)\b",
        r"\bthank you for (?:telling|saying|asking|trusting|letting|sharing)\b",
        r"\b(?:took|takes) (?:courage|guts|some nerve)\b",
        r"\bi(?:'m| am) (?:really |so |very )?(?:glad|touched|moved)\b",
        r"\b(?:that's|that is) (?:no small thing|a real loss|a big step|important)\b",
        r"\byou(?:'ve| have) (?:come|done|worked)\b",
    ),
    "state_boundary": (
        r"\bi (?:won't|will not|can't|cannot|don't|do not|am not going to|'m not going to|'m not able to) "
        r"(?:be|become|meet|see|come|accept|take|text|message|follow|add|connect|go|join|share|keep|answer)\b",
        r"\b(?:our|this) (?:relationship|work|sessions?)\b",
        r"\b(?:stay|stays|keep|keeping|kept) (?:this|it|our|that|the|what)\b",
        r"\bprotect(?:s|ing)?\b",
        r"\b(?:in here|this room|these sessions|this hour|our sessions|in this space)\b",
        r"\bmy answer is\b",
        r"\bi(?:'d| would) rather (?:keep|not)\b",
        r"\b(?:the|a|that) (?:line|boundary|limit)\b",
        r"\b(?:that's|that is|it's|it is) not something i\b",
        r"\bso (?:that|this) (?:it|the work|you)\b",
        r"\bi keep (?:my|our|the)\b",
        r"\bso i(?:'m| am) going to say no\b|\bi'll say no\b|\bthe answer(?:'s| is) no\b",
    ),
    "recenter": (
        r"\bi wonder\b",
        r"\bcurious\b",
        r"\bwhat (?:is|was|would|might|do|does|did|makes|made|comes|came|happens|happened|it)\b[^.?!]*\?",
        r"\b(?:could|can|shall|might) we (?:look|talk|explore|think|stay|spend|notice|take|understand)\b",
        r"\blet's (?:look|talk|explore|think|stay|spend|notice|take|be curious|understand|make room)\b",
        r"\bexplor(?:e|ing)\b",
        r"\btell me (?:more|about)\b",
        r"\bwhat (?:that|this) (?:is|was|might be) (?:like|about)\b",
        r"\b(?:bring|brought|bringing) (?:it|this|that) (?:here|in)\b",
        r"\b(?:right now|between us|in the room|part of (?:our|the) work|worth (?:talking|looking|understanding))\b",
        r"\bwhat's (?:it|that|this) like\b",
        r"\bi(?:'d| would) like to understand\b",
    ),
    "gentle_dodge": (
        r"\b(?:not|maybe not) (?:right )?now\b",
        r"\b(?:another|some other|other) (?:time|day|week)\b",
        r"\b(?:busy|full|swamped|packed|booked|rammed|hectic|tight|snowed under|run off my feet|tied up)\b",
        r"\b(?:when|once|after) (?:we|therapy|our work|this|it)(?:'s| is| are| have| 've)? ?(?:finish|end|over|done)",
        r"\b(?:give it|once) a (?:good )?(?:while|year|few months)\b",
        r"\brain ?check\b",
        r"\b(?:schedule|calendar|diary|late clinic|the kids|childcare|a cold|tired|next client)\b",
        r"\bsomeone (?:straight )?after\b",
        r"\b(?:i'm|i am) (?:away|out of town|meeting someone|off|on leave)\b",
        r"\b(?:won't be able to make it|i'd never make it|can't make it|bad timing)\b",
        r"\botherwise\b",
        r"\bwe'll see\b|\bsee how (?:you|we|things)\b",
        r"\b(?:for the time being|at the moment|these days|this week|this term|this month|for now)\b",
        r"\b(?:it's just that|only because)\b",
    ),
    "vague_rule": (
        r"\bpolic(?:y|ies)\b",
        r"\brules?\b",
        r"\b(?:not|isn't|aren't|never) (?:allowed|permitted)\b",
        r"\bguidelines?\b",
        r"\bcodes? of (?:ethics|conduct|practice)\b",
        r"\b(?:professional|ethical) (?:ethics|standards|body|guidelines|reasons|rules)\b",
        r"\b(?:prohibit|prohibits|prohibited|forbid|forbids|forbidden|requires?)\b",
        r"\b(?:licen[cs]e|registration|regulator|insurance|liability)\b",
        r"\b(?:the|our) (?:service|practice|agency|clinic|organi[sz]ation|trust|board)\b",
        r"\b(?:counsell?ors|therapists|clinicians|practitioners) "
        r"(?:can't|cannot|don't|do not|aren't|are not|mustn't)\b",
        r"\b(?:unfortunately|i'm afraid)\b",
    ),
    "ignore_redirect": (
        r"\banyway\b",
        r"\b(?:so|right|okay|ok|now|anyhow),? (?:let's|shall we|where|how|back|did|you were|i wanted|tell me)\b",
        r"\bget back to\b|\bback to\b|\bmoving on\b",
        r"\bwhere (?:were we|did we (?:leave|get))\b",
        r"^(?:mm+|hmm+|right|ok|okay|ha+|i did)\b",
        r"\bhow (?:has|have|was|did|is|are|'s) (?:your|the|it|things|work|home)\b",
        r"\b(?:shall we|let's) (?:start|begin|carry on|pick up|check in|look at|go through)\b",
        r"\b(?:last week|this week|homework|thought record|sleep log|exercise|the plan)\b",
        r"\b(?:see you then|mind the step|on your way out|good luck with)\b",
        r"\blet's not worry about it\b",
    ),
    "mixed_message": (
        r"\bi(?:'d| would) (?:really |honestly |genuinely )?(?:love|like|enjoy|have loved)\b",
        r"\bif (?:it were|things were|only|i could|we'd|we had|we hadn't|circumstances|it was up)\b",
        r"\bin another (?:life|world|time)\b",
        r"\b(?:who knows|never say never|one day|you never know|we might well)\b",
        r"\bdon't tempt me\b",
        r"\bi (?:really |probably )?shouldn't\b|\bi'd better not\b",
        r"\b(?:pity|shame|gutted|wish i could|wishes we could|sadly|tempting|torn|ugh)\b",
        r"\bcheeky\b|\b(?:ha ha|haha|wink)\b",
        r"\b(?:our (?:little )?secret|don't tell|keep (?:it )?quiet|low-key)\b",
        r"\b(?:maybe|perhaps) (?:after|when|once|one day|later)\b",
        r"\b(?:part of me|i'll miss you|hard to say no|in a heartbeat)\b",
        r"\b(?:i know, i know|not sure it's the best idea)\b",
    ),
    "collapse_frame": (
        r"^(?:sure|of course|absolutely|definitely|done|deal|why not|go on|yes|yeah|oh go on|wow)\b",
        r"\b(?:yes|okay|ok|all right|alright|fine|go on then),? (?:i'd|i'll|coffee|go ahead|if|that|let's|what)\b",
        r"\b(?:my|personal) (?:number|mobile|phone|email|address|cell|whatsapp)\b",
        r"\b(?:call|text|message|ring|email|add|follow|send|drop) me\b",
        r"\bany ?time\b|\bday or night\b|\bwhenever you like\b",
        r"\bi(?:'ll| will) (?:come|be there|add|accept|follow|meet|bring|pop|send|see you|drop)\b",
        r"\blet's (?:go|meet|grab|do it|do that)\b",
        r"\b(?:see you (?:there|then|at|on)|what time shall we|does the \w+ suit|which day)\b",
        r"\b(?:count me in|i'm in|it's a date|wouldn't miss it|send me the)\b",
        r"\bjust (?:this once|the once)\b",
        r"\b(?:let me tell you|don't get me started|see each other properly)\b",
        r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday) (?:after|at|then|evening|night)\b",
    ),
}
_COMPILED = {lab: [re.compile(p, re.IGNORECASE) for p in pats] for lab, pats in CUES.items()}


class DetectError(Exception):
    """The detector cannot run (missing data file, say); the message says what to do."""


# --------------------------------------------------------------------------- text helpers


_DASHES = re.compile(r"[\u2010-\u2015]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, plain letters, curly quotes and dashes straightened, one space between words."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACES.sub(" ", _DASHES.sub("-", text)).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", normalise(text))


def cue_matches(text: str) -> dict[str, list[str]]:
    """Per label, the cue phrases found in the text, as the trainee wrote them."""
    clean = normalise(text)
    found: dict[str, list[str]] = {}
    for lab, pats in _COMPILED.items():
        hits = []
        for pat in pats:
            for m in pat.finditer(clean):
                phrase = m.group(0).strip(" ,?")
                if phrase and phrase not in hits:
                    hits.append(phrase)
        if hits:
            found[lab] = hits
    return found


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    client: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DetectData:
    practice: tuple[Example, ...]  # replies to boundary bids: what this detector learns from
    guard: tuple[tuple[str, str], ...]  # (assessment item id, text): no labels
    digest: str
    #: replies to ruptures (the repair rubric): what :mod:`framelab.detector.repair` learns from, never this detector
    repair: tuple[Example, ...] = ()


def data_from_bank(bank: Any) -> dict[str, Any]:
    """What the detectors may learn from (practice items: replies to boundary bids for this one, replies
    to ruptures for the repair detector, kept apart) and must refuse (the texts of every assessment item)."""
    responses = sorted(bank.responses, key=lambda r: r.id)

    def practice(rubric: str) -> list[dict[str, Any]]:
        return [
            {"id": r.id, "client": r.client, "text": r.text, "labels": list(r.labels)}
            for r in responses
            if r.split == "practice" and getattr(r, "rubric", "three_moves") == rubric
        ]

    return {
        "format": DATA_FORMAT,
        "note": "Generated by 'framelab build' from modules/: practice items to learn from (replies to boundary "
        "bids; replies to ruptures, under 'repair', for the repair detector), and the texts (never the labels) "
        "of assessment items, which the detectors refuse to label.",
        "practice": practice("three_moves"),
        "repair": practice("repair"),
        "guard": [{"id": r.id, "text": r.text} for r in responses if r.split == "assessment"],
    }


def load_data(path: Path = DATA_FILE) -> DetectData:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError:
        raise DetectError(f"{path} is missing: run 'make release' (or 'framelab build') to write it.") from None
    except json.JSONDecodeError as exc:
        raise DetectError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg}); run 'framelab build'.") from None
    if data.get("format") != DATA_FORMAT:
        raise DetectError(f"{path}: format {data.get('format')!r}, expected {DATA_FORMAT!r}; run 'framelab build'.")
    practice, repair = (
        tuple(Example(p["id"], p["text"], p.get("client", ""), tuple(p["labels"])) for p in data.get(part, []))
        for part in ("practice", "repair")
    )
    guard = tuple((g["id"], g["text"]) for g in data["guard"])
    return DetectData(practice, guard, hashlib.sha256(raw).hexdigest(), repair)


# --------------------------------------------------------------------------- the model


_ALL_PATTERNS = [p for lab in LABELS for p in _COMPILED[lab]]
#: How much a matched cue pattern weighs against the n-gram features (chosen by cross-validation
#: on the practice split; see ``tests/benchmarks/bench_detect.py``).
CUE_WEIGHT = 0.3


def _cue_features(texts: Any) -> Any:
    """One column per cue pattern: 1 where it matches (times :data:`CUE_WEIGHT`)."""
    import numpy as np

    clean = [normalise(t) for t in texts]
    rows = [[CUE_WEIGHT if p.search(c) else 0.0 for p in _ALL_PATTERNS] for c in clean]
    return np.asarray(rows, dtype=float).reshape(len(rows), len(_ALL_PATTERNS))


def make_pipeline(cue_features: Callable[[Any], Any] = _cue_features) -> Any:
    """Word 1-2-grams, character 2-5-grams within words, and the cue counts, into one
    logistic regression per label. Deterministic: liblinear with a fixed seed."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            (
                "chars",
                TfidfVectorizer(
                    preprocessor=normalise, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
            ("cues", FunctionTransformer(cue_features)),
        ]
    )
    model = OneVsRestClassifier(
        LogisticRegression(C=32.0, class_weight="balanced", solver="liblinear", random_state=0, max_iter=1000)
    )
    return Pipeline([("features", features), ("model", model)])


def label_matrix(label_sets: Sequence[Sequence[str]]) -> Any:
    import numpy as np

    return np.array([[1 if lab in set(labs) else 0 for lab in LABELS] for labs in label_sets])


def fit(examples: Sequence[Example], cue_features: Callable[[Any], Any] = _cue_features) -> Any:
    pipe = make_pipeline(cue_features)
    pipe.fit([e.text for e in examples], label_matrix([e.labels for e in examples]))
    return pipe


def decide(
    probs: Sequence[float], threshold: float = THRESHOLD, per_label: Mapping[str, float] | None = None
) -> list[str]:
    """Labels at or above their threshold (``per_label``, default :data:`LABEL_THRESHOLDS`, else
    ``threshold``); never an empty set (the likeliest label stands alone)."""
    per_label = LABEL_THRESHOLDS if per_label is None else per_label
    chosen = [lab for lab, p in zip(LABELS, probs, strict=True) if p >= per_label.get(lab, threshold)]
    if not chosen:
        chosen = [LABELS[max(range(len(LABELS)), key=lambda i: probs[i])]]
    return chosen


# --------------------------------------------------------------------------- the guard


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = _words(text)
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


#: In a course deployment, a text this close in meaning to an assessment item (the mean of word and
#: character TF-IDF cosines, :class:`MeaningIndex`) is refused too. Chosen on the paraphrase and held-out
#: sets in ``tests/data`` (``tests/benchmarks/bench_detect.py``): 2 of 44 paraphrases of graded items got
#: the key's labels (5%, against 34% with the copy guard alone), and 3 of 94 trainee replies were refused (3%).
MEANING_THRESHOLD = 0.45
_OFF = ("0", "false", "no", "off")


def _stem(word: str) -> str:
    return re.sub(r"(?:ing|ed|es|s|ly|'s|n't)$", "", word) if len(word) > 4 else word


def _meaning_grams(text: str) -> tuple[list[str], list[str]]:
    clean = normalise(text)
    words = [_stem(w) for w in re.findall(r"[a-z0-9']+", clean)]
    chars = [f" {w} "[i : i + 4] for w in clean.split() for i in range(max(1, len(w) - 1))]
    return words + [" ".join(words[i : i + 2]) for i in range(len(words) - 1)], chars


class MeaningIndex:
    """Closeness in meaning to the assessment items, in plain Python: the cosine of word (stemmed,
    1-2-gram) and character 4-gram TF-IDF vectors, averaged. It catches paraphrases that the copy
    check (word 3-grams) misses: reordered sentences, swapped synonyms, dropped clauses."""

    def __init__(self, texts: Sequence[str]):
        import math

        docs = [_meaning_grams(t) for t in texts]
        n = len(docs)
        self._idf: list[dict[str, float]] = []
        for part in (0, 1):
            df: dict[str, int] = {}
            for doc in docs:
                for g in set(doc[part]):
                    df[g] = df.get(g, 0) + 1
            self._idf.append({g: math.log((n + 1) / (c + 1)) + 1 for g, c in df.items()})
        self._unseen = math.log(n + 1) + 1
        self._vectors = [(self._vector(d, 0), self._vector(d, 1)) for d in docs]

    def _vector(self, doc: tuple[list[str], list[str]], part: int) -> dict[str, float]:
        import math

        counts: dict[str, int] = {}
        for g in doc[part]:
            counts[g] = counts.get(g, 0) + 1
        v = {g: (1 + math.log(c)) * self._idf[part].get(g, self._unseen) for g, c in counts.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {g: x / norm for g, x in v.items()}

    def closest(self, text: str) -> tuple[int, float]:
        """The index of the closest item and how close (0-1)."""
        doc = _meaning_grams(text)
        a, b = self._vector(doc, 0), self._vector(doc, 1)
        best = (-1, 0.0)
        for i, (wa, wb) in enumerate(self._vectors):
            score = 0.5 * sum(x * wa.get(g, 0.0) for g, x in a.items()) + 0.5 * sum(
                x * wb.get(g, 0.0) for g, x in b.items()
            )
            if score > best[1]:
                best = (i, score)
        return best


def course_deployment(start: Path | None = None) -> bool:
    """True where self-checking is switched off (``FRAMELAB_SELF_CHECK=0``, or ``c.FrameLab.self_check
    = False`` in an ``nbgrader_config.py`` at or above ``start``): the course's own deployment switch."""
    env = os.environ.get("FRAMELAB_SELF_CHECK")
    if env is not None:
        return env.strip().lower() in _OFF
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        if (folder / "nbgrader_config.py").is_file():
            from framelab.learner.selfcheck import self_check_allowed

            return not self_check_allowed(folder)
    return False


@dataclass
class Guard:
    """Refuses texts that are near-duplicates of assessment items; in a course deployment
    (``meaning=True``), also texts close to one in meaning."""

    items: tuple[tuple[str, str], ...]
    threshold: float = GUARD_THRESHOLD
    meaning: bool = False
    _index: list[tuple[str, str, set[tuple[str, ...]]]] = field(default_factory=list, repr=False)
    _meaning: MeaningIndex | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._index = [(iid, normalise(text), _shingles(text)) for iid, text in self.items]
        if self.meaning:
            self._meaning = MeaningIndex([text for _, text in self.items])

    def close_in_meaning(self, text: str) -> float | None:
        """How close in meaning the text is to an assessment item, where that is at or above the threshold."""
        if self._meaning is None or not self.items:
            return None
        _, score = self._meaning.closest(text)
        return score if score >= MEANING_THRESHOLD else None

    def match(self, text: str) -> tuple[str, float] | None:
        """The assessment item the text copies, and how closely (0-1), or None."""
        import difflib

        clean, sh = normalise(text), _shingles(text)
        best: tuple[str, float] | None = None
        for iid, other, osh in self._index:
            if not sh or not osh:
                continue
            overlap = len(sh & osh) / min(len(sh), len(osh))
            if overlap < 0.3:
                continue  # cheap filter: too little in common to be a copy
            score = len(sh & osh) / len(sh | osh)
            if score < self.threshold:
                matcher = difflib.SequenceMatcher(None, clean, other, autojunk=False)
                if matcher.real_quick_ratio() >= self.threshold and matcher.quick_ratio() >= self.threshold:
                    score = max(score, matcher.ratio())
            if score >= self.threshold and (best is None or score > best[1]):
                best = (iid, score)
        return best


# --------------------------------------------------------------------------- the detector


@dataclass(frozen=True)
class Detection:
    labels: list[str]
    scores: dict[str, float]
    cues: dict[str, list[str]]

    def to_json(self, item_id: Any) -> dict[str, Any]:
        return {"id": item_id, "labels": self.labels, "scores": self.scores, "cues": self.cues}


#: A word n-gram is shown as a cue only if its weight towards the label is at least this.
CUE_MIN_WEIGHT = 1.0


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


class Refused(ValueError):
    """The text cannot be labelled; ``str(exc)`` says why in plain words."""


class Detector:
    #: the role-play rubrics it was trained for (framelab.learner.practice.RUBRICS): replies to boundary bids only
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

    def check(self, text: Any) -> str:
        """The text, if the detector may label it; else :class:`Refused` with the reason."""
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
        words = _words(text)
        grams = {" ".join(words[i : i + n]) for n in (1, 2) for i in range(len(words) - n + 1)}
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
        return self.detect(reply)


def cache_dir() -> Path:
    base = os.environ.get("FRAMELAB_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "framelab"


def cache_key(digest: str, version_tag: str = MODEL_VERSION, code: bytes = b"") -> str:
    from importlib.metadata import version

    # this file's own bytes too (and the lite model's, and ``code``: the caller's cues): any change to the
    # cues or the features means a fresh model; the library's version from its metadata, since importing
    # it takes a second
    code = hashlib.sha256(Path(__file__).read_bytes() + Path(detectlite.__file__).read_bytes() + code).hexdigest()
    parts = f"{version_tag}|{digest}|{code}|sklearn {version('scikit-learn')}"
    return hashlib.sha256(parts.encode()).hexdigest()[:20]


def trained_model(
    name: str,
    examples: Sequence[Example],
    key: str,
    cue_features: Callable[[Any], Any] = _cue_features,
    *,
    use_cache: bool = True,
) -> LinearModel:
    """The model for ``examples``: from the cache file ``<name>-<key>.npz`` if it holds one (plain
    numbers: no scikit-learn import), else trained and cached. A cache that cannot be written or read
    is simply not used."""
    path = cache_dir() / f"{name}-{key}.npz"
    if use_cache and path.exists():
        try:
            return LinearModel.from_bytes(path.read_bytes())
        except Exception:
            pass  # a stale or damaged cache: train again
    model = LinearModel.from_pipeline(fit(examples, cue_features), _stop_words())
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as fh:
                fh.write(model.to_bytes())
            os.replace(fh.name, path)
        except OSError:
            pass
    return model


def load_detector(data_path: Path = DATA_FILE, *, use_cache: bool = True, deployment: bool | None = None) -> Detector:
    """The detector for the current bank: from the cache if it holds this bank's model (plain Python
    numbers: no scikit-learn import, a fraction of a second), else trained (a second or two, with
    scikit-learn) and cached. A cache that cannot be written or read is simply not used. In a course
    deployment (:func:`course_deployment`, unless ``deployment`` says), the guard also refuses paraphrases."""
    data = load_data(data_path)
    guard = Guard(data.guard, meaning=course_deployment() if deployment is None else deployment)
    model = trained_model("detect", data.practice, cache_key(data.digest), use_cache=use_cache)
    return Detector(model, guard, data.digest)


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    return load_detector()


class Detectors:
    """The role-play's readers, one per rubric (:data:`framelab.learner.practice.RUBRICS`): the boundary-bid
    detector, and the repair detector (:mod:`framelab.detector.repair`) where it loaded. Called directly,
    it is the boundary-bid detector; :func:`framelab.roleplay.reading.read` asks :meth:`for_rubric`."""

    def __init__(self, by_rubric: dict[str, Detector]):
        self.by_rubric = dict(by_rubric)

    @property
    def rubrics(self) -> frozenset[str]:
        return frozenset(self.by_rubric)

    def for_rubric(self, name: str) -> Detector | None:
        return self.by_rubric.get(name)

    def __call__(self, reply: str, client: str = "") -> Detection:
        return self.by_rubric["three_moves"](reply, client)


def for_roleplay() -> Detectors | None:
    """The readers for the role-play, or None where the boundary detector cannot run (the cue rules
    then read the words). A repair detector that cannot load leaves ruptures to the repair cues."""
    try:
        readers = {"three_moves": default_detector()}
    except (DetectError, ImportError):
        return None
    try:
        from framelab.detector.repair import default_repair_detector

        readers["repair"] = default_repair_detector()
    except (DetectError, ImportError):
        pass
    return Detectors(readers)


class LazyDetector:
    """The role-play's detector, loaded in the background: importing scikit-learn and reading the
    model takes a second or two, which a notebook (or nbgrader, running it) should not pay just to
    open. :meth:`start` begins loading (the role-play view calls it when it appears); a reply that
    arrives before the model is ready waits for it, so every reply is read the same way."""

    rubrics = frozenset({"three_moves", "repair"})

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, on_ready: Callable[[], None] | None = None) -> None:
        """Begin loading in a background thread (once); ``on_ready`` is called when it has finished."""
        import threading

        def load() -> None:
            try:
                for_roleplay()
            finally:
                if on_ready is not None:
                    on_ready()

        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=load, name="framelab-detector", daemon=True)
                self._thread.start()

    @property
    def ready(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> Detector | None:
        self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        return for_roleplay() if not self._thread.is_alive() else None

    def for_rubric(self, name: str) -> Detector | None:
        """The loaded reader for a rubric (waiting for it), or None where there is none."""
        detector = self.wait()
        pick = getattr(detector, "for_rubric", None)
        if callable(pick):
            return pick(name)
        return detector if detector is not None and name in detector.rubrics else None

    def __call__(self, reply: str, client: str = "") -> Detection | None:
        detector = self.wait()
        return None if detector is None else detector(reply, client)


# --------------------------------------------------------------------------- JSON Lines


#: A request line longer than this is refused unread (a reply is at most MAX_CHARS characters).
MAX_LINE_BYTES = 64 * 1024


def read_lines(stream: Any, max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes | str]:
    """The lines of a binary stream, each at most ``max_bytes`` long: a longer line is cut there
    (the rest of it skipped) and comes out with nothing after the cut, so that it fails to parse
    on its own and never costs more memory than that."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:  # skip to the end of this line
                rest = stream.readline(max_bytes)
                if not rest or rest.endswith(b"\n"):
                    break
            yield line[: max_bytes + 1]
            continue
        yield line


def parse_request(line: bytes | str, n: int, max_bytes: int = MAX_LINE_BYTES) -> tuple[Any, str | None]:
    """One JSON Lines request: ``({"id": ..., "text": ...}, None)``, or ``(id or None, error)`` where
    the error is one plain sentence starting ``line N:``. Bytes must be UTF-8; nothing is replaced."""
    from framelab.core.safejson import UnsafeJSON, loads

    if len(line) > max_bytes:
        return None, f"line {n}: longer than {max_bytes:,} bytes; send one reply of up to {MAX_CHARS:,} characters"
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"line {n}: not UTF-8 text (byte {exc.start + 1} of the line); send the input as UTF-8"
    try:
        req = loads(line, what="this line", max_bytes=max_bytes)
    except UnsafeJSON as exc:
        return None, f'line {n}: {exc} Send one JSON object per line, like {{"id": 1, "text": "..."}}.'
    if not isinstance(req, dict):
        return None, f'line {n}: expected an object like {{"id": ..., "text": ...}}'
    if "id" not in req:
        return None, f"line {n}: no 'id'; give each line an id to match replies"
    if "text" not in req:
        return req["id"], f"line {n}: no 'text' to label"
    return req, None


def run_jsonl(lines: Iterable[bytes | str], detector: Detector) -> tuple[list[dict[str, Any]], int]:
    """Process JSON Lines requests; returns the reply objects (one per non-blank line) and how many failed.
    A bad line (not JSON, not UTF-8, nested too deeply, a number JSON cannot hold) is its own error
    reply; every other line is still labelled."""
    out: list[dict[str, Any]] = []
    failed = 0
    batch: list[tuple[int, Any, str]] = []  # (position in out, id, text)
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        req, error = parse_request(line, n)
        if error is None:
            try:
                batch.append((len(out), req["id"], detector.check(req["text"])))
                out.append({})
                continue
            except Refused as exc:
                req, error = req["id"], f"line {n}: {exc}"
        out.append({"id": req, "line": n, "error": error})
        failed += 1
    for (pos, item_id, _), det in zip(batch, detector.detect_many([t for _, _, t in batch]), strict=True):
        out[pos] = det.to_json(item_id)
    return out, failed


def describe(det: Detection) -> str:
    """One line for people: the labels with their confidence."""
    return ", ".join(f"{TITLES[lab]} ({det.scores[lab]:.0%})" for lab in det.labels)
