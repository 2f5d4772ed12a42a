"""Checks of the content bank beyond each item's own fields: scenarios that can be played to the end,
vignettes of exactly one family, exercises that point at suitable assessment items, and (for
``framelab validate`` only, being slow) the same text in both splits and templated near-duplicates.

Each check returns :class:`~framelab.bank.models.Problem` objects naming the file, line, item and fix.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from framelab.bank.models import (
    END,
    NEAR_DUPLICATE_JACCARD,
    RISK_ANSWERS,
    Bank,
    Exercise,
    Problem,
    Response,
    Scenario,
    Vignette,
    jaccard,
    near_duplicate,
    normalise,
    unsuitable,
)
from framelab.core.vocabulary import LABELS


def check_item(obj: BaseModel, module_id: str, rel: str, line: int | None) -> list[Problem]:
    out: list[Problem] = []
    oid = obj.id
    if isinstance(obj, (Response, Vignette)) and not oid.startswith(module_id + "-"):
        out.append(
            Problem(
                rel,
                line,
                oid,
                "id",
                f"id does not start with the module id '{module_id}-'",
                f"rename it '{module_id}-...'",
            )
        )
    if isinstance(obj, Vignette):
        rel_set = obj.relation is not None or obj.next_action is not None
        kind_set = obj.boundary_kind is not None or obj.crossing_or_violation is not None
        if rel_set + kind_set + (obj.alliance_effect is not None) != 1:
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "relation",
                    "a vignette needs exactly one of: relation and next_action; boundary_kind and "
                    "crossing_or_violation; or alliance_effect",
                    "give exactly one of the three",
                )
            )
        elif rel_set and (obj.relation is None or obj.next_action is None):
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "next_action" if obj.relation else "relation",
                    "relation and next_action go together",
                    "give both",
                )
            )
        elif kind_set and (obj.boundary_kind is None or obj.crossing_or_violation is None):
            out.append(
                Problem(
                    rel,
                    line,
                    oid,
                    "crossing_or_violation" if obj.boundary_kind else "boundary_kind",
                    "boundary_kind and crossing_or_violation go together",
                    "give both",
                )
            )
    if isinstance(obj, Scenario):
        out.extend(_check_scenario(obj, rel, line))
    return out


def _check_scenario(sc: Scenario, rel: str, line: int | None) -> list[Problem]:
    """Every problem with one scenario: its start, each node's branches, reachability, loops, samples."""

    def problem(field: str, message: str, fix: str) -> Problem:
        return Problem(rel, line, sc.id, field, message, fix)

    if sc.repair is not None and "{said}" in sc.repair.model_dump_json():
        return [problem("repair", "uses {said}, which only a 'remember' line fills", "write the lines without it")]
    if sc.start not in sc.nodes:
        return [problem("start", f"start node '{sc.start}' does not exist", f"use one of: {', '.join(sc.nodes)}")]
    out: list[Problem] = []
    for name, node in sc.nodes.items():
        out += _node_problems(sc, name, node, problem)
    out += [
        problem(f"nodes.{name}", "is never reached from the start node", "point a branch at it, or remove it")
        for name in sc.nodes
        if name not in _reachable(sc)
    ]
    if _has_cycle(sc):
        out.append(
            problem(
                "nodes", "a path can loop for ever without reaching the debrief", "make every path end with next: END"
            )
        )
    for i, reply in enumerate(sc.sample_replies):
        if bad := [lab for lab in reply.labels if lab not in LABELS]:
            out.append(
                problem(
                    f"sample_replies.{i}.labels",
                    f"unknown label(s) {', '.join(bad)}",
                    f"use labels from: {', '.join(LABELS)}",
                )
            )
    return out


def _node_problems(sc: Scenario, name: str, node: Any, problem: Any) -> list[Problem]:
    """One node's problems: unknown remembered labels, missing or unknown branches, bad endings and links."""
    out = []
    if any(lab not in LABELS for lab in node.remember):
        out.append(problem(f"nodes.{name}.remember", "an unknown label", "key it by labels"))
    if missing := [lab for lab in LABELS if lab not in node.branches]:
        out.append(
            problem(
                f"nodes.{name}.branches",
                f"no branch for {', '.join(missing)}",
                "define a reaction for every one of the eight labels",
            )
        )
    if extra := [lab for lab in node.branches if lab not in LABELS]:
        out.append(
            problem(
                f"nodes.{name}.branches",
                f"unknown label(s) {', '.join(extra)}",
                f"branches must be keyed by: {', '.join(LABELS)}",
            )
        )
    out += _risk_problems(sc, name, node, problem)
    out += _line_problems(name, node, problem)
    for lab, br in node.branches.items():
        if br.ending and br.next != END:
            out.append(
                problem(
                    f"nodes.{name}.branches.{lab}.ending",
                    "is set on a branch that does not end the conversation",
                    "remove it, or make the branch's next END",
                )
            )
        if br.next != END and br.next not in sc.nodes:
            out.append(
                problem(
                    f"nodes.{name}.branches.{lab}.next",
                    f"leads to '{br.next}', which is not a node",
                    f"use END or one of: {', '.join(sc.nodes)}",
                )
            )
    return out


