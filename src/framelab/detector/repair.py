"""The repair detector: reads a reply to a client who objects to something the therapist did.

Rupture and repair (Safran & Muran; Eubanks, Muran & Safran 2018) has its own rubric
(:data:`framelab.core.rubrics.RUBRICS`, ``"repair"``): the same eight labels, named for what they do when a
client objects (thank them for saying it, own your part, get curious; against dismissing it for later,
defending, dismissing it and moving on, apologising then justifying, and over-apologising). The
boundary-bid detector (:mod:`framelab.detector.boundary`) learned from replies to friendship bids and never sees
these; this one learns from the bank's **repair** practice items (``rubric: repair`` in
``modules/m5_alliance/responses.yaml``), with the same machinery: TF-IDF word and character n-grams, the
repair cue patterns as extra features, one logistic regression per label, cached as plain arrays under
the bank's hash. The same guard refuses assessment items (and, in a course deployment, paraphrases).

The role-play reads rupture scenarios with it (:func:`framelab.detector.readers.for_roleplay`); the repair cue
rules (:func:`framelab.roleplay.reading.by_repair_cues`) remain only as the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from framelab.core import settings
from framelab.core.rubrics import REPAIR
from framelab.core.vocabulary import LABELS
from framelab.detector import model
from framelab.detector.boundary import Detector
from framelab.detector.cues import REPAIR_CUES, normalise, repair_cue_matches
from framelab.detector.data import DATA_FILE, DetectError, Example, load_data
from framelab.detector.guard import Guard

#: Bumped whenever the repair model's features change, so old caches are not reused.
MODEL_VERSION = "repair/1"
RUBRIC = REPAIR

#: How much a matched repair cue weighs against the n-gram features (cross-validated on the repair
#: practice split only; see ``tests/benchmarks/bench_detect.py``).
CUE_WEIGHT = 0.3
_PATTERNS = [re.compile(p, re.IGNORECASE) for lab in LABELS for p in REPAIR_CUES.get(lab, ())]


def cue_features(texts: Any) -> Any:
    """One column per repair cue pattern: :data:`CUE_WEIGHT` where it matches."""
    import numpy as np

    clean = [normalise(t) for t in texts]
    rows = [[CUE_WEIGHT if p.search(c) else 0.0 for p in _PATTERNS] for c in clean]
    return np.asarray(rows, dtype=float).reshape(len(rows), len(_PATTERNS))


class RepairDetector(Detector):
    """The detector for replies to ruptures: the same interface as :class:`framelab.detector.boundary.Detector`."""

    rubrics = frozenset({RUBRIC})
    cue_features = staticmethod(cue_features)
    cue_finder = staticmethod(repair_cue_matches)
    label_thresholds: Mapping[str, float] = {}  # every label at model.THRESHOLD


def decide(probs: list[float]) -> list[str]:
    """The labels the repair detector proposes for one row of probabilities."""
    return model.decide(probs, per_label=RepairDetector.label_thresholds)


def fit(examples: list[Example] | tuple[Example, ...]) -> Any:
    """The scikit-learn pipeline trained on repair examples (for the benchmark's cross-validation)."""
    return model.fit(examples, cue_features)


def cache_key(digest: str) -> str:
    """The cache key: the bank's data, this file, and the model's and the cues' own files."""
    return model.cache_key(digest, MODEL_VERSION, Path(__file__).read_bytes())


def load_repair_detector(
    data_path: Path = DATA_FILE, *, use_cache: bool = True, deployment: bool | None = None
) -> RepairDetector:
    """The repair detector for the current bank, from the cache or trained (as
    :func:`framelab.detector.boundary.load_detector`). Raises :class:`framelab.detector.data.DetectError` when the bank
    has no repair responses to learn from."""
    data = load_data(data_path)
    if not data.repair:
        raise DetectError(f"{data_path} has no repair responses to learn from: run 'framelab build'.")
    deployed = settings.course_deployment() if deployment is None else deployment
    guard = Guard(data.guard, meaning=deployed, clients=data.guard_clients)
    trained = model.trained_model(
        "repair", data.repair_training, cache_key(data.digest), cue_features, use_cache=use_cache
    )
    return RepairDetector(trained, guard, data.digest)


@lru_cache(maxsize=1)
def default_repair_detector() -> RepairDetector:
    return load_repair_detector()
