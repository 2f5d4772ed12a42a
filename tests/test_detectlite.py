"""The detector's saved model runs without scikit-learn and gives the trained pipeline's numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from framelab.detector.cues import normalise
from framelab.detector.data import load_data
from framelab.detector.lite import LinearModel, char_wb_grams, word_grams
from framelab.detector.model import _cue_features, _stop_words, fit

BIN = Path(sys.executable).parent


def test_the_grams_are_the_vectorisers():
    assert word_grams("i can hear you") == ["can", "hear", "you", "can hear", "hear you"]
    assert char_wb_grams("ab  c", 2, 3) == [" a", "ab", "b ", " ab", "ab ", " c", "c ", " c "]


def test_the_lite_model_gives_the_pipelines_numbers_without_scikit_learn(bank, tmp_path):
    """The saved arrays label exactly as the trained pipeline does, and loading them imports no scikit-learn."""
    pipe = fit(load_data().practice)
    model = LinearModel.from_bytes(LinearModel.from_pipeline(pipe, _stop_words()).to_bytes())
    texts = [r.text for r in bank.responses] + ["", "Ünïcode   ça va?\tnaïve", "I  hear you"]
    got = model.predict_proba(texts, normalise, _cue_features)
    assert np.abs(got - pipe.predict_proba(texts)).max() < 1e-9
    words = pipe.named_steps["features"].transformer_list[0][1]
    for i, estimator in enumerate(pipe.named_steps["model"].estimators_):
        assert np.array_equal(model.word_coef(i), estimator.coef_[0][: len(words.idf_)])

    env = {"FRAMELAB_CACHE": str(tmp_path / "cache"), "PATH": str(BIN), "HOME": str(tmp_path)}
    subprocess.run([str(BIN / "framelab"), "detect", "--train"], env=env, check=True, capture_output=True)
    probe = (
        "import sys\nfrom framelab.detector.boundary import load_detector\nd = load_detector()\n"
        "print(d.detect('I can hear this matters.').labels, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True).stdout
    assert out.strip().endswith("False")