def _line_problems(name: str, node: Any, problem: Any) -> list[Problem]:
    """A node's fitted lines (framelab.roleplay.words): answers by topic only on the re-centring branch, and
    no ``{said}`` outside a ``remember`` line (nothing would fill it)."""
    out = [
        problem(
            f"nodes.{name}.branches.{lab}.topics",
            "answers a question by its topic, but only a re-centring reply asks one",
            "move the lines to the recenter branch, or remove them",
        )
        for lab, br in node.branches.items()
        if br.topics and lab != "recenter"
    ]
    lines = [(f"nodes.{name}.neutral", node.neutral)]
    for lab, br in node.branches.items():
        lines += [(f"nodes.{name}.branches.{lab}.topics.{t}", line) for t, line in br.topics.items()]
    out += [
        problem(where, "uses {said}, which only a 'remember' line fills", "write the line without {said}")
        for where, line in lines
        if line and "{said}" in line
    ]
    return out


def _risk_problems(sc: Scenario, name: str, node: Any, problem: Any) -> list[Problem]:
    """A risk cue's problems: its answers are yes, no or unsure, include the client's answer and "unsure",
    lead to nodes, and name how the conversation ends where they end it."""
    if node.risk is None:
        return []
    where = f"nodes.{name}.risk.answers"
    out = []
    if bad := [k for k in node.risk.answers if k not in RISK_ANSWERS]:
        fix = 'key them by "yes", "no" and "unsure", in quotes (YAML reads a bare yes or no as true or false)'
        out.append(problem(where, f"unknown answer(s) {', '.join(map(str, bad))}", fix))
    if missing := [k for k in dict.fromkeys((node.risk.answer, "unsure")) if k not in node.risk.answers]:
        fix = "give the client's reply to a direct question, and to a vague one ('unsure')"
        out.append(problem(where, f"no answer for {', '.join(missing)}", fix))
    for key, br in node.risk.answers.items():
        if br.next != END and br.next not in sc.nodes:
            out.append(
                problem(f"{where}.{key}.next", f"leads to '{br.next}', which is not a node", "use END or a node")
            )
        if br.next == END and br.ending is None:
            out.append(problem(f"{where}.{key}.ending", "ends the conversation without saying how", "add 'ending:'"))
        if br.ending and br.next != END:
            out.append(problem(f"{where}.{key}.ending", "is set on an answer that does not end it", "remove it"))
    return out


def _branches(node: Any) -> list[Any]:
    """Every way on from a node: its label branches and, at a risk cue, the client's answers."""
    return [*node.branches.values(), *(node.risk.answers.values() if node.risk else ())]


def _reachable(sc: Scenario) -> set[str]:
    """The nodes a conversation can reach from the start."""
    seen: set[str] = set()
    stack = [sc.start]
    while stack:
        n = stack.pop()
        if n in seen or n not in sc.nodes:
            continue
        seen.add(n)
        stack.extend(b.next for b in _branches(sc.nodes[n]) if b.next != END)
    return seen


def _has_cycle(sc: Scenario) -> bool:
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        state[n] = 1
        for b in _branches(sc.nodes[n]):
            if b.next == END or b.next not in sc.nodes:
                continue
            if state.get(b.next) == 1 or (b.next not in state and visit(b.next)):
                return True
        state[n] = 2
        return False

    return sc.start in sc.nodes and visit(sc.start)


def content_checks(bank: Bank, where: dict[str, tuple[str, int | None]]) -> list[Problem]:
    """The checks of the whole collection, for ``framelab validate``: the same text in both splits,
    and templated near-duplicates."""
    items = list(bank.items().values())
    norm = [normalise(it.text) for it in items]
    out: list[Problem] = []
    # the same text in both splits would let practice reveal an assessment answer
    texts: dict[str, list[Response | Vignette]] = {}
    for it, text in zip(items, norm, strict=True):
        texts.setdefault(text, []).append(it)
    for group in texts.values():
        if len({i.split for i in group}) > 1:
            for it in group:
                if it.split == "assessment":
                    others = ", ".join(o.id for o in group if o.split == "practice")
                    f, line = where[it.id]
                    out.append(
                        Problem(
                            f,
                            line,
                            it.id,
                            "text",
                            f"the same text is also a practice item ({others})",
                            "rewrite one of them, or move both to one split",
                        )
                    )
    # templated near-duplicates
    toks = [frozenset(text.split()) for text in norm]
    for i, j in _near_duplicate_pairs(toks):
        a, b = items[i], items[j]
        if norm[i] == norm[j] and a.split != b.split:
            continue  # already reported above
        f, line = where[b.id]
        out.append(
            Problem(
                f,
                line,
                b.id,
                "text",
                f"is a near-duplicate of {a.id} ({jaccard(toks[i], toks[j]):.0%} of words shared)",
                "rewrite it so it differs in more than a word or two",
            )
        )
    return out


