"""The learner's workspace: a copy of the release that is never overwritten."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

#: Left behind: editor and grading clutter that a learner never needs.
SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


@dataclass
class CopyReport:
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    #: kept files that differ from the release: the learner's own work, or a newer release file
    differ: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"copied {p}" for p in self.copied]
        if self.kept:
            out.append(f"kept {len(self.kept)} existing file(s) untouched")
        if self.differ:
            out.append(
                f"{len(self.differ)} of them differ from this release and were kept as yours: "
                + ", ".join(str(p) for p in self.differ)
                + ". To see a module's new version, rename its folder and run 'make lab' again."
            )
        return out


def populate(release: Path, workspace: Path) -> CopyReport:
    """Copy every file of ``release`` into ``workspace`` that is not there yet.

    An existing file is never opened for writing, whatever its content: the learner's
    copy always wins.
    """
    if not release.is_dir():
        raise FileNotFoundError(f"{release} is not a folder: run this from the course root")
    report = CopyReport()
    for src in sorted(release.rglob("*")):
        rel = src.relative_to(release)
        if any(part in SKIP for part in rel.parts) or not src.is_file():
            continue
        dest = workspace / rel
        if dest.exists():
            report.kept.append(rel)
            if dest.is_file() and dest.read_bytes() != src.read_bytes():
                report.differ.append(rel)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        # exclusive create: if something appears meanwhile, it is not clobbered
        with src.open("rb") as fin, dest.open("xb") as fout:
            shutil.copyfileobj(fin, fout)
        report.copied.append(rel)
    return report
