"""The role-play in a terminal (``framelab roleplay``), and ``framelab transcript export``.

For screen-reader users and people who prefer text: the same engine, the same reading of each reply
and the same client as the notebook (:mod:`framelab.roleplay.engine`). Interactive by default; with
``--replies FILE --json`` it plays a file of replies without prompts and prints one JSON line per turn.
Every bad input is one plain line naming the file (and line) and the fix.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from framelab.core.files import write_text_atomically
from framelab.core.rubrics import rubric
from framelab.core.safejson import UnsafeJSON
from framelab.core.safejson import load as load_json
from framelab.core.safejson import loads as loads_json
from framelab.core.vocabulary import LABELS
from framelab.roleplay import engine as roleplay
from framelab.roleplay import summary
from framelab.roleplay.reactions import UNCLEAR
from framelab.roleplay.safety import MISSED

MAX_CONTENT_BYTES = 20_000_000
MAX_REPLIES_BYTES = 2_000_000


class TerminalError(Exception):
    """One plain line for the person at the terminal; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- finding scenarios


def _scenarios_from_content(path: Path) -> list[dict[str, Any]]:
    """The scenarios of a module's content.json (a workspace module folder, or source/ and release/)."""
    try:
        content = load_json(path, max_bytes=MAX_CONTENT_BYTES)
    except UnsafeJSON as exc:
        raise TerminalError(f"{exc} Fix: copy the module's content.json again from the release.") from None
    scenarios = content.get("scenarios") if isinstance(content, dict) else None
    if not isinstance(scenarios, list) or not all(
        isinstance(s, dict) and isinstance(s.get("id"), str) for s in scenarios
    ):
        raise TerminalError(
            f"{path}: its 'scenarios' are missing or damaged (each needs an 'id'). "
            "Fix: copy the module's content.json again from the release."
        )
    return scenarios


def _scenarios_from_modules(modules: Path) -> list[dict[str, Any]]:
    """The scenarios in a course root's modules/*/scenarios.yaml, checked against the bank's schema."""
    import yaml
    from pydantic import ValidationError

    from framelab.bank.loader import Scenario

    found: list[dict[str, Any]] = []
    for path in sorted(modules.glob("*/scenarios.yaml")):
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            found += [Scenario.model_validate(e).model_dump() for e in entries]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError, TypeError) as exc:
            first = str(exc).splitlines()[0]
            raise TerminalError(f"{path}: cannot be read ({first}). Fix: run 'framelab validate'.") from None
    return found


def find_scenarios(where: Path) -> list[dict[str, Any]]:
    """From a workspace module folder (content.json) or a course root (modules/), in that order."""
    if (where / "content.json").is_file():
        return _scenarios_from_content(where / "content.json")
    if (where / "modules").is_dir():
        return _scenarios_from_modules(where / "modules")
    raise TerminalError(
        f"{where}: no content.json and no modules/ folder here. Fix: run this in the course folder, or in a "
        "module folder of your workspace (such as workspace/m1_double_bind), or pass --from FOLDER."
    )


def find_scenario(where: Path, scenario_id: str) -> dict[str, Any]:
    scenarios = find_scenarios(where)
    for sc in scenarios:
        if sc["id"] == scenario_id:
            return sc
    known = ", ".join(s["id"] for s in scenarios) or "none"
    raise TerminalError(f"no scenario '{scenario_id}' in {where} (there are: {known}).")


# --------------------------------------------------------------------------- replies from a file


