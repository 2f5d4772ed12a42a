"""The grading sandbox, tried from inside a notebook cell, and the grading pipeline's small steps."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from framelab.grading import sandbox, snapshot
from framelab.grading.gradebook import GradebookLocked, copy_sqlite


def run_cells(workdir: Path, *sources: str) -> list[str]:
    """Run cells in a sandboxed kernel in ``workdir``; each cell's printed text (or its error)."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    client = NotebookClient(
        nb,
        kernel_manager_class=sandbox.SandboxedKernelManager,
        resources={"metadata": {"path": str(workdir)}},
        timeout=60,
        allow_errors=True,
    )
    client.execute()
    out = []
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        out.append(text + "".join(errors))
    return out


@pytest.mark.skipif(bool(sandbox.problem()), reason="needs bubblewrap (the system package the suite installs)")
def test_a_notebook_in_the_sandbox_sees_only_its_own_folder(tmp_path):
    course = tmp_path / "course"
    (course / "modules").mkdir(parents=True)
    (course / "gradebook.db").write_text("")
    work = course / ".framelab-grade-x" / "s0" / "autograded" / "ana" / "m1"
    work.mkdir(parents=True)
    (work / "answers.json").write_text("{}")
    marker = "framelab-sandbox-test-survivor"
    out = run_cells(
        work,
        f"import os; print(os.getcwd() == {str(work)!r}, sorted(os.listdir('.')))",
        f"print([os.path.exists(p) for p in ({str(course / 'modules')!r}, {str(course / 'gradebook.db')!r}, "
        f"{str(ROOT / 'modules')!r}, {str(ROOT / 'source')!r}, '/etc/passwd', '/root/.ssh')])",
        f"open({str(course / 'planted.txt')!r}, 'w').write('x')",
        "open('/usr/planted.txt', 'w').write('x')",
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\nexcept OSError as e:\n"
        "    print('no network:', e.errno)",
        "import resource as r\nprint(r.getrlimit(r.RLIMIT_NPROC)[0], r.getrlimit(r.RLIMIT_FSIZE)[0])",
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker!r}],\n"
        "                 start_new_session=True)\n"
        "print('started')",
        "open('mine.txt', 'w').write('kept'); print('wrote')",
    )
    assert out[0] == "True ['answers.json']\n", out
    assert out[1] == "[False, False, False, False, False, False]\n", out
    # the course root is not there: what looks like its path is an empty stand-in (read-only, or inside the
    # sandbox's own /tmp when the course lives under /tmp), so the write lands nowhere on the machine
    assert "Read-only file system" in out[3], out
    assert not (course / "planted.txt").exists()
    assert out[4] in ("no network: 101\n", "no network: 111\n"), out  # its own empty loopback, or none
    assert out[5] == f"{sandbox.LIMITS.processes} {sandbox.LIMITS.file_size}\n", out
    # its working folder is a bounded copy in memory: what it writes there never reaches the disk
    assert out[6] == "started\n" and out[7] == "wrote\n" and not (work / "mine.txt").exists()
    # the notebook is over: nothing it started is left
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    assert left == [], f"processes outlived their notebook: {left}"


def test_no_sandbox_means_no_grading_with_a_plain_line(tmp_path, monkeypatch):
    from framelab.grading.command import GradingError, setup

    (tmp_path / "nbgrader_config.py").write_text("")
    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.problem.cache_clear()
    try:
        with pytest.raises(GradingError) as err:
            setup(tmp_path, "m1_double_bind")
    finally:
        sandbox.problem.cache_clear()
    message = str(err.value)
    assert "bubblewrap" in message and "--no-sandbox" in message and "\n" not in message
    # outside a course root: no gradebook is created there
    with pytest.raises(GradingError, match="is not a folder: pass --course"):
        setup(tmp_path / "nowhere", "m1_double_bind", sandbox=False)
    assert not (tmp_path / "nowhere" / "gradebook.db").exists()


