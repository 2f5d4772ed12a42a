"""Would a stronger sentence model let the guard refuse reworded graded items sent as text alone? Prints figures;
asserts nothing; adopts nothing. Not part of ``make bench``: the model is not a dependency of Frame Lab.

The deployment guard's sentence vectors come from WordLlama (:mod:`framelab.detector.meaning`), a bag of token
vectors; ``bench_guard_levers.py`` shows that they put a heavy paraphrase no nearer its source than honest replies
sit to their nearest graded item. This asks the same of a contextual model, given as a sentence-transformers
folder (for example all-MiniLM-L6-v2), in a separate environment that has ``sentence-transformers``:

    python -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers
    /tmp/st/bin/python tests/benchmarks/bench_guard_sentence_model.py --model /path/to/model-folder

It reads only the project's files (no ``framelab`` import): the graded texts in ``src/framelab/data/detect.json``;
the tuning paraphrases (``heavy_guard_paraphrases.jsonl`` and ``heavy_guard_paraphrases_g2.jsonl``); and, as honest
replies, the tuning role-play replies, the tuning replies to new bids and ruptures, and the training corpus. For each
score it prints the share of paraphrases refused at the threshold where 5% of each honest set is refused:

* ``nearest``: the cosine to the nearest graded reply;
* ``gap``: how far that nearest graded reply stands ahead of the second (a paraphrase sits near one item).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TUNING = ROOT / "tests" / "data" / "tuning"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def honest_sets(data: dict) -> dict[str, list[str]]:
    return {
        "role-play replies": [r["text"] for r in jsonl(TUNING / "roleplay_replies.jsonl")],
        "replies to new bids": [r["text"] for r in jsonl(TUNING / "boundary_replies.jsonl")]
        + [r["text"] for r in jsonl(TUNING / "repair_replies.jsonl")],
        "training corpus": [r["text"] for r in data["corpus"] + data["repair_corpus"]],
    }


def scores(vectors: np.ndarray, graded: np.ndarray) -> dict[str, np.ndarray]:
    near = np.sort(vectors @ graded.T, axis=1)
    return {"nearest": near[:, -1], "gap": near[:, -1] - near[:, -2]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a sentence-transformers model folder")
    args = parser.parse_args(argv)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        parser.exit(2, "bench_guard_sentence_model: needs the sentence-transformers package (see the docstring)\n")
    if not (args.model / "config.json").is_file():
        parser.exit(2, f"bench_guard_sentence_model: {args.model} is not a model folder (no config.json)\n")
    model = SentenceTransformer(str(args.model), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return model.encode(texts, normalize_embeddings=True, batch_size=64)

    data = json.loads((ROOT / "src" / "framelab" / "data" / "detect.json").read_text(encoding="utf-8"))
    graded = embed([g["text"] for g in data["guard"]])
    where = {g["id"]: i for i, g in enumerate(data["guard"])}
    attacks = jsonl(TUNING / "heavy_guard_paraphrases.jsonl") + jsonl(TUNING / "heavy_guard_paraphrases_g2.jsonl")
    a_vec = embed([a["text"] for a in attacks])
    own = np.array([a_vec[i] @ graded[where[a["source_item"]]] for i, a in enumerate(attacks)])
    source = np.mean([(a_vec[i] @ graded.T).argmax() == where[a["source_item"]] for i, a in enumerate(attacks)])
    print(f"bench_guard_sentence_model: {args.model.name}; {len(attacks)} heavy paraphrases (tuning)")
    print(f"  cosine to its source (median) {np.median(own):.2f}; nearest graded reply is its source: {source:.0%}")
    attack = scores(a_vec, graded)
    for name, texts in honest_sets(data).items():
        fair = scores(embed(texts), graded)
        shown = ", ".join(
            f"{lever} {np.mean(attack[lever] >= np.quantile(fair[lever], 0.95)):.0%}" for lever in ("nearest", "gap")
        )
        print(f"  at 5% of {len(texts)} {name} refused: {shown} of paraphrases refused")
    print("  (the target: refuse at least 85% of heavy paraphrases, and at most 5% of honest replies)")


if __name__ == "__main__":
    main()
