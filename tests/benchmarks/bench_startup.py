"""Benchmark: fixed costs of every command. Prints figures; asserts nothing.

* The content bank: ``load_bank`` in a fresh process with an empty cache (cold: the bank is read from
  ``modules/`` and compiled) and again with the cache filled (warm), each split into the import of
  ``framelab.bank.loader`` and the load itself; the full validation (``framelab validate``'s checks) for
  comparison.
* Python's bytecode is compiled once (as on the first use after installing) into a folder of the run's
  own, then every figure is taken with it, as an installed copy runs.
* Each learner and instructor command started cold (a fresh process, as a person types it) on a
  course copy with a seven-module workspace and a hand-filled gradebook: seconds until the first line
  of output, and until the command ends. ``check`` runs with ``--no-validate`` (nbgrader's own
  validation executes the notebook; its time is nbgrader's, shown separately).

The figures are medians over ``--repeats`` runs. The framelab caches (bank, detector) are kept in a
temporary folder for the run (``FRAMELAB_CACHE``), so the run neither reads nor fills your own.

    python tests/benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PYTHON = sys.executable

LOAD = """
import json, sys, time
t0 = time.perf_counter()
from framelab.bank.loader import load_bank
t1, c1 = time.perf_counter(), time.process_time()
bank = load_bank(sys.argv[1], **json.loads(sys.argv[2]))
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "load_cpu": c2 - c1, "items": len(bank.items()),
                  "problems": len(bank.problems)}))
"""


#: Python's compiled bytecode, kept in a folder of the run's own (see main()).
PYCACHE: dict[str, str] = {}


def env_with(cache: Path) -> dict[str, str]:
    env = {**os.environ, "FRAMELAB_CACHE": str(cache), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, **PYCACHE}


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_once(modules: Path, cache: Path, **kwargs: bool) -> dict[str, float]:
    proc = subprocess.run(
        [PYTHON, "-c", LOAD, str(modules), json.dumps(kwargs)],
        env=env_with(cache),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def bank_figures(modules: Path, cache_root: Path, repeats: int) -> list[tuple[str, float, float]]:
    cold, warm, full = [], [], []
    for i in range(repeats):
        cache = cache_root / f"bank-{i}"
        cold.append(load_once(modules, cache))  # empty cache: compiled from modules/
        warm.append(load_once(modules, cache))  # the compiled form written just now
        full.append(load_once(modules, cache_root / f"full-{i}", validate=True))
    rows = []
    for name, runs in (("bank load, cold", cold), ("bank load, warm", warm), ("bank validate (all checks)", full)):
        rows.append((name, *(statistics.median(r[k] for r in runs) for k in ("import", "load", "load_cpu"))))
    print(f"bank: {cold[0]['items']} items, {cold[0]['problems']} problem(s) at runtime, {full[0]['problems']} in full")
    return rows


def first_line(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str = "") -> tuple[float, float, float]:
    """Seconds until the first line on stdout, until the command ended, and of CPU it used."""
    with tempfile.TemporaryFile("w+") as err:
        cpu = cpu_of_children()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(stdin)
        proc.stdin.close()
        proc.stdout.readline()
        first = time.perf_counter() - start
        proc.stdout.read()
        proc.wait()
        total = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            err.seek(0)
            print(f"  ({' '.join(cmd[1:])} exited {proc.returncode}: {err.read().strip().splitlines()[-1:]})")
    return first, total, cpu_of_children() - cpu


def answer_half(workspace: Path) -> None:
    """A learner halfway through every module: the first option picked for every other graded item."""
    from framelab.scoring import answers

    for content_path in sorted(workspace.glob("*/content.json")):
        content = json.loads(content_path.read_text(encoding="utf-8"))
        for ex_id, ex in content["exercises"].items():
            first = ex["options"][0][0] if isinstance(ex["options"][0], list) else ex["options"][0]
            picks = {row["id"]: [first] if ex.get("multi") else first for row in ex["items"][::2]}
            answers.write(content_path.parent / answers.FILENAME, ex_id, picks)


def make_course(where: Path) -> Path:
    """A course copy with a seven-module workspace and a gradebook filled through nbgrader's API."""
    from nbgrader.api import Gradebook

    course = where / "course"
    course.mkdir()
    for name in ("modules", "release", "source"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    subprocess.run([BIN / "framelab", "workspace", "--to", "workspace"], cwd=course, check=True, capture_output=True)
    answer_half(course / "workspace")
    assignments = sorted(p.name for p in (course / "release").iterdir() if p.is_dir())
    due = datetime.datetime(2030, 1, 10, 12, 0)
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # nbgrader runs alembic by name
    warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes while nbgrader's API fills the book
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "framelab") as gb:
        for a in assignments:
            gb.add_assignment(a, duedate=due)
            gb.add_notebook(a, a)
            gb.add_grade_cell("items", a, a, max_score=16, cell_type="code")
        for n in range(12):
            gb.add_student(f"t{n:02d}")
            for a in assignments:
                gb.add_submission(a, f"t{n:02d}", timestamp=due)
                for g in gb.find_submission_notebook(a, a, f"t{n:02d}").grades:
                    g.auto_score = (n * 7 + len(a)) % 17
        gb.db.commit()
    return course


