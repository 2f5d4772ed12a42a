"""The content bank: loading and validating everything under ``modules/``.

One folder per module holds ``module.yaml`` (metadata and exercises) and, optionally,
``responses.yaml`` (labelled therapist responses), ``vignettes.yaml`` (transference and
boundary vignettes) and ``scenarios.yaml`` (role-play scenarios).

Loading never stops at the first problem: every problem is collected as a
:class:`Problem` naming the file, line, item and field, with a fix. Plain data and plain
functions only; nothing here touches Jupyter.

Commands that only *use* the bank (:func:`load_bank`) read a compiled copy, kept under a hash of the
bank's bytes (:mod:`framelab.bank.store`), and skip the slow checks of the whole collection;
``framelab validate`` and ``make release`` (:func:`validate_bank`) read the YAML and make every check.
The shapes are in :mod:`framelab.bank.models`, the checks in :mod:`framelab.bank.checks`.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ValidationError

from framelab.bank import store as bankstore
from framelab.bank.checks import check_item, content_checks, reference_checks
from framelab.bank.corpus import corpus_problems
from framelab.bank.models import (  # re-exported: ``framelab.bank`` is where callers find the bank's types
    END,
    ID_PATTERN,
    MAX_RATIONALE_CHARS,
    NEAR_DUPLICATE_JACCARD,
    Bank,
    BankError,
    Branch,
    Context,
    Exercise,
    ModelResponse,
    Module,
    ModuleMeta,
    Node,
    Problem,
    Reference,
    Response,
    SampleReply,
    Scenario,
    Vignette,
    counts,
    gold,
    jaccard,
    near_duplicate,
    normalise,
    tokens,
)
from framelab.core.vocabulary import LABELS, nearest_label

__all__ = [
    "END",
    "ID_PATTERN",
    "MAX_RATIONALE_CHARS",
    "NEAR_DUPLICATE_JACCARD",
    "Bank",
    "BankError",
    "Branch",
    "Context",
    "Exercise",
    "ModelResponse",
    "Module",
    "ModuleMeta",
    "Node",
    "Problem",
    "Reference",
    "Response",
    "SampleReply",
    "Scenario",
    "Vignette",
    "counts",
    "gold",
    "jaccard",
    "load_bank",
    "near_duplicate",
    "normalise",
    "strip_lines",
    "tokens",
    "validate_bank",
]

_LINES = "__lines__"  # per-key line numbers recorded by the loader
_LINE = "__line__"  # line of the mapping itself

# --------------------------------------------------------------------------- YAML with lines


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that records the (1-based) line of every mapping and of its keys. It parses with
    libyaml where PyYAML has it (twenty times faster than the pure-Python parser)."""


class _PyLineLoader(yaml.SafeLoader):
    """The same in pure Python: its messages for broken YAML are the ones the fixes are written for."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice in one entry", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    mapping[_LINES] = lines
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_PyLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def strip_lines(value: Any) -> Any:
    """A copy of loaded YAML without the loader's line bookkeeping."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (_LINES, _LINE)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def _read_yaml(path: Path, rel: str, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(rel, None, None, None, f"is not UTF-8 text ({exc.reason})", "save it as UTF-8"))
        return None
    except OSError as exc:
        problems.append(Problem(rel, None, None, None, _unreadable(path, exc), "make it a readable YAML text file"))
        return None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except (yaml.YAMLError, TypeError, RecursionError):
        pass  # read it again with the pure-Python parser, for its message
    try:
        return yaml.load(text, Loader=_PyLineLoader)
    except (yaml.YAMLError, TypeError, RecursionError) as exc:
        problems.append(_yaml_problem(rel, exc))
        return None


def _unreadable(path: Path, exc: OSError) -> str:
    if path.is_dir():
        return "is a folder, not a file, so it cannot be read"
    return f"cannot be read ({exc.strerror or exc})"


def _yaml_problem(rel: str, exc: Exception) -> Problem:
    fix = "check the indentation and quoting on that line; text containing ':' or '#' needs quotes"
    if not isinstance(exc, yaml.MarkedYAMLError):
        what = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc) or type(exc).__name__
        return Problem(rel, None, None, None, f"is not valid YAML ({what})", fix)
    # where the broken construct began (an unclosed quote, say) is more useful than
    # where the parser gave up, which can be the end of the file
    mark = exc.context_mark or exc.problem_mark
    line = mark.line + 1 if mark else None
    reason = "; ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
    return Problem(rel, line, None, None, f"is not valid YAML ({reason})", fix)


