"""Self-study response times: the notebook's "Check my graded answers" and the progress Refresh.

Printed, not asserted. The views load the course's bank in the background when they are shown,
so what a learner waits for after pressing is the "warm" figure; "cold" is a press that comes
before that load has finished (it waits for it).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import copy_course  # noqa: E402

from framelab.learner.workspace import populate  # noqa: E402
from framelab.views.progress import ProgressView, SelfCheckView  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = copy_course(Path(tmp) / "course")
        populate(course / "release", course / "workspace")
        notebook = course / "workspace" / "m1_double_bind" / "m1_double_bind.ipynb"
        view = SelfCheckView(notebook)
        cold = timed(view.on_check)
        warm = sorted(timed(view.on_check) for _ in range(5))[2]
        progress = ProgressView(course / "workspace")
        refresh = sorted(timed(progress.button.click) for _ in range(5))[2]
        quick = sorted(timed(lambda: progress.progress(course / "workspace", scores=False)) for _ in range(5))[2]
    print(f"Check my graded answers: {warm * 1000:.0f} ms (median of 5, bank loaded); first press, cold: {cold:.2f} s")
    print(
        f"Progress Refresh (7 modules, with scores): {refresh * 1000:.0f} ms; "
        f"table without scores: {quick * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
