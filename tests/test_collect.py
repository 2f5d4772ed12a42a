"""``framelab.exchange.SafeCollect`` (``nbgrader collect`` trusting no folder) and the walker under it
and the snapshot: a folder made in a peer's name refused while the peer's own is collected, links
never followed, FIFOs skipped, deep and wide trees refused in one line, the rest of the cohort
collected; then random trees (links, FIFOs, odd bytes in names, depth) for both walkers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framelab.grading import snapshot, walk
from framelab.grading.collect import SafeCollect, copy_submission

ASSIGNMENT = "m1"
NOBODY = 65534  # an account that is not the one collecting


def inbound_folder(exchange: Path, student: str, stamp: str, owner: int | None = None) -> Path:
    folder = exchange / "framelab" / "inbound" / f"{student}+{ASSIGNMENT}+{stamp} UTC+abc{len(stamp)}"
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(f"{student}'s notebook at {stamp}")
    (folder / "timestamp.txt").write_text(f"{stamp} UTC")
    if owner is not None:
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, owner, owner)
    return folder


def collect(tmp_path: Path, check_owner: bool = True) -> tuple[Path, SafeCollect]:
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    course = tmp_path / "course"
    course.mkdir(exist_ok=True)
    cfg = Config()
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.course_id = "framelab"
    cfg.CourseDirectory.assignment_id = ASSIGNMENT
    cfg.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    cfg.CourseDirectory.ignore = ["*.pyc"]
    cfg.Exchange.root = str(tmp_path / "exchange")
    cfg.ExchangeCollect.check_owner = check_owner
    cfg.ExchangeCollect.update = True
    coursedir = CourseDirectory(config=cfg)
    job = SafeCollect(coursedir=coursedir, config=cfg)
    job.start()
    return course / "submitted", job


@pytest.fixture
def make_deep():
    """``make_deep(folder, depth)``: nested folders, removed after the test however it ends (``os.makedirs``
    and pytest's own clean-up recurse, and 1,100 levels are past Python's recursion limit)."""
    made: list[Path] = []

    def make(folder: Path, depth: int) -> None:
        made.append(folder)
        subprocess.run(["mkdir", "-p", os.path.join(folder, *["d"] * depth)], check=True)

    yield make
    for folder in made:
        subprocess.run(["rm", "-rf", str(folder)], check=True)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a folder in another account's name needs root")


@needs_root
def test_a_folder_made_in_a_peers_name_is_refused_and_the_peers_own_collected(tmp_path):
    exchange = tmp_path / "exchange"
    inbound_folder(exchange, "nobody", "2026-11-29 10:00:00.000000", owner=NOBODY)  # nobody's own
    inbound_folder(exchange, "ana", "2026-11-29 09:00:00.000000")  # made by the collecting account
    forged = inbound_folder(exchange, "ana", "2026-11-29 11:00:00.000000", owner=NOBODY)  # nobody, as ana, later
    submitted, job = collect(tmp_path)
    assert (
        submitted / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    ).read_text() == "ana's notebook at 2026-11-29 09:00:00.000000"
    assert (submitted / "nobody" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text().startswith("nobody's")
    (line,) = job.refused
    assert forged.name in line and "made by nobody, not by ana" in line
    assert forged.is_dir()  # left where it is


@needs_root
def test_without_the_owner_check_nbgraders_latest_stands(tmp_path):
    inbound_folder(tmp_path / "exchange", "ana", "2026-11-29 09:00:00.000000")
    inbound_folder(tmp_path / "exchange", "ana", "2026-11-29 11:00:00.000000", owner=NOBODY)
    submitted, job = collect(tmp_path, check_owner=False)
    assert "11:00" in (submitted / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert job.refused == []


def test_links_fifos_and_deep_or_wide_folders_never_stop_the_others(tmp_path, make_deep):
    exchange = tmp_path / "exchange"
    secret = tmp_path / "course" / "modules" / "responses.yaml"
    secret.parent.mkdir(parents=True)
    secret.write_text("the key")
    linker = inbound_folder(exchange, "lee", "2026-11-29 10:00:00.000000")
    (linker / "notes.txt").symlink_to(secret)
    (linker / "notes2").symlink_to(secret.parent)
    os.mkfifo(linker / "pipe")
    (linker / "scratch.pyc").write_bytes(b"ignored")
    deep = inbound_folder(exchange, "dee", "2026-11-29 10:00:00.000000")
    make_deep(deep, 1_100)
    wide = inbound_folder(exchange, "wyn", "2026-11-29 10:00:00.000000")
    for n in range(walk.BOUNDS.entries + 5):
        (wide / f"e{n}").mkdir()
    inbound_folder(exchange, "ana", "2026-11-29 10:00:00.000000")
    (exchange / "framelab" / "inbound" / f"odd+{ASSIGNMENT}+not a time").mkdir()
    submitted, job = collect(tmp_path)
    assert sorted(p.name for p in submitted.iterdir()) == ["ana", "lee"]
    got = sorted(p.name for p in (submitted / "lee" / ASSIGNMENT).iterdir())
    assert got == [f"{ASSIGNMENT}.ipynb", "timestamp.txt"]  # no link, no FIFO, nothing ignored
    lines = "\n".join(job.refused)
    assert "lee: collected without 2 symbolic link(s), never followed and 1 FIFO(s)" in lines
    assert "nested more than 32 folders deep" in lines and "dee+" in lines
    assert "more than 2,000 files and folders" in lines and "wyn+" in lines
    assert "odd+m1+not a time: not a submission nbgrader made" in lines
    assert len(job.refused) == 4
    assert not list(submitted.rglob("*collecting*"))


def test_a_later_submission_past_the_bounds_keeps_the_one_collected_before(tmp_path):
    exchange = tmp_path / "exchange"
    inbound_folder(exchange, "ana", "2026-11-29 09:00:00.000000")
    submitted, _ = collect(tmp_path)
    later = inbound_folder(exchange, "ana", "2026-11-29 12:00:00.000000")
    here = later
    for _ in range(40):
        here = here / "d"
        here.mkdir()
    (later / "timestamp.txt").write_text("2026-11-29 12:00:00.000000 UTC")
    _, job = collect(tmp_path)
    assert "09:00" in (submitted / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "nested more than" in job.refused[0]


def test_the_snapshot_takes_odd_names_and_refuses_deep_wide_and_fifos(tmp_path, make_deep):
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / os.fsdecode(b"caf\xe9-latin1.txt")).write_text("x")
    snap = snapshot.take(odd, tmp_path / "snap-odd", "odd", [])
    assert len(snap.digest) == 64 and snap.problem == ""
    assert snapshot.digest(odd) == snap.digest
    deep = tmp_path / "deep"
    make_deep(deep, 1_100)
    assert "nested more than" in snapshot.take(deep, tmp_path / "snap-deep", "deep", []).problem
    wide = tmp_path / "wide"
    wide.mkdir()
    for n in range(snapshot.MAX_FILES + 1):
        (wide / f"e{n}").mkdir()
    assert "more than 2,000 files and folders" in snapshot.take(wide, tmp_path / "snap-wide", "wide", []).problem
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "pipe")
    assert "not a regular file" in snapshot.take(fifo, tmp_path / "snap-fifo", "fifo", []).problem
    assert not any((tmp_path / f"snap-{n}").exists() for n in ("deep", "wide", "fifo"))


# --------------------------------------------------------------------------- random trees

NAMES = st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))
NODE = st.deferred(
    lambda: st.one_of(
        st.tuples(st.just("file"), st.binary(max_size=64)),
        st.tuples(st.just("link"), st.sampled_from(["/etc/passwd", "..", "../secret", "missing", "."])),
        st.tuples(st.just("fifo"), st.none()),
        st.tuples(st.just("dir"), st.dictionaries(NAMES, NODE, max_size=4)),
        st.tuples(st.just("chain"), st.integers(1, 60)),
    )
)
TREES = st.dictionaries(NAMES, NODE, max_size=6)


def build(folder: Path, tree: dict[bytes, tuple[str, object]]) -> None:
    folder.mkdir()
    for raw, (kind, value) in tree.items():
        path = os.path.join(os.fsencode(folder), raw)
        if kind == "file":
            with open(path, "wb") as fh:
                fh.write(value)  # type: ignore[arg-type]
        elif kind == "link":
            os.symlink(str(value), path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "chain":
            os.makedirs(os.path.join(path, *[b"c"] * int(value)))  # type: ignore[call-overload]
        else:
            build(Path(os.fsdecode(path)), value)  # type: ignore[arg-type]


def expected(tree: dict[bytes, tuple[str, object]], depth: int = 1) -> tuple[dict[str, bytes], set[str], bool]:
    """What a walk should find: regular files (path -> bytes), links and FIFOs, and whether too deep."""
    files: dict[str, bytes] = {}
    odd: set[str] = set()
    deep = False
    for raw, (kind, value) in tree.items():
        name = os.fsdecode(raw)
        if kind == "file":
            files[name] = value  # type: ignore[assignment]
        elif kind in ("link", "fifo"):
            odd.add(name)
        elif kind == "chain":
            deep = deep or depth + int(value) > walk.BOUNDS.depth  # type: ignore[call-overload]
        else:
            sub_files, sub_odd, sub_deep = expected(value, depth + 1)  # type: ignore[arg-type]
            deep = deep or depth > walk.BOUNDS.depth
            files.update({os.path.join(name, k): v for k, v in sub_files.items()})
            odd |= {os.path.join(name, k) for k in sub_odd}
            deep = deep or sub_deep
    return files, odd, deep


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(tree=TREES)
def test_random_trees_collect_exactly_their_regular_files(tmp_path, tree):
    base = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), os.urandom(6).hex().encode())))
    base.mkdir()
    try:
        build(base / "src", tree)
        files, odd, deep = expected(tree)
        dest = base / "dest"
        try:
            skipped = copy_submission(base / "src", dest, lambda d, names: [])
        except walk.TreeProblem as exc:
            assert deep and "nested more than" in str(exc)
            assert not dest.exists()
            return
        assert not deep
        got = {e.rel: Path(dest, e.rel).read_bytes() for e in walk.walk(dest) if e.kind == "file"}
        assert got == files
        assert sum(skipped.values()) == len(odd)
        assert not any(e.kind in ("link", "special") for e in walk.walk(dest))
    finally:
        shutil.rmtree(base, ignore_errors=True)


@FAST
@given(tree=TREES)
def test_random_trees_snapshot_or_refuse_in_one_line(tmp_path, tree):
    base = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), os.urandom(6).hex().encode())))
    base.mkdir()
    try:
        build(base / "src", tree)
        files, odd, deep = expected(tree)
        snap = snapshot.take(base / "src", base / "snap", "ana", [])
        if odd or deep:
            assert snap.problem and "\n" not in snap.problem and not snap.digest
            assert not (base / "snap").exists()
            return
        assert snap.problem == "" and snap.digest == snapshot.digest(base / "src")
        got = {e.rel: Path(base / "snap", e.rel).read_bytes() for e in walk.walk(base / "snap") if e.kind == "file"}
        assert got == files
    finally:
        shutil.rmtree(base, ignore_errors=True)