def _hint_for(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    loc = [str(p) for p in error.get("loc", ())]
    name = loc[0] if loc else ""
    if kind == "missing":
        return f"add a '{name}:' line to this item"
    if kind == "extra_forbidden":
        return f"remove '{name}' or correct its spelling (allowed keys are in modules/README.md)"
    if kind == "literal_error" and name == "risk_check":
        return 'write it in quotes: risk_check: "yes", "partly" or "no" (YAML reads a bare yes or no as true or false)'
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"use one of {expected}"
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits and single hyphens, e.g. 'm1-r001'"
    if kind == "string_too_long":
        return "shorten it to one or two sentences"
    if name == "labels":
        msg = str(error.get("msg", ""))
        bad = re.search(r"unknown label '([^']*)'", msg)
        if bad:
            guess = nearest_label(bad.group(1))
            near = f"did you mean '{guess}'? " if guess else ""
            return f"{near}labels must come from: {', '.join(LABELS)}"
        if "empty" in msg:
            return "give at least one label from the vocabulary"
        return "list each label once"
    return "correct the value"


def _validate_entry(model: type[BaseModel], raw: Any, rel: str, problems: list[Problem], what: str) -> BaseModel | None:
    if not isinstance(raw, dict):
        fix = (
            "write it as 'key: value' lines, starting with 'id: m<number>' (modules/README.md lists the keys)"
            if what == "module"
            else "start the item with '- id: ...' and put each of its 'key: value' lines under it, indented"
        )
        line = 1 if what == "module" else None
        problems.append(Problem(rel, line, None, None, f"a {what} must be a mapping of keys to values", fix))
        return None
    lines: dict[str, int] = raw.get(_LINES, {})
    item = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        return model.model_validate(strip_lines(raw))
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            name = loc[0] if loc else None
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "is missing"
            problems.append(
                Problem(
                    rel,
                    lines.get(name or "", raw.get(_LINE)),
                    item,
                    ".".join(loc) if loc else None,
                    message,
                    _hint_for(err),
                )
            )
        return None


def _load_list(path: Path, rel: str, model: type[BaseModel], problems: list[Problem]) -> list[tuple[Any, int | None]]:
    data = _read_yaml(path, rel, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem(rel, 1, None, None, "must be a YAML list of items", "start each item with '- '"))
        return []
    out = []
    for raw in data:
        obj = _validate_entry(model, raw, rel, problems, "list item")
        if obj is not None:
            out.append((obj, raw.get(_LINE)))
    return out


def load_bank(root: str | Path = "modules", *, validate: bool = False) -> Bank:
    """The bank under ``root``, with the problems found in it rather than stopping at the first.

    By default this is the bank for *using*: read from its compiled form (cached under a hash of
    the bank's files, so an edited bank is never read stale), checked item by item and for the
    exercises' references, but without the slow checks of the whole collection (the same text in
    both splits, templated near-duplicates). ``validate=True`` runs every check, as
    ``framelab validate`` and ``make release`` do; see :func:`validate_bank`.
    """
    root = Path(root)
    if validate:
        return validate_bank(root)
    key = _compiled_key(root)
    bank = _read_compiled(root, key) if key else None
    if bank is None:
        bank = _read_bank(root, full=False)
        if key and not bank.problems:
            _write_compiled(key, bank)
    return bank


def validate_bank(root: str | Path = "modules") -> Bank:
    """The bank under ``root`` read from its YAML with every check (slower: seconds); problems name
    the file, the line, the item and the fix. A clean bank is also compiled for :func:`load_bank`."""
    root = Path(root)
    bank = _read_bank(root, full=True)
    key = _compiled_key(root) if not bank.problems else None
    if key:
        _write_compiled(key, bank)
    return bank


def _read_bank(root: Path, *, full: bool) -> Bank:
    """Read every module under ``root`` from YAML; ``full`` adds the checks of the whole collection."""
    problems: list[Problem] = []
    modules: dict[str, Module] = {}
    where: dict[str, tuple[str, int | None]] = {}  # item id -> (file, line)

    if not root.is_dir():
        problems.append(Problem(str(root), None, None, None, "is not a folder", "run from the course root"))
        return Bank(root, modules, problems)

    for folder in bankstore.module_folders(root):
        mod = _read_module(folder, root, problems, modules)
        if mod is not None:
            modules[mod.meta.id] = mod
            _read_items(mod, root, problems, where)

    bank = Bank(root, modules, problems)
    unreadable = any(any(mark in p.message for mark in _UNREADABLE) for p in problems)
    if full:
        problems.extend(content_checks(bank, where))
        # the detectors' training corpus (modules/_corpus/): usable lines, no copy of an assessment item
        problems.extend(corpus_problems(root, [(r.id, r.text) for r in bank.responses if r.split == "assessment"]))
    problems.extend(reference_checks(bank, root, check_references=not unreadable))
    return bank


#: Words in the message of a file that could not be read at all (its items may be missing).
_UNREADABLE = ("not valid YAML", "not UTF-8", "cannot be read")


def _read_module(folder: Path, root: Path, problems: list[Problem], modules: dict[str, Module]) -> Module | None:
    """A module folder's ``module.yaml``, checked; None (with the problems noted) if it cannot be used."""
    meta_path = folder / "module.yaml"
    rel = _rel(meta_path, root)
    if not meta_path.exists():
        problems.append(Problem(rel, None, None, None, "is missing", "every module folder needs a module.yaml"))
        return None
    before = len(problems)
    raw = _read_yaml(meta_path, rel, problems)
    if raw is None:
        if len(problems) == before:
            problems.append(Problem(rel, None, None, None, "is empty", "give the module's id, title and the rest"))
        return None
    meta = _validate_entry(ModuleMeta, raw, rel, problems, "module")
    if meta is None:
        return None
    assert isinstance(meta, ModuleMeta)
    if not folder.name.startswith(meta.id + "_"):
        problems.append(
            Problem(
                rel,
                raw[_LINES].get("id"),
                None,
                "id",
                f"id '{meta.id}' does not match the folder '{folder.name}'",
                f"name the folder '{meta.id}_<topic>'",
            )
        )
    if meta.id in modules:
        problems.append(
            Problem(rel, None, None, "id", f"module id '{meta.id}' is used twice", "give each module its own id")
        )
        return None
    return Module(folder.name, meta)


def _read_items(mod: Module, root: Path, problems: list[Problem], where: dict[str, tuple[str, int | None]]) -> None:
    """The module's responses, vignettes and scenarios, each checked, into ``mod``."""
    folder = root / mod.folder
    for name, model, bucket in (
        ("responses.yaml", Response, mod.responses),
        ("vignettes.yaml", Vignette, mod.vignettes),
        ("scenarios.yaml", Scenario, mod.scenarios),
    ):
        path = folder / name
        if not path.exists():
            continue
        frel = _rel(path, root)
        for obj, line in _load_list(path, frel, model, problems):
            oid = obj.id  # type: ignore[attr-defined]
            if oid in where:
                first = where[oid]
                problems.append(
                    Problem(
                        frel,
                        line,
                        oid,
                        "id",
                        f"duplicate id: already used at {first[0]}:{first[1]}",
                        "give this item a new, unused id",
                    )
                )
                continue
            where[oid] = (frel, line)
            bucket.append(obj)  # type: ignore[arg-type]
            problems.extend(check_item(obj, mod.meta.id, frel, line))


# --------------------------------------------------------------------------- the compiled form

#: Bumped whenever the compiled form's shape changes.
COMPILED_FORMAT = "framelab-bank/1"


class _CompiledModule(BaseModel):
    folder: str
    meta: ModuleMeta
    responses: list[Response]
    vignettes: list[Vignette]
    scenarios: list[Scenario]


class _Compiled(BaseModel):
    format: Literal["framelab-bank/1"]
    modules: list[_CompiledModule]


def _compiled_key(root: Path) -> str | None:
    """The hash a compiled copy of this bank is kept under: the files' bytes, this code, pydantic."""
    if not root.is_dir():
        return None
    here = Path(__file__).resolve().parent
    files = [here / "loader.py", here / "models.py", here / "checks.py", here.parent / "core" / "vocabulary.py"]
    code = [path.read_bytes() for path in files]
    return bankstore.fingerprint(root, [COMPILED_FORMAT.encode(), pydantic.VERSION.encode(), *code])


def _read_compiled(root: Path, key: str) -> Bank | None:
    """The bank from its compiled copy; None if there is none, or it is damaged."""
    blob = bankstore.read(key)
    if blob is None:
        return None
    try:
        compiled = _Compiled.model_validate_json(blob)
    except ValidationError:
        return None  # damaged or from elsewhere: read the YAML again
    modules = {m.meta.id: Module(m.folder, m.meta, m.responses, m.vignettes, m.scenarios) for m in compiled.modules}
    return Bank(root, modules, [])


def _write_compiled(key: str, bank: Bank) -> None:
    compiled = _Compiled(
        format=COMPILED_FORMAT,
        modules=[
            _CompiledModule(
                folder=m.folder, meta=m.meta, responses=m.responses, vignettes=m.vignettes, scenarios=m.scenarios
            )
            for m in bank.modules.values()
        ],
    )
    bankstore.write(key, compiled.model_dump_json(by_alias=True).encode())


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent)) if root.parent != Path() else str(path)
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the bank, kept per process

_BANKS: dict[Path, tuple[tuple[tuple[str, int, int], ...], Any]] = {}
_BANK_LOCK = threading.Lock()


def _stamp(modules: Path) -> tuple[tuple[str, int, int], ...]:
    """What the bank was read from: every file's name, size and modification time (cheap to take)."""
    out = []
    for path in sorted(modules.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((str(path.relative_to(modules)), st.st_size, st.st_mtime_ns))
    return tuple(out)


def cached_bank(modules: Path) -> Any:
    """The bank in ``modules/``, loaded once per process and again only when a file there changes."""
    modules = modules.resolve()
    stamp = _stamp(modules)
    with _BANK_LOCK:
        hit = _BANKS.get(modules)
        if hit is None or hit[0] != stamp:
            _BANKS[modules] = hit = (stamp, load_bank(modules))
        return hit[1]
