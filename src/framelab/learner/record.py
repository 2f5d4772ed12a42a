"""A dated record of the learner's course work, for a CPD log: one printable HTML page.

It lists each module (finished or not, graded items answered and, in self-study, the score, role-plays
finished, time spent), the total time, and the practice accuracy from each deck's tally
(:mod:`framelab.learner.mastery`). Everything comes from the workspace's own files; nothing is run.
``framelab record`` and the button at the end of Module 6 write it, atomically, beside the modules.
A record of the same day written earlier is replaced; a file of that name that is not a record is kept
and the new one gets the next free name.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path

from framelab.core.files import write_text_atomically
from framelab.learner import activity, mastery
from framelab.learner.progress import ModuleProgress, progress

MARK = '<meta name="generator" content="framelab record">'


@dataclass
class PracticeLine:
    module: str
    checked: int
    right: int


def practice_lines(workspace: Path, rows: list[ModuleProgress]) -> list[PracticeLine]:
    """Per module with any practice checked: items checked and exactly right, over all its decks."""
    out = []
    for r in rows:
        tallies = mastery.load_all(workspace / r.folder).values()
        checked = sum(t.checked for t in tallies)
        if checked:
            out.append(PracticeLine(r.title, checked, sum(t.right for t in tallies)))
    return out


def _row(r: ModuleProgress) -> str:
    cells = [
        f"Module {r.folder[1:].split('_')[0]}: {r.title}",
        "finished" if r.done else "started" if r.started else "not started",
        f"{r.answered} of {r.items}" + ("" if r.score is None else f" (score {r.score})") if r.items else "none",
        f"{r.roleplays_done} of {r.roleplays}" if r.roleplays else "none",
        activity.describe(r.seconds) if r.seconds else "",
    ]
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def record_html(workspace: Path, name: str = "", now: float | None = None, scores: bool = True) -> str:
    """The record as one self-contained HTML page (no script, prints on A4)."""
    rows = progress(workspace, scores=scores)
    local = time.localtime(now)
    day = f"{local.tm_mday} {time.strftime('%B %Y', local)}"
    finished = [r for r in rows if r.done]
    spent = sum(r.seconds for r in rows)
    practice = practice_lines(workspace, rows)
    checked, right = sum(p.checked for p in practice), sum(p.right for p in practice)
    who = f" for {html.escape(name)}" if name else ""
    table = "".join(_row(r) for r in rows)
    head = '<table><thead><tr><th scope="col">Module</th><th scope="col">Exactly right</th></tr></thead>'
    prac = "".join(
        f"<tr><td>{html.escape(p.module)}</td><td>{p.right} of {p.checked} ({p.right / p.checked:.0%})</td></tr>"
        for p in practice
    )
    plays = sum(r.roleplays_done for r in rows)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{MARK}
<title>Frame Lab: record of course work, {day}</title>
<style>
body {{ font: 11pt/1.45 system-ui, sans-serif; color: #1a1a1a; max-width: 46em; margin: 2em auto; padding: 0 1em; }}
h1 {{ font-size: 1.5em; margin-bottom: 0.2em; }} h2 {{ font-size: 1.1em; margin-top: 1.6em; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: 0.3em 0.5em;
border-bottom: 1px solid #bbb; vertical-align: top; }} th {{ background: #eef1f5; }}
.meta {{ color: #444; }} @page {{ size: A4; margin: 18mm; }}
@media print {{ body {{ margin: 0; max-width: none; }} }}
</style></head><body>
<h1>Frame Lab: record of course work{who}</h1>
<p class="meta">Holding a professional boundary kindly: self-study course. Record written on {day}.</p>
<h2>Summary</h2>
<ul>
<li>Modules finished: {len(finished)} of {len(rows)}{": " if finished else ""}{
        html.escape(", ".join(r.title for r in finished))
    }</li>
<li>Time spent, as measured while working: {html.escape(activity.describe(spent) if spent else "none recorded")}</li>
<li>Practice: {f"{right} of {checked} items exactly right ({right / checked:.0%})" if checked else "none recorded"}</li>
<li>Role-plays with the simulated client finished: {plays}</li>
</ul>
<h2>Modules</h2>
<table><thead><tr><th scope="col">Module</th><th scope="col">Status</th><th scope="col">Graded items answered</th>
<th scope="col">Role-plays</th><th scope="col">Time spent</th></tr></thead><tbody>{table}</tbody></table>
<h2>Practice accuracy</h2>
{f"{head}<tbody>{prac}</tbody></table>" if prac else "<p>No practice checked yet.</p>"}
<p class="meta">Time counts the stretches in which answers were saved, items checked or the client replied to
(pauses over 10 minutes are not counted), so it is a lower bound. Scores are self-checked against the course's
key; this is a record of self-study, not a grade or a certificate of competence.</p>
</body></html>
"""


def record_path(workspace: Path, now: float | None = None) -> Path:
    """Today's record's file: replaced if it is an earlier record, else the next free name."""
    stem = f"completion-record-{time.strftime('%Y-%m-%d', time.localtime(now))}"
    path, n = workspace / f"{stem}.html", 1
    while path.exists() and MARK not in path.read_text(encoding="utf-8", errors="replace")[:2000]:
        n += 1
        path = workspace / f"{stem}-{n}.html"
    return path


def write_record(workspace: Path, out: Path | None = None, name: str = "", now: float | None = None) -> Path:
    """Write the record (atomically) and return its path."""
    path = out if out is not None else record_path(workspace, now)
    if path.is_dir():
        path = record_path(path, now)
    elif path.exists() and MARK not in path.read_text(encoding="utf-8", errors="replace")[:2000]:
        raise FileExistsError(f"{path} exists and is not a Frame Lab record; it was left as it is")
    write_text_atomically(path, record_html(workspace, name, now))
    return path
