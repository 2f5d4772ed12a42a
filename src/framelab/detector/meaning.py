"""Meaning past word overlap: sentence vectors from the ``wordllama`` wheel, loaded offline.

WordLlama (github.com/dleemiller/WordLlama) is a bag of token embeddings taken from a large language model's
input layer and trained for sentence similarity; its wheel ships the 256-dimension weights and the tokenizer,
so nothing is downloaded. Its own ``WordLlama.load()`` looks for the tokenizer where the wheel does not put it
and then tries the network, so this module opens the wheel's two files itself (and never falls back to a
download). Where the package is missing, :func:`available` is False and callers do without.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

DIM = 256
_WEIGHTS = f"weights/l2_supercat_{DIM}.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


def _package() -> Path | None:
    try:
        import wordllama
    except ImportError:
        return None
    root = Path(wordllama.__file__).parent
    return root if (root / _WEIGHTS).is_file() and (root / _TOKENIZER).is_file() else None


def available() -> bool:
    return _package() is not None


def version() -> str:
    """The wheel's version (part of the cache key of a model trained with these vectors), or ``none``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("wordllama") if available() else "none"
    except PackageNotFoundError:
        return "none"


@lru_cache(maxsize=1)
def _model() -> Any:
    root = _package()
    if root is None:
        raise ImportError("the 'wordllama' package (with its model files) is not installed")
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    with safe_open(str(root / _WEIGHTS), framework="np", device="cpu") as fh:
        embedding = fh.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, Tokenizer.from_file(str(root / _TOKENIZER)))


def embed(texts: list[str]) -> Any:
    """Unit-length sentence vectors, one row per text (float64); raises ImportError without the package."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIM))
    vectors = np.asarray(_model().embed(list(texts), norm=True), dtype=float)
    return vectors.reshape(len(texts), DIM)