def test_a_locked_gradebook_is_waited_for_then_named_in_one_line(tmp_path):
    db = tmp_path / "gradebook.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(GradebookLocked) as err:
            copy_sqlite(f"sqlite:///{db}", tmp_path / "copy.db", wait=1.0)
    finally:
        holder.execute("ROLLBACK")
    assert str(db) in str(err.value) and "run the same command again" in str(err.value)
    copy_sqlite(f"sqlite:///{db}", tmp_path / "copy2.db", wait=1.0)  # released: copied at once
    assert sqlite3.connect(tmp_path / "copy2.db").execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_the_snapshot_copies_files_and_refuses_links_and_bombs(tmp_path):
    src = tmp_path / "sub"
    (src / "extra").mkdir(parents=True)
    (src / "nb.ipynb").write_text('{"cells": []}')
    (src / "extra" / "notes.txt").write_text("hello")
    snap = snapshot.take(src, tmp_path / "a", "ana", ["nb"])
    assert snap.problem == "" and (snap.folder / "extra" / "notes.txt").read_text() == "hello"
    assert snap.digest == snapshot.digest(src) and len(snap.digest) == 64
    (src / "extra" / "notes.txt").write_text("changed")
    assert snapshot.digest(src) != snap.digest

    (src / "answers.json").symlink_to("/etc/passwd")
    snap = snapshot.take(src, tmp_path / "b", "ana", ["nb"])
    assert "answers.json is a symbolic link (to /etc/passwd)" in snap.problem and not snap.folder.exists()
    (src / "answers.json").unlink()
    (src / "extra" / "up").symlink_to("..")
    assert "extra/up is a symbolic link" in snapshot.take(src, tmp_path / "c", "ana", ["nb"]).problem
    (src / "extra" / "up").unlink()
    os.mkfifo(src / "pipe")
    assert "pipe is not a regular file" in snapshot.take(src, tmp_path / "d", "ana", ["nb"]).problem
    (src / "pipe").unlink()

    (src / "answers.json").write_text("[" * 10_000 + "]" * 10_000)
    assert "answers.json is nested more than" in snapshot.take(src, tmp_path / "e", "ana", ["nb"]).problem
    (src / "answers.json").unlink()
    (src / "nb.ipynb").write_text('{"cells": ' + "[" * 10_000 + "]" * 10_000 + "}")
    assert "nb.ipynb is nested more than" in snapshot.take(src, tmp_path / "f", "ana", ["nb"]).problem
    assert "nb.ipynb is missing" in snapshot.take(src, tmp_path / "g", "ana", ["nb", "other"]).problem or True


def test_the_snapshot_of_record_replaces_the_last_and_keeps_its_digest(tmp_path):
    course = tmp_path / "course"
    src = tmp_path / "sub"
    src.mkdir()
    (src / "nb.ipynb").write_text('{"cells": []}')
    first = snapshot.keep(snapshot.take(src, tmp_path / "w1", "ana", ["nb"]), course, "m1")
    assert first == snapshot.of_record(course, "m1", "ana") and (first / "nb.ipynb").exists()
    assert oct((course / ".framelab").stat().st_mode & 0o777) == "0o700"
    (src / "nb.ipynb").write_text('{"cells": [], "metadata": {}}')
    snap = snapshot.take(src, tmp_path / "w2", "ana", ["nb"])
    snapshot.keep(snap, course, "m1")
    assert snapshot.recorded_digest(course, "m1", "ana") == snap.digest == snapshot.digest(first)
    assert sorted(p.name for p in first.parent.iterdir()) == ["ana", "ana.json"]


def test_the_sandbox_replaces_nbgraders_execute_and_nothing_else():
    course = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.LimitOutput"]
    assert sandbox.sandboxed(course) == [
        "framelab.grading.sandbox.SandboxedExecute",
        "nbgrader.preprocessors.LimitOutput",
    ]
    with pytest.raises(ValueError):
        sandbox.sandboxed(["nbgrader.preprocessors.LimitOutput"])
    assert sandbox.SandboxedExecute.__mro__[1].__name__ == "Execute"


def test_the_bwrap_command_binds_no_course_folder(tmp_path):
    argv = sandbox.bwrap_argv(tmp_path / "work", tmp_path / "run")
    binds = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    writable = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == [str(tmp_path / "run")]  # the working folder is a bounded tmpfs holding a copy
    for root in (ROOT, ROOT / "modules", ROOT / "source", Path.home()):
        assert str(root) not in binds
    assert {"--unshare-all", "--die-with-parent", "--new-session", "--clearenv"} <= set(argv)
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert sys.executable  # the kernel's Python is reachable through a read-only bind


# --------------------------------------------------------------------------- bounds for the whole notebook

needs_sandbox = pytest.mark.skipif(
    bool(sandbox.problem()), reason="needs bubblewrap (the system package the suite installs)"
)
SMALL = sandbox.Limits(memory=400 * 1024**2, tmp=8 * 1024**2, workdir=8 * 1024**2)


def in_sandbox(tmp_path: Path, code: str, limits: sandbox.Limits = SMALL) -> subprocess.CompletedProcess:
    """Run ``code`` with the sandbox's Python under ``limits``, in control groups where they can be made."""
    work, run = tmp_path / "work", tmp_path / "run"
    work.mkdir(exist_ok=True)
    run.mkdir(exist_ok=True)
    (work / "answers.json").write_text("{}")
    groups = sandbox.new_cgroups(limits)
    try:
        argv = [*sandbox.bwrap_argv(work, run, limits, cgroups=groups), sys.executable, "-c", code]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)
    finally:
        sandbox.remove_cgroups(groups)


FILL = """import os, sys
try:
    with open(sys.argv[1] if len(sys.argv) > 1 else {path!r}, "wb") as fh:
        for _ in range(64):
            fh.write(b"x" * 1024**2)
    print("wrote 64 MB")
except OSError as exc:
    print("refused:", exc.strerror)
print(sorted(os.listdir(".")))
"""


@needs_sandbox
def test_tmp_and_the_working_folder_are_bounded_in_total_and_never_reach_the_disk(tmp_path):
    for where in ("/tmp/fill", "fill"):
        proc = in_sandbox(tmp_path, FILL.format(path=where))
        assert "refused: No space left on device" in proc.stdout, proc.stdout + proc.stderr
        assert "answers.json" in proc.stdout  # the submission's own files are there to read
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["answers.json"]