def _near_duplicate_pairs(toks: list[frozenset[str]]) -> list[tuple[int, int]]:
    """Every pair ``i < j`` of :func:`near_duplicate` word sets, in order. Only sets of similar size
    can qualify (Jaccard is at most the smaller size over the larger; a swap of one word or two
    changes the size by two at most), so each set is compared with its neighbours by size."""
    order = sorted(range(len(toks)), key=lambda k: len(toks[k]))
    pairs = []
    for pos, i in enumerate(order):
        small = len(toks[i])
        for j in order[pos + 1 :]:
            big = len(toks[j])
            if big - small > 2 and small < NEAR_DUPLICATE_JACCARD * big - 1e-9:
                break
            if near_duplicate(toks[i], toks[j]):
                pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


#: The exercise kinds that ask about labelled responses (and so may carry a rubric).
RESPONSE_KINDS = ("single_label", "moves", "missing_move", "risk_check")


def _other_rubric(it: Response | Vignette, ex: Exercise) -> tuple[str, str] | None:
    """Why a response does not belong in this exercise's rubric (message, fix), or None."""
    if isinstance(it, Response) and it.rubric != ex.rubric:
        return (
            f"is a '{it.rubric}' response in a '{ex.rubric}' exercise",
            f"use '{ex.rubric}' responses only, or set the exercise's 'rubric:' to '{it.rubric}'",
        )
    return None


def reference_checks(bank: Bank, root: Path, *, check_references: bool = True) -> list[Problem]:
    """Every exercise points at existing, suitable, assessment items, each listed once, and its pool and
    draw (framelab.bank.variants) make variants worth the same points."""
    out: list[Problem] = []
    items = bank.items()
    # exercises point at suitable items
    for mod in bank.modules.values():
        rel = f"{root.name}/{mod.folder}/module.yaml"
        for ex in mod.meta.exercises:
            if ex.rubric != "three_moves" and ex.kind not in RESPONSE_KINDS:
                fix = f"use a response kind ({', '.join(RESPONSE_KINDS)}) or remove 'rubric: {ex.rubric}'"
                out.append(
                    Problem(rel, None, None, f"exercises.{ex.id}.rubric", "only response exercises have a rubric", fix)
                )
            for what, ids in (("items", ex.items), ("pool", ex.pool)):
                out += _references(rel, ex, what, ids, items, check_references)
            dup = [k for k, n in Counter([*ex.items, *ex.pool]).items() if n > 1]
            if dup:
                out.append(Problem(rel, None, dup[0], f"exercises.{ex.id}", "is listed twice", "list it once"))
            out += _draw_problems(rel, ex, mod.meta.exercises)
    return out


def _references(
    rel: str, ex: Exercise, what: str, ids: tuple[str, ...], items: dict[str, Any], check_references: bool
) -> list[Problem]:
    """Problems with the items an exercise lists under ``items`` or ``pool``."""
    out: list[Problem] = []
    where = f"exercises.{ex.id}.{what}"
    for iid in ids:
        it = items.get(iid)
        if it is None and not check_references:
            continue  # the item may be in the file that could not be read
        if it is None:
            out.append(Problem(rel, None, iid, where, "no such item in the bank", "check the id, or add the item"))
            continue
        if it.split != "assessment":
            out.append(
                Problem(
                    rel,
                    None,
                    iid,
                    where,
                    "graded exercises may use only assessment items",
                    "use an assessment item, or change this item's split",
                )
            )
        problem = unsuitable(it, ex.kind) or _other_rubric(it, ex)
        if problem:
            out.append(Problem(rel, None, iid, where, problem[0], problem[1]))
    return out


def _draw_problems(rel: str, ex: Exercise, exercises: tuple[Exercise, ...]) -> list[Problem]:
    """A pool needs a draw as long as the fixed form (equal points in every variant); a shared draw
    names another exercise with the same items, pool and draw."""
    out: list[Problem] = []
    if ex.pool and ex.draw != len(ex.items):
        out.append(
            Problem(
                rel,
                None,
                None,
                f"exercises.{ex.id}.draw",
                f"an exercise with a pool needs 'draw: {len(ex.items)}' (its items' count), got {ex.draw}",
                f"set 'draw: {len(ex.items)}', so that every trainee's variant is worth the same points",
            )
        )
    if ex.draw is not None and not ex.pool:
        fix = "remove 'draw:', or add a 'pool:' of more assessment items to draw from"
        out.append(Problem(rel, None, None, f"exercises.{ex.id}.draw", "a draw needs a pool", fix))
    if ex.same_draw_as:
        other = next((e for e in exercises if e.id == ex.same_draw_as and e.id != ex.id), None)
        if other is None or (other.items, set(other.pool), other.draw) != (ex.items, set(ex.pool), ex.draw):
            out.append(
                Problem(
                    rel,
                    None,
                    None,
                    f"exercises.{ex.id}.same_draw_as",
                    f"'{ex.same_draw_as}' is not another exercise of this module with the same items, pool and draw",
                    "name such an exercise, or give this one the same 'items:', 'pool:' and 'draw:' as it",
                )
            )
    return out
