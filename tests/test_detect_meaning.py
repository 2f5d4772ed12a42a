"""Meaning-level similarity (framelab.detector.meaning, the wordllama wheel) and the deployment guard built on it:
it loads with the network closed, refuses every assessment item and no practice item, and does without the
package where it is missing."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import BIN, ROOT

from framelab.detector import guard as guardmod
from framelab.detector import meaning
from framelab.detector.boundary import Refused, load_detector

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network closed by the test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from framelab.detector import meaning
v = meaning.embed(["I won't be meeting you outside our sessions.", "Can we be friends?"])
print(v.shape[0], v.shape[1], round(float((v[0] ** 2).sum()), 3))
"""


def test_the_sentence_vectors_load_with_the_network_closed(tmp_path):
    env = {"PATH": str(BIN), "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run(
        [str(BIN / "python"), "-c", NO_NETWORK], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", str(meaning.DIM), "1.0"]
    assert not (tmp_path / "cache").exists()  # nothing fetched into a cache either


def test_close_meanings_are_closer_than_unrelated_ones():
    a, b, c = meaning.embed(
        [
            "I can't meet you for coffee, our work stays in this room.",
            "Meeting up for a coffee isn't something I'll do; what we do belongs in here.",
            "Remember your umbrella, it's pouring down outside.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1
    assert meaning.embed([]).shape == (0, meaning.DIM)


@pytest.fixture(scope="module")
def deployed():
    return load_detector(deployment=True)


def test_the_deployment_guard_refuses_every_assessment_item_and_no_practice_item(bank, deployed):
    for r in bank.responses:
        if r.split == "assessment":
            with pytest.raises(Refused):
                deployed.check(r.text)
        else:
            assert deployed.guard.close_in_meaning(r.text) is None, f"{r.id} would be refused in a course"


def test_the_blend_uses_the_sentence_vectors(deployed):
    assert deployed.guard.meaning_threshold == guardmod.BLEND_THRESHOLD
    text = "Honestly, how is your week going? Tell me about the new job."
    _, tfidf = deployed.guard._meaning.closest(text)
    cosine = float((deployed.guard._vectors @ meaning.embed([text])[0]).max())
    blended = (1 - guardmod.EMBEDDING_SHARE) * tfidf + guardmod.EMBEDDING_SHARE * cosine
    assert deployed.guard.meaning_score(text) == pytest.approx(blended)
    assert not np.isclose(blended, tfidf)


def test_without_the_package_the_guard_falls_back_to_tfidf(monkeypatch, bank):
    monkeypatch.setattr(meaning, "available", lambda: False)
    items = tuple((r.id, r.text) for r in bank.responses if r.split == "assessment")
    plain = guardmod.Guard(items, meaning=True)
    assert plain._vectors is None and plain.meaning_threshold == guardmod.MEANING_THRESHOLD
    text = "Anyway, where had we got to with your plans for the holidays?"
    assert plain.meaning_score(text) == pytest.approx(plain._meaning.closest(text)[1])
    assert guardmod.Guard(items, meaning=False).meaning_score(text) == 0.0


def test_client_lines_are_compared_word_for_word():
    assert guardmod.client_key("  Can we, BE friends?? ") == "can we be friends"
    assert guardmod.client_key("") == ""
    items, clients = (("x1", "I won't be meeting you outside."),), ("Can we be friends?",)
    course = guardmod.Guard(items, meaning=True, clients=clients)
    assert course.graded_client("can we be FRIENDS", "I won't meet you outside our sessions.")
    assert not course.graded_client("Can we be friends soon?", "I won't meet you outside our sessions.")
    assert not course.graded_client("", "I won't meet you outside our sessions.")
    assert not course.graded_client("Can we be friends?", "Remember your umbrella, it's pouring down outside.")
    assert not guardmod.Guard(items, meaning=False, clients=clients).graded_client("Can we be friends?")  # self-study


def test_without_the_package_a_graded_client_line_is_refused_whatever_the_reply(monkeypatch):
    monkeypatch.setattr(meaning, "available", lambda: False)
    course = guardmod.Guard((("x1", "I won't be meeting you outside."),), meaning=True, clients=("Can we be friends?",))
    assert course.graded_client("Can we be friends?", "Remember your umbrella, it's pouring down outside.")


def test_the_guard_levers_bench_scores_every_lever_it_names():
    """``make bench`` prints the levers tried for text alone (README, "Levers tried"); this keeps the bench running
    on the tuning sets it names and printing a share for each lever, with role-play replies as the honest set."""
    done = subprocess.run(
        [str(BIN / "python"), str(ROOT / "tests" / "benchmarks" / "bench_guard_levers.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    names = {line[:14].strip() for line in done.stdout.splitlines() if line.startswith("  ") and "% (" in line}
    assert names == {"nearest", "gap", "bid gate", "any line", "fit", "foreign", "either"}, done.stdout
    assert "70 heavy paraphrases (tuning)" in done.stdout
    assert "Role-play only: 170 honest role-play replies (tuning), 16 role-plays" in done.stdout


def test_the_sentence_model_bench_says_what_it_needs(tmp_path):
    """``bench_guard_sentence_model.py`` measures a model that is not a dependency; without the package or the
    model folder it says which, in one line, and exits 2."""
    done = subprocess.run(
        [
            str(BIN / "python"),
            str(ROOT / "tests" / "benchmarks" / "bench_guard_sentence_model.py"),
            "--model",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert ("needs the sentence-transformers package" in done.stderr) or (
        f"{tmp_path} is not a model folder" in done.stderr
    )