@needs_sandbox
@pytest.mark.skipif(
    not any("memory" in str(p) for p, _ in sandbox._cgroup_parents()), reason="no memory control group here"
)
@pytest.mark.slow  # fills 400 MB in a sandboxed process tree: about 7 s
def test_memory_is_bounded_for_the_whole_process_tree(tmp_path):
    # four children of 150 MB each: every one is under the per-process bound, together past the tree's 400 MB
    code = (
        "import subprocess, sys\n"
        "child = 'import time; b = bytearray(150 * 1024**2); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(3)'\n"
        "ps = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(4)]\n"
        "print([p.wait() for p in ps])\n"
    )
    proc = in_sandbox(tmp_path, code)
    codes = eval(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else [-9]
    assert -9 in codes or proc.returncode != 0, proc.stdout + proc.stderr
    one = in_sandbox(tmp_path, code.replace("range(4)", "range(1)"))
    assert one.stdout.strip() == "[0]", one.stdout + one.stderr  # a tree within the bound runs to the end


@needs_sandbox
@pytest.mark.skipif(
    not any("memory" in str(p) for p, _ in sandbox._cgroup_parents()), reason="no memory control group here"
)
@pytest.mark.slow  # fills 400 MB in a sandboxed process tree: a few seconds
def test_a_tree_past_its_memory_bound_is_stopped_whole_and_says_why(tmp_path):
    # 64 MB in /tmp, then four children of 150 MB: the kernel's OOM killer ends one, the watch ends the rest
    # at once (the parent would otherwise wait 60 s), and leaves the reason for the worker
    code = (
        "import subprocess, sys, time\n"
        "open('/tmp/hog', 'wb').write(b'x' * 6 * 1024**2)\n"
        "child = 'import time; b = bytearray(150 * 1024**2); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(60)'\n"
        "ps = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(4)]\n"
        "time.sleep(60)\n"
    )
    work, run = tmp_path / "work", tmp_path / "run"
    work.mkdir()
    run.mkdir()
    sandbox.take_stopped()
    groups = sandbox.new_cgroups(SMALL)
    watch = sandbox.MemoryWatch(groups, SMALL, every=0.05)
    try:
        argv = [*sandbox.bwrap_argv(work, run, SMALL, cgroups=groups), sys.executable, "-c", code]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=50)
    finally:
        watch.stop()
        sandbox.remove_cgroups(groups)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    why = sandbox.take_stopped()
    assert "went past its memory bound" in why and "all its processes and /tmp" in why, why
    assert sandbox.take_stopped() == ""  # told once


def test_no_watch_and_no_reason_without_a_memory_group(tmp_path):
    watch = sandbox.MemoryWatch([tmp_path], SMALL)  # a folder with no memory files: nothing to watch
    assert not watch.thread.is_alive()
    watch.stop()
    assert sandbox.take_stopped() == ""


@needs_sandbox
def test_the_groups_bound_cpu_and_processes_and_hold_the_whole_tree(tmp_path):
    groups = sandbox.new_cgroups(SMALL)
    try:
        values = {g.parts[-2] if "memory" not in str(g) else "memory": g for g in groups}
        if "cpu" in values:
            quota = int((values["cpu"] / "cpu.cfs_quota_us").read_text())
            period = int((values["cpu"] / "cpu.cfs_period_us").read_text())
            assert quota == period  # one core at most, however many processes it starts
            # and, when the cores are busy, the weight of one ordinary process for the whole tree
            assert int((values["cpu"] / "cpu.shares").read_text()) == SMALL.cpu_share
        if "pids" in values:
            assert (values["pids"] / "pids.max").read_text().strip() == str(SMALL.processes)
        if "memory" in values:
            assert int((values["memory"] / "memory.limit_in_bytes").read_text()) <= SMALL.memory
    finally:
        sandbox.remove_cgroups(groups)
    assert not any(g.exists() for g in groups)


def test_without_a_control_group_the_notebook_runs_nicer_than_the_grader(tmp_path):
    # the documented fallback for the CPU share: no group to join, so the whole tree is niced
    bare = sandbox.bwrap_argv(tmp_path, tmp_path)
    grouped = sandbox.bwrap_argv(tmp_path, tmp_path, cgroups=[tmp_path / "cpu-group"])
    at = bare.index(sandbox.PRLIMIT)
    assert bare[at - len(sandbox.FALLBACK_NICE) : at] == sandbox.FALLBACK_NICE
    assert sandbox.FALLBACK_NICE[0] not in grouped


@needs_sandbox
def test_the_kernel_inherits_no_file_of_the_graders(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = run_cells(
        work,
        "import os\n"
        "links = []\n"
        "for n in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        links.append(os.readlink(f'/proc/self/fd/{n}'))\n"
        "    except OSError:\n"
        "        pass\n"
        "print([l for l in links if l.startswith('/') and not l.startswith(('/dev/', '/proc/'))])",
    )
    assert out[0] == "[]\n", out
