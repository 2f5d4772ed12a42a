"""The guard that keeps the detectors from being an answer key: it refuses a text that copies an
assessment item (word 3-grams, then characters) and, in a course deployment, one close to an assessment
item in meaning (TF-IDF closeness blended with WordLlama sentence vectors, :mod:`framelab.detector.meaning`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from framelab.detector import meaning
from framelab.detector.cues import normalise, words

#: A text at least this similar to an assessment item (word 3-gram or character similarity) is refused.
#: Lightly edited copies of assessment items score 0.88 and more; the closest practice item, 0.63.
GUARD_THRESHOLD = 0.75


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    tokens = words(text)
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


#: In a course deployment without the ``wordllama`` package, a text this close in meaning to an assessment item
#: (the mean of word and character TF-IDF cosines, :class:`MeaningIndex`) is refused too. Chosen on the
#: paraphrase and tuning sets in ``tests/data/tuning`` (``tests/benchmarks/bench_detect.py``).
MEANING_THRESHOLD = 0.45
#: With ``wordllama`` (:mod:`framelab.detector.meaning`), the score is that TF-IDF closeness blended with the
#: cosine of the sentence vectors (:data:`EMBEDDING_SHARE` of it), and this threshold applies. Chosen on the
#: tuning sets only (``tests/data/tuning``: 74 paraphrases of graded items, 134 trainee-style replies;
#: ``bench_detect.py``): with the detectors trained on the corpus, 7 of 74 paraphrases answered with the key (9%;
#: 8 with TF-IDF alone at 0.45, which also refuses a practice item), 5 of 134 honest replies refused (3.7%), no
#: practice item refused (the closest scores 0.608; an assessment item's copy 1.0).
BLEND_THRESHOLD = 0.615
EMBEDDING_SHARE = 0.6
#: A reply sent with a graded item's client line is refused when its sentence-vector cosine to that item's response
#: is at least this (:meth:`Guard.graded_client`). Chosen on the tuning sets (``bench_detect.py``): of 70 heavy
#: paraphrases sent with their client line, 5 answered with the key (7%; 42 with the bank-wide guard alone); of
#: the 41 practice items whose bid is also a graded item's, 13 refused when sent with it (at 0.2: none answered,
#: 20 refused; at 0.4: 11 answered, 7 refused). No tuning, corpus or role-play line is a graded client line.
CLIENT_LINE_THRESHOLD = 0.3


def client_key(line: str) -> str:
    """A client line as the guard compares it: lower case, words only (punctuation, spacing and case ignored)."""
    return " ".join(re.findall(r"[a-z0-9]+", normalise(line or "")))


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


@dataclass
class Guard:
    """Refuses texts that are near-duplicates of assessment items; in a course deployment
    (``meaning=True``), also texts close to one in meaning."""

    items: tuple[tuple[str, str], ...]
    threshold: float = GUARD_THRESHOLD
    meaning: bool = False
    #: the client line of each item ("" where none), in the order of ``items``
    clients: tuple[str, ...] = ()
    _index: list[tuple[str, str, set[tuple[str, ...]]]] = field(default_factory=list, repr=False)
    _meaning: MeaningIndex | None = field(default=None, repr=False)

    _vectors: Any = field(default=None, repr=False)
    _clients: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = [(iid, normalise(text), _shingles(text)) for iid, text in self.items]
        if self.meaning:
            for i, key in enumerate(map(client_key, self.clients)):
                if key:
                    self._clients.setdefault(key, []).append(i)
            self._meaning = MeaningIndex([text for _, text in self.items])
            if self.items and meaning.available():
                self._vectors = meaning.embed([text for _, text in self.items])

    def meaning_score(self, text: str) -> float:
        """How close in meaning the text is to the nearest assessment item (0-1): TF-IDF closeness, blended
        with sentence-vector cosine where ``wordllama`` is installed. 0 outside a course deployment."""
        if self._meaning is None or not self.items:
            return 0.0
        _, score = self._meaning.closest(text)
        if self._vectors is None:
            return score
        cosine = float((self._vectors @ meaning.embed([text])[0]).max())
        return (1 - EMBEDDING_SHARE) * score + EMBEDDING_SHARE * cosine

    @property
    def meaning_threshold(self) -> float:
        return MEANING_THRESHOLD if self._vectors is None else BLEND_THRESHOLD

    def close_in_meaning(self, text: str) -> float | None:
        """How close in meaning the text is to an assessment item, where that is at or above the threshold."""
        score = self.meaning_score(text)
        return score if self._meaning is not None and score >= self.meaning_threshold else None

    def graded_client(self, client: str, text: str = "") -> bool:
        """Whether, in a course deployment, ``text`` answers a graded item's bid: ``client`` is that item's client
        line (word for word; case, punctuation and spacing ignored) and the text is at least
        :data:`CLIENT_LINE_THRESHOLD` close to the item's response in sentence vectors (any text, without
        ``wordllama``). Heavy rewording keeps an item's moves but not its words, so the guard's threshold for the
        whole bank lets it through; against the one item of the same bid, a low bar tells it from most other
        replies. It stops nothing when the client line is left out or reworded."""
        rows = self._clients.get(client_key(client)) if self._clients else None
        if not rows:
            return False
        if self._vectors is None or not text.strip():
            return True
        return float((self._vectors[rows] @ meaning.embed([text])[0]).max()) >= CLIENT_LINE_THRESHOLD

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
