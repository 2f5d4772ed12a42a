"""``nbgrader collect`` that trusts no folder in the exchange's inbound folder.

Stock nbgrader (0.9) collects, for each trainee, the newest folder named ``<trainee>+<assignment>+
<time>`` in the inbound folder, whoever made it: a folder a peer made under another trainee's name
is collected in place of that trainee's own work (stock only logs "cheating attempt?"). It copies
with ``shutil.copytree``, which follows symbolic links (a link to the course's bank or gradebook
became a real copy in ``submitted/``), blocks on a FIFO, recurses (600 nested folders raise), and a
single odd name stops the collect for everyone after it.

:class:`SafeCollect` keeps nbgrader's own choice of which submission to take (the latest, or the
latest before the due date with ``--before-duedate``), its ``--update`` rule and its ignore rules,
and changes what it trusts:

* a folder whose owner is not the trainee it names is refused with one plain line, before the
  latest is chosen: the trainee's own submission is still collected, untouched (a folder the
  collecting account made itself is accepted; ``ExchangeCollect.check_owner = False`` turns the
  check off, for a course where every trainee is the one account, as in ``framelab demo``);
* the copy (:mod:`framelab.grading.walk`) never follows a link and skips links, FIFOs, sockets and
  devices (named in one line), walks one level at a time, and refuses a folder past the bounds on
  files and folders together, bytes and depth, before anything in ``submitted/`` is touched;
* the copy is made beside its place and renamed into it, so a copy cut short leaves nothing;
* anything wrong with one trainee's folder is one line naming it, and everyone else is collected.

Name it in the course's ``nbgrader_config.py``::

    c.ExchangeFactory.collect = "framelab.exchange.SafeCollect"
"""

from __future__ import annotations

import datetime
import glob
import os
import pwd
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import check_mode, ignore_patterns, parse_utc

from framelab.grading import walk as walker

#: What a collected submission may hold at most (the snapshot's bounds: a real one is far inside).
BOUNDS = walker.BOUNDS


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def copy_submission(src: str | Path, dest: Path, ignore: Any, bounds: walker.Bounds = BOUNDS) -> Counter[str]:
    """Copy a trainee's folder ``src`` to ``dest`` (which must not exist): files and folders only,
    no link followed, nbgrader's ``ignore`` rules applied. Returns what was skipped, by kind; raises
    :class:`framelab.grading.walk.TreeProblem` past a bound (``dest`` then does not exist)."""
    skipped: Counter[str] = Counter()
    ignored: set[str] = set()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-collecting-", dir=dest.parent))
    try:
        left = bounds.bytes
        for entry in walker.walk(src, bounds):
            parent = os.path.dirname(entry.rel)
            if parent in ignored:
                ignored.add(entry.rel)
                continue
            if entry.kind in ("link", "special"):
                skipped[entry.kind] += 1
                continue
            if ignore(os.path.join(os.fspath(src), parent), [os.path.basename(entry.rel)]):
                ignored.add(entry.rel)
            elif entry.kind == "dir":
                (tmp / entry.rel).mkdir()
            else:
                left -= walker.copy_file(src, entry, tmp / entry.rel, left)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return skipped


def skipped_line(student: str, skipped: Counter[str]) -> str:
    words = {"link": "symbolic link(s), never followed", "special": "FIFO(s), socket(s) or device(s)"}
    parts = [f"{n} {words[kind]}" for kind, n in sorted(skipped.items()) if n]
    return f"{student}: collected without {' and '.join(parts)} found in the submission"


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, refusing a folder made in another trainee's name and copying without
    following links, within bounds, one trainee's problem never stopping the rest."""

    #: one plain line per folder refused or trimmed, also logged as it happens
    refused: list[str]

    def init_src(self) -> None:
        self.refused = []
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = [r for r in (self._trusted(f) for f in sorted(glob.glob(pattern))) if r is not None]
        self.duedate = self._duedate() if self.before_duedate else None  # used only with --before-duedate
        self.src_records = [self._choose(group) for group in groupby(records, lambda r: r["username"]).values()]

    def _duedate(self) -> datetime.datetime | None:
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                return gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                return None

    def _choose(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """nbgrader's rule: the latest, or with ``--before-duedate`` the latest before the due date."""
        ordered = self._sort_by_timestamp(records)
        if self.duedate is not None and self.before_duedate:
            before = [r for r in ordered if r["timestamp"] <= self.duedate]
            return (before or ordered)[0]
        return ordered[0]

    def _refuse(self, line: str) -> None:
        self.refused.append(line)
        self.log.error(line)

    def _trusted(self, path: str) -> dict[str, Any] | None:
        """The folder's record, or None (with one line said) when it is not to be trusted."""
        name = os.path.basename(path)
        parts = name.rsplit("+", 3)
        shown = walker.shown(name)
        try:
            st = os.lstat(path)
            timestamp: datetime.datetime = parse_utc(parts[2])
        except Exception:
            self._refuse(f"{shown}: not a submission nbgrader made (its name has no valid time); left where it is")
            return None
        if parts[0] in ("", ".", ".."):  # would name a folder outside submitted/<trainee>
            self._refuse(f"{shown}: names no trainee; left where it is")
            return None
        if not os.path.isdir(path) or os.path.islink(path):
            self._refuse(f"{shown}: not a folder (a link or a file); left where it is, never followed")
            return None
        owner = owner_name(st.st_uid)
        if self.check_owner and owner != parts[0] and st.st_uid != os.geteuid():
            named = walker.shown(parts[0])
            self._refuse(
                f"{shown}: made by {owner}, not by {named}, so it is not collected "
                f"({named}'s own submissions are); ask {owner} about it"
            )
            return None
        return {"username": parts[0], "filename": name, "timestamp": timestamp}

    def copy_files(self) -> None:
        """nbgrader's own copy step, one trainee at a time, with a bad folder one line."""
        records = self.src_records
        if not records:
            return super().copy_files()
        check_owner, self.check_owner = self.check_owner, False  # checked already, before choosing
        try:
            for rec in records:
                self.src_records = [rec]
                try:
                    # within bounds before nbgrader removes an older copy to make way for this one
                    for _ in walker.walk(os.path.join(self.inbound_path, rec["filename"]), self.bounds()):
                        pass
                    super().copy_files()
                except Exception as exc:
                    why = str(exc) if isinstance(exc, walker.TreeProblem) else f"{type(exc).__name__}: {exc}"
                    self._refuse(f"{walker.shown(rec['filename'])}: not collected: {why}")
        finally:
            self.check_owner, self.src_records = check_owner, records
        if self.refused:
            self.log.warning("%d folder(s) refused or trimmed; everyone else was collected.", len(self.refused))
        return None

    def do_copy(self, src: str, dest: str, log: Any = None) -> None:
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        student = walker.shown(Path(dest).parent.name)
        skipped = copy_submission(src, Path(dest), ignore, self.bounds())
        if skipped:
            self._refuse(skipped_line(student, skipped))

    def bounds(self) -> walker.Bounds:
        """The bounds, with nbgrader's own ``max_dir_size`` (kB) when it is the smaller."""
        return walker.Bounds(BOUNDS.entries, min(BOUNDS.bytes, 1000 * self.coursedir.max_dir_size), BOUNDS.depth)
