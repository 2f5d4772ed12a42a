"""Where the learner is: the workspace and the module folder, found from any folder inside them.

A **module folder** holds ``content.json`` and its notebook (``<folder>/<folder>.ipynb``); the
**workspace** is the folder holding module folders. From the clone's own folder, the workspace is
its ``workspace/``. So ``framelab progress`` and ``framelab check`` work from JupyterLab's terminal,
which opens in the workspace, as well as from the clone, a module folder, or a folder inside one.
"""

from __future__ import annotations

from pathlib import Path

#: The workspace's name in a self-study clone (``make lab``'s default).
DEFAULT = "workspace"


def is_module(folder: Path) -> bool:
    return (folder / "content.json").is_file() and (folder / f"{folder.name}.ipynb").is_file()


def is_workspace(folder: Path) -> bool:
    try:
        return any(is_module(p.parent) for p in folder.glob("*/content.json"))
    except OSError:
        return False


def module_folder(start: Path) -> Path | None:
    """The module folder at or above ``start``, if any."""
    start = Path(start).resolve()
    return next((f for f in [start, *start.parents] if is_module(f)), None)


def workspace_folder(start: Path) -> Path | None:
    """The workspace ``start`` is in (or is), else the ``workspace/`` beside it or above it (a clone)."""
    start = Path(start).resolve()
    module = module_folder(start)
    if module is not None:
        return module.parent
    for folder in [start, *start.parents]:
        if is_workspace(folder):
            return folder
        if is_workspace(folder / DEFAULT):
            return folder / DEFAULT
    return None
