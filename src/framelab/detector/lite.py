"""The detector's trained model in a form that runs without scikit-learn: plain arrays and vocabularies.

scikit-learn takes over a second of CPU just to import, which ``framelab detect`` and the role-play
would pay on every start. Training still uses it (:func:`framelab.detector.boundary.fit`); the fitted pipeline
is then turned into a :class:`LinearModel`, which computes the same numbers with numpy alone:

* word 1-2-grams and character 2-5-grams within words (``char_wb``), each with sublinear TF times the
  fitted IDF, normalised to unit length, as ``TfidfVectorizer`` does;
* the cue features, as given;
* one logistic regression per label over all three: ``expit(x . coef + intercept)``.

It is saved as a ``.npz`` of arrays (read with ``allow_pickle=False``: a cache file cannot run code)
and the test suite checks that it agrees with the pipeline to 1e-9 on every bank text.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

FORMAT = "framelab-detect-lite/1"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token_pattern
_SPACES = re.compile(r"\s\s+")


def word_grams(clean: str) -> list[str]:
    tokens = _TOKEN.findall(clean)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def char_wb_grams(clean: str, low: int = 2, high: int = 5) -> list[str]:
    grams = []
    for word in _SPACES.sub(" ", clean).split():
        w = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return grams


def _tfidf(grams: list[str], vocab: dict[str, int], idf: Any) -> dict[int, float]:
    counts = Counter(vocab[g] for g in grams if g in vocab)
    row = {i: (1.0 + math.log(c)) * float(idf[i]) for i, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in row.values()))
    return {i: v / norm for i, v in row.items()} if norm else {}


@dataclass
class LinearModel:
    words: dict[str, int]
    words_idf: Any  # numpy arrays from here on
    chars: dict[str, int]
    chars_idf: Any
    coef: Any  # labels x (words + chars + cues)
    intercept: Any
    stop_words: frozenset[str]

    @classmethod
    def from_pipeline(cls, pipe: Any, stop_words: frozenset[str]) -> LinearModel:
        """The numbers of a fitted ``make_pipeline()``: word and character vectorisers, the cue
        transformer, then one binary logistic regression per label."""
        import numpy as np

        (_, words), (_, chars), _ = pipe.named_steps["features"].transformer_list
        estimators = pipe.named_steps["model"].estimators_
        return cls(
            {k: int(v) for k, v in words.vocabulary_.items()},
            np.asarray(words.idf_, dtype=float),
            {k: int(v) for k, v in chars.vocabulary_.items()},
            np.asarray(chars.idf_, dtype=float),
            np.vstack([e.coef_[0] for e in estimators]).astype(float),
            np.array([float(e.intercept_[0]) for e in estimators]),
            frozenset(stop_words),
        )

    def predict_proba(self, texts: Sequence[str], normalise: Callable[[str], str], cues: Callable[[Any], Any]) -> Any:
        """Per text, per label: the probability, as the pipeline's ``predict_proba`` gives it."""
        import numpy as np

        cue_rows = np.asarray(cues(list(texts)), dtype=float)
        n_words, n_chars = len(self.words_idf), len(self.chars_idf)
        out = np.empty((len(texts), len(self.intercept)))
        for k, text in enumerate(texts):
            clean = normalise(text)
            w = _tfidf(word_grams(clean), self.words, self.words_idf)
            c = _tfidf(char_wb_grams(clean), self.chars, self.chars_idf)
            index = np.fromiter([*w, *(n_words + i for i in c)], dtype=np.int64)
            values = np.fromiter([*w.values(), *c.values()], dtype=float)
            decision = self.coef[:, index] @ values + self.coef[:, n_words + n_chars :] @ cue_rows[k] + self.intercept
            out[k] = 1.0 / (1.0 + np.exp(-decision))
        return out

    def word_coef(self, label: int) -> Any:
        """The weights of the word n-grams towards one label (indexed by :attr:`words`)."""
        return self.coef[label, : len(self.words_idf)]

    def to_bytes(self) -> bytes:
        import numpy as np

        meta = json.dumps(
            {"format": FORMAT, "words": self.words, "chars": self.chars, "stop_words": sorted(self.stop_words)}
        )
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.array(meta),
            words_idf=self.words_idf,
            chars_idf=self.chars_idf,
            coef=self.coef,
            intercept=self.intercept,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        """Raises ValueError (or KeyError, OSError) for anything that is not a whole, current model."""
        import numpy as np

        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError("another format")
            model = cls(
                meta["words"],
                arrays["words_idf"],
                meta["chars"],
                arrays["chars_idf"],
                arrays["coef"],
                arrays["intercept"],
                frozenset(meta["stop_words"]),
            )
        if model.coef.shape[1] < len(model.words_idf) + len(model.chars_idf):
            raise ValueError("the weights do not fit the vocabularies")
        return model
