"""Where the compiled content bank is kept: a small file cache keyed by the bank's own bytes.

Reading ``modules/`` from YAML and checking it takes seconds; every command that only *uses* the
bank reads a compiled copy instead (see :func:`framelab.bank.loader.load_bank`). This module knows nothing
about the bank's shape: it hashes the files the bank is read from, and stores or returns an opaque
blob under that hash. A cache that cannot be read or written is simply not used.

* The key covers the exact bytes of every file the loader reads (``module.yaml``, ``responses.yaml``,
  ``vignettes.yaml``, ``scenarios.yaml`` in each module folder), the list of module folders, and the
  code that gives the bytes their meaning. An edited bank therefore has a new key and is never read
  stale; hashing the bank's half a megabyte takes about a millisecond (a ``stat`` alone would be
  faster still, but a file rewritten within the same second with the same size would slip by).
* The cache lives in ``$FRAMELAB_CACHE``, else ``$XDG_CACHE_HOME/framelab``, else
  ``~/.cache/framelab``: the same place as the detector's model. Writes go to a temporary name and are
  renamed into place, so a reader never sees half a file; only the newest few banks are kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: The files of a module folder that the loader reads, in the order it reads them.
MODULE_FILES = ("module.yaml", "responses.yaml", "vignettes.yaml", "scenarios.yaml")
PREFIX = "bank-"
SUFFIX = ".json"
#: Compiled banks kept (several courses or branches may share one cache); older ones are removed.
KEEP = 8


def cache_dir() -> Path:
    base = os.environ.get("FRAMELAB_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "framelab"


def module_folders(root: Path) -> list[Path]:
    """The module folders under ``root``, as the loader walks them."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def fingerprint(root: Path, salt: Iterable[bytes]) -> str | None:
    """A hash of everything the bank under ``root`` is read from, plus ``salt`` (code and format
    versions); None when the folder cannot be read, so that nothing is cached for it."""
    h = hashlib.sha256()
    for part in salt:
        h.update(len(part).to_bytes(8, "big") + part)
    try:
        for folder in module_folders(root):
            h.update(b"\0folder\0" + folder.name.encode("utf-8", "surrogateescape"))
            for name in MODULE_FILES:
                path = folder / name
                if not path.exists():
                    continue
                data = path.read_bytes()
                h.update(f"\0{name}\0{len(data)}\0".encode() + data)
    except OSError:
        return None
    return h.hexdigest()[:32]


def _path(key: str) -> Path:
    return cache_dir() / f"{PREFIX}{key}{SUFFIX}"


def read(key: str) -> bytes | None:
    """The blob stored under ``key``, or None (absent, unreadable)."""
    try:
        return _path(key).read_bytes()
    except OSError:
        return None


def write(key: str, blob: bytes) -> bool:
    """Store ``blob`` under ``key`` atomically; False (and nothing left behind) when it cannot be."""
    target = _path(key)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=".bank-", suffix=".tmp", delete=False) as fh:
            tmp = Path(fh.name)
            fh.write(blob)
        os.replace(tmp, target)
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False
    _prune(target.parent)
    return True


def _prune(folder: Path) -> None:
    """Keep the newest :data:`KEEP` compiled banks."""
    try:
        found = [(p.stat().st_mtime, p) for p in folder.glob(f"{PREFIX}*{SUFFIX}")]
        for _, old in sorted(found, reverse=True)[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
