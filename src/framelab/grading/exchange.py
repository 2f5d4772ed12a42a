"""nbgrader's exchange, with submissions that other trainees cannot read.

Stock nbgrader (0.9) hides a submission in the inbound folder behind a name with a random part,
in a folder others cannot list, but leaves the files world-readable and the submission folder
world-writable. Anyone who learns the name (from a shared screen, a log, a shell history) can
read or change another trainee's work.

``PrivateSubmit`` makes the same submission, then, when the course's inbound folder is *set-group*
(``chmod 3733``, set-group and sticky, and owned by the instructors' group, as ``deploy/jupyterhub`` sets it up),
closes it to everyone outside that group: folders ``0770``, files ``0640``. New files in a
set-group folder belong to the folder's group, so the instructors can still collect. For that to
hold for every file, the copy must not copy permission bits (``shutil.copytree`` would, and a
trainee outside the group cannot set the set-group bit back), so the copy here creates folders
fresh and copies file contents only, with nbgrader's own ignore rules and size limits. Where the
inbound folder is not set-group (a laptop, a shared folder on one account), nothing changes.

When the inbound folder cannot take a submission (the disk is full, or the folder is read-only
while instructors collect), the trainee gets one plain sentence instead of nbgrader's technical
error; a half-made copy of *this* submission is removed, and nothing already handed in, theirs or
anyone else's, is touched.

Enable it for trainees in the course's global ``nbgrader_config.py``::

    c.ExchangeFactory.submit = "framelab.grading.exchange.PrivateSubmit"
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable

from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

DIR_MODE = 0o770
FILE_MODE = 0o640


def close_to_others(path: str) -> None:
    """Folders 0770 and files 0640 under ``path`` (and ``path`` itself)."""
    for dirname, _, filenames in os.walk(path):
        os.chmod(dirname, DIR_MODE)
        for name in filenames:
            os.chmod(os.path.join(dirname, name), FILE_MODE)


def copy_keeping_group(src: str, dest: str, ignore: Callable[[str, list[str]], set[str]]) -> None:
    """Like ``shutil.copytree`` without copying permission bits: new folders inherit the parent's
    group and set-group bit, and so do the files made in them."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.mkdir(dest, DIR_MODE)
    names = os.listdir(src)
    skipped = ignore(src, names)
    for name in names:
        if name in skipped:
            continue
        s, d = os.path.join(src, name), os.path.join(dest, name)
        if os.path.isdir(s) and not os.path.islink(s):
            copy_keeping_group(s, d, ignore)
        elif not os.path.islink(s):
            shutil.copyfile(s, d)
            os.chmod(d, FILE_MODE)


#: What a trainee reads when the exchange cannot take their work, by what went wrong.
_SAFE = (
    "Your work is safe in your own folder, and nothing you handed in before was changed. "
    "Please tell your instructor, and submit again once they say it is fixed."
)
FULL = f"Your work could not be handed in: the course's submission folder is full. {_SAFE}"
CLOSED = f"Your work could not be handed in: the course's submission folder is not open for hand-ins right now. {_SAFE}"
OTHER = f"Your work could not be handed in: the course's submission folder could not be written ({{reason}}). {_SAFE}"


def plain_failure(exc: OSError) -> str:
    """The trainee's sentence for an error while writing into the inbound folder."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return FULL
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return CLOSED
    return OTHER.format(reason=exc.strerror or type(exc).__name__)


class PrivateSubmit(ExchangeSubmit):
    """``nbgrader submit`` whose result only the trainee and the instructors' group can read, and
    which says plainly when the exchange cannot take it."""

    _handed_in = False

    def _private(self) -> bool:
        return bool(os.stat(self.inbound_path).st_mode & stat.S_ISGID)

    def init_dest(self) -> None:
        # nbgrader's own check says "You don't have write permissions to the directory: <path>"
        inbound = os.path.join(self.root, self.coursedir.course_id, "inbound")
        if os.path.isdir(inbound) and not os.access(inbound, os.W_OK | os.X_OK):
            self.fail(CLOSED)
        super().init_dest()

    def do_copy(self, src: str, dest: str, log=None) -> None:
        if os.path.dirname(os.path.abspath(dest)) != os.path.abspath(self.inbound_path):
            # the second copy, into the trainee's own cache: the submission is already in the inbound folder
            self._handed_in = True
            return super().do_copy(src, dest, log)
        if not self._private():
            return super().do_copy(src, dest, log)
        size, limit = self.get_size(src), 1000 * self.coursedir.max_dir_size
        if size > limit:
            self.log.error("Directory size is too big")
            raise RuntimeError(f"Directory size is too big. Size is {size}, maximum size is {limit}")
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        copy_keeping_group(src, dest, ignore)
        return None

    def copy_files(self) -> None:
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        try:
            super().copy_files()
        except OSError as exc:
            if not self._handed_in:
                # only this submission's own, new folder (its name is unique to this attempt) is removed
                shutil.rmtree(dest, ignore_errors=True)
                self.log.error("Submitting into %s failed: %s", self.inbound_path, exc)
                self.fail(plain_failure(exc))
            # handed in; only the trainee's own cached copy failed (their home folder is full)
            self.log.warning("Handed in, but the copy kept in your cache could not be written: %s", exc)
        if self._private():
            close_to_others(dest)
            self.log.info("Submission closed to other trainees: %s", dest)
