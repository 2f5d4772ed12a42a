"""Benchmark: server-side handling of one role-play reply (categorise, transition, save).

Target (issue): under 100 ms at the 95th percentile. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from framelab import roleplay
from framelab.bank import load_bank
from framelab.vocabulary import LABELS

ROOT = Path(__file__).resolve().parents[2]


def main(rounds: int = 200) -> None:
    scenarios = [s.model_dump() for s in load_bank(ROOT / "modules").scenarios]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            sc = scenarios[n % len(scenarios)]
            session = roleplay.start(sc)
            path = roleplay.transcript_path(Path(tmp), sc["id"])
            while not session.done:
                label = LABELS[(n + len(session.turns)) % len(LABELS)]
                start = time.perf_counter()
                roleplay.respond(sc, session, "A reply of a typical length, a sentence or three long. " * 3, [label])
                roleplay.save(session, path)
                times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(
        f"role-play reply (categorise, transition, save), {len(times)} replies over {len(scenarios)} scenarios: "
        f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms (target p95 < 100 ms)"
    )


if __name__ == "__main__":
    main()
