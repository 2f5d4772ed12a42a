"""Where the course is, and what it has switched on: the one place that looks for ``nbgrader_config.py``.

A **course root** is the folder holding ``nbgrader_config.py`` (instructors run every command there, as
with nbgrader). A self-study clone is also a course root, with the answer key in ``modules/`` beside the
workspace. A course deployment switches self-checking off (``c.FrameLab.self_check = False`` in its
``nbgrader_config.py``, or ``FRAMELAB_SELF_CHECK=0``), so that neither the self-check nor the detector
can be used as an oracle for graded items.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CONFIG = "nbgrader_config.py"
#: values of ``FRAMELAB_SELF_CHECK`` that switch self-checking off
_OFF = ("0", "false", "no", "off")


def read_config(root: Path) -> Any:
    """The course's config as traitlets reads it (raises whatever the loader raises)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG, path=str(root)).load_config()


def config_folder(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: here) that holds ``nbgrader_config.py``."""
    start = (start or Path.cwd()).resolve()
    return next((folder for folder in [start, *start.parents] if (folder / CONFIG).is_file()), None)


def course_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``modules/`` and ``nbgrader_config.py``."""
    for folder in [start, *start.parents]:
        if (folder / "modules").is_dir() and (folder / CONFIG).is_file():
            return folder
    return None


def course_root_problem(course: Path) -> str | None:
    """Why ``course`` is not a course root (the folder holding ``nbgrader_config.py``), or None."""
    if not course.is_dir():
        return f"{course} is not a folder: pass --course with the course folder (the one holding {CONFIG})."
    if not (course / CONFIG).is_file():
        return (
            f"{course.resolve()} is not a course root (no {CONFIG} there): run this from the course folder, "
            "or pass --course with it."
        )
    return None


def _switched_off_by_env() -> bool | None:
    env = os.environ.get("FRAMELAB_SELF_CHECK")
    return None if env is None else env.strip().lower() in _OFF


def self_check_allowed(root: Path) -> bool:
    """False when the deployment has switched the check off (environment, or nbgrader_config.py)."""
    if _switched_off_by_env():
        return False
    try:
        config = read_config(root)
    except Exception:
        return True  # a config nbgrader itself cannot read is nbgrader's problem to report
    return bool(config.get("FrameLab", {}).get("self_check", True))


def course_deployment(start: Path | None = None) -> bool:
    """True where self-checking is switched off (``FRAMELAB_SELF_CHECK=0``, or ``c.FrameLab.self_check
    = False`` in an ``nbgrader_config.py`` at or above ``start``): the course's own deployment switch."""
    off = _switched_off_by_env()
    if off is not None:
        return off
    folder = config_folder(start)
    return folder is not None and not self_check_allowed(folder)


class SettingsError(ValueError):
    """A course setting that cannot be used; the message names the file, the setting and the fix."""


def pass_marks(root: Path) -> dict[str, float]:
    """Each assignment's pass mark, as a percentage of its maximum: ``c.FrameLab.pass_marks =
    {"m1_double_bind": 60, ...}`` in the course's ``nbgrader_config.py`` ({} when not set)."""
    config = read_config(root)
    raw = config.get("FrameLab", {}).get("pass_marks", {})
    where = f"{root / CONFIG}: c.FrameLab.pass_marks"
    if not isinstance(raw, dict):
        raise SettingsError(f"{where} must be a dict of assignment to percentage, e.g. {{'m1_double_bind': 60}}")
    marks: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise SettingsError(
                f"{where}[{name!r}] is {value!r}: give a percentage of the assignment's points from 0 to 100, e.g. 60"
            )
        marks[str(name)] = float(value)
    return marks