def command_figures(course: Path, cache: Path, repeats: int, out: Path) -> list[tuple[str, float, float]]:
    env = env_with(cache)
    fl = str(BIN / "framelab")
    nb = "workspace/m1_double_bind/m1_double_bind.ipynb"
    reply = json.dumps({"id": 1, "text": "I can hear how much this matters; I won't meet outside our sessions."})
    commands = {
        "framelab check --no-validate": ([fl, "check", nb, "--no-validate"], ""),
        "framelab progress": ([fl, "progress", "workspace"], ""),
        "framelab detect (one line)": ([fl, "detect"], reply + "\n"),
        "framelab report": ([fl, "report", "--out", str(out / "report")], ""),
        "framelab export": ([fl, "export", "--out", str(out / "export")], ""),
        "framelab --version": ([fl, "--version"], ""),
    }
    # fill the caches as `make install` does, so that "cold" is the process, not a first-ever run
    subprocess.run([fl, "detect", "--train"], cwd=course, env=env, check=True, capture_output=True)
    subprocess.run([fl, "validate"], cwd=course, env=env, check=True, capture_output=True)
    rows = []
    for name, (cmd, stdin) in commands.items():
        first_line(cmd, course, env, stdin)  # the first run after installing compiles Python's bytecode
        runs = [first_line(cmd, course, env, stdin) for _ in range(repeats)]
        rows.append((name, *(statistics.median(r[k] for r in runs) for k in range(3))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="framelab-startup-") as tmp:
        tmp_path = Path(tmp)
        # bytecode as an ordinary installation has it (written on first use), even where the
        # environment says not to write it (PYTHONDONTWRITEBYTECODE), and not into the tree
        PYCACHE["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
        load_once(ROOT / "modules", tmp_path / "warm-up", validate=True)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rows = bank_figures(ROOT / "modules", tmp_path / "cache", args.repeats)
        print(
            f"\n{'content bank (median of ' + str(args.repeats) + ')':<34} {'import s':>9} {'load s':>9} {'CPU s':>7}"
        )
        for name, imp, load, cpu in rows:
            print(f"{name:<34} {imp:>9.3f} {load:>9.3f} {cpu:>7.3f}")
        course = make_course(tmp_path)
        rows = command_figures(course, tmp_path / "cache", args.repeats, tmp_path / "out")
        print(f"\n{'command, cold process (median)':<34} {'first line s':>12} {'total s':>9} {'CPU s':>7}")
        for name, first, total, cpu in rows:
            print(f"{name:<34} {first:>12.2f} {total:>9.2f} {cpu:>7.2f}")


if __name__ == "__main__":
    main()