def read_replies(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, reply, ticked) for each non-blank line; every bad line is one plain line in the error."""
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_REPLIES_BYTES else None
    except OSError as exc:
        raise TerminalError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if raw is None:
        raise TerminalError(f"{path} is larger than {MAX_REPLIES_BYTES:,} bytes; a role-play needs a few lines.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TerminalError(f"{path} line {line}: not UTF-8 text. Fix: save the file as UTF-8.") from None
    out, problems = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((n, *_reply_line(loads_json(line, what=f"{path} line {n}", max_bytes=20_000), n, path)))
        except (UnsafeJSON, TerminalError) as exc:
            problems.append(str(exc))
    if problems:
        raise TerminalError("\n".join(problems))
    return out


def _reply_line(obj: Any, n: int, path: Path) -> tuple[str, list[str]]:
    fix = 'Fix: write each line as {"reply": "what you would say", "ticked": ["validate"]}.'
    if not isinstance(obj, dict) or not isinstance(obj.get("reply"), str):
        raise TerminalError(f"{path} line {n}: expected an object with a 'reply' text. {fix}")
    ticked = obj.get("ticked", [])
    if not isinstance(ticked, list) or not all(isinstance(t, str) and t in LABELS for t in ticked):
        raise TerminalError(f"{path} line {n}: 'ticked' must be a list of labels from: {', '.join(LABELS)}.")
    return obj["reply"], ticked


# --------------------------------------------------------------------------- playing


def turn_json(
    n: int, turn: roleplay.Turn, scenario: dict[str, Any] | None = None, session: roleplay.Session | None = None
) -> dict[str, Any]:
    """One turn as the JSON line ``--json`` prints; ``ending`` is how the conversation ended, on its last turn
    (``missed_check`` where it passed a risk cue with no direct question, given the session); ``checks_safety``
    whether the reply asked directly about risk, and ``risk_answer`` what the client answered."""
    ends = scenario is not None and turn.next == roleplay.END
    return {
        "turn": n,
        "node": turn.node,
        "client": turn.client,
        "reply": turn.reply,
        "ticked": turn.ticked,
        "read_as": turn.detected,
        "cues": {lab: ev.get("cues", []) for lab, ev in (turn.evidence or {}).items()},
        "confidence": turn.confidence,
        "unsure": turn.unsure,
        "source": turn.source,
        "category": turn.category,
        "reaction": turn.reaction,
        "next": turn.next,
        "checks_safety": turn.checks_safety,
        "risk_answer": turn.risk_answer,
        "rupture": turn.rupture,
        "repair": turn.repair,
        "ending": _ending(turn, scenario, session) if ends and scenario else None,
    }


def _ending(turn: roleplay.Turn, scenario: dict[str, Any], session: roleplay.Session | None) -> str | None:
    if session is not None and session.done and session.turns and session.turns[-1] is turn:
        end = roleplay.ending(scenario, session)
        return end.kind if end else None
    return roleplay.ending_kind(scenario, turn.node, turn.category)


def _detector() -> Any:
    from framelab.detector.readers import for_roleplay

    return for_roleplay()


def play_file(scenario: dict[str, Any], replies: list[tuple[int, str, list[str]]], out: TextIO, as_json: bool) -> int:
    session, detector = roleplay.start(scenario), _detector()
    for n, reply, ticked in replies:
        if session.done:
            unused = len(replies) - len(session.turns)
            print(f"The conversation ended; {unused} reply line(s) from line {n} on were not used.", file=sys.stderr)
            break
        try:
            turn = roleplay.respond(scenario, session, reply, ticked, detector)
        except roleplay.RolePlayError as exc:
            print(f"line {n}: {exc}.", file=sys.stderr)
            return 1
        if as_json:
            out.write(json.dumps(turn_json(len(session.turns), turn, scenario, session), ensure_ascii=False) + "\n")
        else:
            out.write(_turn_text(turn))
    if not as_json:
        out.write(debrief_text(scenario, session) if session.done else "\n(The conversation was still going.)\n")
    return 0


def _turn_text(turn: roleplay.Turn) -> str:
    return f"\nClient: {turn.client}\nYou: {turn.reply}\nClient: {turn.reaction}\n"


def play_interactive(
    scenario: dict[str, Any],
    ask: Callable[[str], str],
    out: TextIO,
    folder: Path | None = None,
    record: Record | None = None,
) -> int:
    """Prompts: the client speaks; you type a reply, then the numbers of the moves you meant. With ``folder``
    (a workspace module folder) the conversation is saved there after every turn, as the notebook saves it:
    the same transcript, counted in progress, exportable with ``framelab transcript export``."""
    rb = rubric(scenario)
    options = list(LABELS)
    ctx = scenario.get("context", {})
    out.write(f"Role-play: {scenario['title']}\n{ctx.get('stage', '')} {ctx.get('background', '')}\n\n")
    session = saved_session(scenario, folder, ask, out)
    if session is None:
        return 0
    if folder is not None and not session.turns:  # a new start replaces the finished one kept aside
        _save(scenario, session, folder, None)
    out.write("Type your reply and press Enter (q on its own to stop). Then give the numbers of the moves you\n")
    out.write("meant it to make, or just press Enter. The moves:\n")
    out.write("".join(f"  {i} {rb.title(lab)}\n" for i, lab in enumerate(options, 1)))
    detector = _detector()
    last: roleplay.Turn | None = session.turns[-1] if session.turns else None
    while not session.done:
        if last is None or last.category != UNCLEAR:
            out.write(f"\nClient: {roleplay.client_line(scenario, session)}\n")
        try:
            reply = ask("You: ")
            if reply.strip().lower() == "q":
                break
            picks = ask("Moves you meant (numbers 1 to 8, or Enter): ")
        except EOFError:
            break
        ticked = [options[int(p) - 1] for p in picks.replace(",", " ").split() if p.isdigit() and 0 < int(p) <= 8]
        try:
            last = roleplay.respond(scenario, session, reply, ticked, detector)
        except roleplay.RolePlayError as exc:
            out.write(f"{str(exc)[:1].upper()}{str(exc)[1:]}.\n")
            continue
        if folder is not None:
            _save(scenario, session, folder, record)
        review = roleplay.review(last, rb)
        out.write(f"Client: {last.reaction}\n  ({review.meant} {review.words_did})\n")
    out.write(debrief_text(scenario, session) if session.turns else "\nNothing was said; nothing to debrief.\n")
    return 0


def saved_session(
    scenario: dict[str, Any], folder: Path | None, ask: Callable[[str], str], out: TextIO
) -> roleplay.Session | None:
    """The conversation to play: a new one; with ``folder``, the one saved there (resumed), or, where that one
    is finished, a new one once the learner says so (the finished transcript is kept, and stays counted).
    None when the learner chose not to start again."""
    if folder is None:
        out.write("(This conversation is not saved: run it with --from your workspace module folder to keep it.)\n")
        return roleplay.start(scenario)
    path = roleplay.transcript_path(folder, scenario["id"])
    try:
        session = roleplay.load(path, scenario)
    except roleplay.RolePlayError as exc:
        raise TerminalError(f"{path}: {exc}. Fix: move the file aside, or export what is readable.") from None
    if session is None:
        out.write(f"Your replies are saved after every turn in {path}.\n")
        return roleplay.start(scenario)
    if not session.done:
        out.write(f"Going on from your saved conversation ({len(session.turns)} turn(s) so far), saved in {path}.\n")
        return session
    try:
        again = ask("You finished this one before. Start again? Your finished transcript is kept. (y/N) ")
    except EOFError:
        again = ""
    if again.strip().lower() not in ("y", "yes"):
        out.write(debrief_text(scenario, session))
        return None
    kept = roleplay.keep_finished(path, session)
    out.write(f"Starting again; your finished transcript is kept as {kept.name if kept else path.name}.\n")
    return roleplay.start(scenario)


#: Told of each saved turn (folder, scenario id, whether it finished): the learner's record of time and of
#: role-plays finished (``cli.commands.cmd_roleplay`` passes :func:`framelab.learner.activity.touch`'s wrapper;
#: this module sits below ``learner`` and does not import it).
Record = Callable[[Path, str, bool], None]


def _save(scenario: dict[str, Any], session: roleplay.Session, folder: Path, record: Record | None) -> None:
    """Save after a turn, as the notebook does, atomically; a finished conversation is recorded as finished."""
    try:
        roleplay.save(session, roleplay.transcript_path(folder, scenario["id"]))
    except OSError as exc:
        raise TerminalError(f"{folder}: the conversation cannot be saved ({exc.strerror or exc}).") from None
    if record is not None:
        record(folder, scenario["id"], session.done)


def debrief_text(scenario: dict[str, Any], session: roleplay.Session) -> str:
    d = roleplay.debrief(scenario, session)
    lines = ["", f"Debrief: {d.title}", ""]
    if d.ending is not None and d.ending.kind == MISSED:  # a missed risk check comes before everything else
        lines += [d.ending.line, d.ending.question, ""]
    for n, r in enumerate(d.reviews, 1):
        lines += [f"Turn {n}. You said: {r.turn.reply}", f"  {r.meant}", f"  {r.words_did}", f"  {r.reacted_to}"]
        if r.disagreement:
            lines.append(f"  {r.disagreement}")
    if d.repairs:
        lines += ["", "Rupture and repair, side by side:"]
        for broke, fix in d.repairs:
            lines += [f"  {line}" for line in summary.rupture_lines(broke, fix)]
        lines.append("")
    for head, seen in ((f"{d.rubric.heading}, by your words", d.moves_seen), ("By what you meant", d.moves_meant)):
        lines.append(f"{head}: {summary.moves_line(seen, d.rubric, d.ending)}")
    lines += ["", "Model responses:"]
    lines += [f"  Level {m['level']}. {m['text']}" for m in d.model_responses]
    lines += ["", "To think about:", *[f"  - {p}" for p in d.prompts]]
    return "\n".join(lines) + "\n"


def cmd_roleplay(args: argparse.Namespace, record: Record | None = None) -> int:
    """``framelab roleplay``; ``record`` is told of each turn saved (see :data:`Record`)."""
    try:
        scenario = find_scenario(Path(args.where), args.scenario)
        if args.replies:
            replies = read_replies(Path(args.replies))
            return play_file(scenario, replies, sys.stdout, args.json)
        if args.json:
            raise TerminalError('--json needs --replies FILE (JSON Lines of {"reply": ..., "ticked": [...]}).')
        folder = Path(args.where) if (Path(args.where) / "content.json").is_file() else None
        return play_interactive(scenario, input, sys.stdout, folder, record)
    except TerminalError as exc:
        print(f"framelab roleplay: {exc}" if "\n" not in str(exc) else str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130


# --------------------------------------------------------------------------- transcript export


def _iter_checks(transcript: Path, content: Path | None, out: Path | None, force: bool) -> Iterator[str]:
    """Every reason the export cannot go ahead, as plain lines."""
    if out is None:
        return
    inputs = [p for p in (transcript, content) if p is not None and p.exists()]
    if any(out.exists() and out.resolve() == p.resolve() for p in inputs):
        yield f"--out {out} is one of the files being read; choose another name (this is never overwritten)."
        return
    if not out.parent.is_dir():
        yield f"--out {out}: the folder {out.parent} does not exist. Fix: create it, or write somewhere else."
    elif out.is_dir():
        yield f"--out {out} is a folder. Fix: give a file name, such as {out / 'session.md'}."
    elif out.exists() and not force:
        yield f"--out {out} already exists. Fix: choose another name, or pass --force to replace it."


def _content_scenario(path: Path, scenario_id: Any) -> dict[str, Any] | None:
    scenarios = _scenarios_from_content(path)
    scenario = next((s for s in scenarios if s["id"] == scenario_id), None)
    if scenario is not None and not (
        isinstance(scenario.get("nodes"), dict) and isinstance(scenario.get("title"), str)
    ):
        raise TerminalError(f"{path}: scenario '{scenario_id}' is damaged. Fix: copy content.json again.")
    return scenario


def export_transcript(transcript: Path, content: Path | None, out: Path | None, force: bool) -> int:
    """``framelab transcript export``: a saved role-play as Markdown. Exit 2 with one line on bad input."""
    try:
        return _export(transcript, content, out, force)
    except TerminalError as exc:
        print(f"framelab transcript export: {exc}", file=sys.stderr)
        return exc.code


def _export(transcript: Path, content: Path | None, out: Path | None, force: bool) -> int:
    if not transcript.is_file():
        raise TerminalError(
            f"{transcript}: no such file. Transcripts are saved beside the notebook as roleplay-<scenario>.json."
        )
    content_path = content or transcript.with_name("content.json")
    for problem in _iter_checks(transcript, content_path, out, force):
        raise TerminalError(problem)
    try:
        raw = load_json(transcript, max_bytes=roleplay.MAX_TRANSCRIPT_BYTES)
    except UnsafeJSON as exc:
        raise TerminalError(str(exc)) from None
    if not isinstance(raw, dict):
        raise TerminalError(
            f"{transcript}: not a Frame Lab transcript (expected an object, found a {type(raw).__name__})."
        )
    scenario = _content_scenario(content_path, raw.get("scenario_id")) if content_path.exists() else None
    node = raw.get("node")
    stub = {
        "id": raw.get("scenario_id"),
        "title": str(raw.get("title", "")),
        "nodes": {node: None} if isinstance(node, str) else {},
    }
    try:
        session = roleplay.Session.from_json(raw, scenario or stub)
        text = roleplay.transcript_markdown(session, scenario)
    except roleplay.RolePlayError as exc:
        raise TerminalError(f"{transcript}: {exc}.") from None
    except (TypeError, KeyError, AttributeError, ValueError):
        raise TerminalError(
            f"{transcript}: the transcript or its scenario in {content_path.name} is damaged."
        ) from None
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_text_atomically(out, text)
    except OSError as exc:
        raise TerminalError(f"--out {out} cannot be written ({exc.strerror or exc}).") from None
    print(f"wrote {out}")
    return 0
