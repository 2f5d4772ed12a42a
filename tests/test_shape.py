"""The package keeps the shape ARCHITECTURE.md describes: layered subpackages with no import cycle, no
file over 600 lines, no function over 60 (declarative tables excepted, by name), the stable paths that
files outside the package name, and one function that names a chosen answer everywhere."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "framelab"

#: the subpackages in layer order (ARCHITECTURE.md): each imports only those before it
LAYERS = ["core", "detector", "bank", "scoring", "roleplay", "learner", "views", "grading", "instructor", "cli"]
#: functions allowed past 60 lines: declarative tables, each named with why
LONG_TABLES = {
    ("grading/sandbox.py", "bwrap_argv"): "the bubblewrap command line, one option per line",
}
#: paths that files outside the package name: the path, the names it must offer, who names it
STABLE = {
    "framelab.checks": ["check_answer", "grade_answer"],  # every notebook's test cells
    "framelab.notebook": ["Lesson"],  # every module notebook
    "framelab.preprocessors": ["TeachingFeedback", "LimitOutputChars", "LatePolicy", "LateNote"],  # nbgrader_config.py
    "framelab.formgrade": ["FormgraderView"],  # nbgrader_config.py
    "framelab.feedback": ["FeedbackExporter"],  # nbgrader_config.py
    "framelab.exchange": ["PrivateSubmit"],  # the hub installer
    "framelab.cli": ["main"],  # pyproject.toml's console script
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every framelab module this one imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for a in node.names:
                target = f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                if target in known:
                    found.add(target)
    return found - {name}


def graph() -> dict[str, set[str]]:
    mods = sources()
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_framelab_module_imports_another_in_a_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_each_subpackage_imports_only_the_layers_beneath_it():
    wrong = []
    for name, targets in graph().items():
        layer = name.split(".")[1] if name.count(".") >= 1 else ""
        if layer not in LAYERS:
            continue  # the package root and the stable re-exports
        for target in targets:
            other = target.split(".")[1] if target.count(".") >= 1 else ""
            if other in LAYERS and LAYERS.index(other) > LAYERS.index(layer):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "a subpackage imports one above it (ARCHITECTURE.md): " + "; ".join(sorted(wrong))
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()) == sorted(LAYERS)


def test_no_source_file_is_over_600_lines():
    long = {
        str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600
    }
    assert not long, f"split these files: {long}"


def test_no_function_is_over_60_lines_except_the_named_tables():
    long = {}
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60 and (rel, node.name) not in LONG_TABLES:
                    long[f"{rel}:{node.name}"] = lines
    assert not long, f"split these functions into named steps: {long}"
    for rel, name in LONG_TABLES:  # each exception still exists (else it is stale)
        tree = ast.parse((PACKAGE / rel).read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.walk(tree)), (rel, name)


@pytest.mark.parametrize("path", sorted(STABLE))
def test_every_stable_path_still_imports_with_its_names(path):
    module = importlib.import_module(path)
    for name in STABLE[path]:
        assert callable(getattr(module, name)), f"{path}.{name}"


def test_the_stable_paths_named_outside_the_package_are_the_ones_kept(root):
    config = (root / "nbgrader_config.py").read_text()
    for path in ("framelab.preprocessors.TeachingFeedback", "framelab.formgrade.FormgraderView"):
        assert path in config
    assert "framelab.feedback.FeedbackExporter" in config
    installer = (root / "deploy" / "jupyterhub" / "install-course-env.sh").read_text()
    assert "framelab.exchange.PrivateSubmit" in installer
    assert 'framelab = "framelab.cli:main"' in (root / "pyproject.toml").read_text()
    notebook = (root / "source" / "m1_double_bind" / "m1_double_bind.ipynb").read_text()
    assert "from framelab.notebook import Lesson" in notebook and "from framelab.checks import" in notebook


# --------------------------------------------------------------------------- one way to name an answer


def repair_case(bank):
    """Module 5's repair exercise, one of its items, and two ticks on it."""
    module = bank.module("m5_alliance")
    ex = next(e for e in module.meta.exercises if e.rubric == "repair")
    return ex, bank.items()[ex.items[0]], ["validate", "state_boundary"]


def names_in_check(ex, item, picked, bank) -> str:
    from framelab.bank.loader import gold
    from framelab.learner.selfcheck import CheckReport, ItemCheck

    check = ItemCheck(ex.id, ex.kind, item.id, False, picked, gold(item, ex.kind), item.rationale, ex.rubric)
    return CheckReport("m5_alliance", [check]).render()


def names_in_feedback(ex, item, picked) -> str:
    from framelab.bank.loader import gold
    from framelab.grading.preprocessors import verdict

    return verdict(item, ex, picked, gold(item, ex.kind), 0, 1, 1, len(ex.items))


def names_in_formgrader(ex, item, picked) -> str:
    from framelab.bank.loader import gold
    from framelab.grading.formgrade import _row

    return _row(1, item, ex.kind, ex.rubric, picked, gold(item, ex.kind))


def test_one_function_names_the_same_repair_ticks_alike_in_check_feedback_and_formgrader(bank):
    ex, item, picked = repair_case(bank)
    views = {
        "check": names_in_check(ex, item, picked, bank),
        "feedback": names_in_feedback(ex, item, picked),
        "formgrader": names_in_formgrader(ex, item, picked),
    }
    for where, text in views.items():
        assert "Thank them for saying it" in text and "Own your part" in text, (where, text)
        assert "Validate the feeling" not in text and "State the boundary" not in text, (where, text)


def test_the_three_moves_are_named_as_their_menus_name_them_in_the_same_views(bank):
    module = bank.module("m3_three_moves")
    ex = next(e for e in module.meta.exercises if e.kind == "moves")
    item, picked = bank.items()[ex.items[0]], ["validate", "recenter"]
    for text in (names_in_check(ex, item, picked, bank), names_in_feedback(ex, item, picked)):
        assert "Validate the feeling" in text and "Re-center on the work" in text, text
    assert "Validate the feeling, Re-center on the work" in names_in_formgrader(ex, item, picked)


def test_no_other_module_turns_an_answer_set_into_names():
    """The answer sets' texts are read in core.rubrics (menus) and scoring.display (names) alone; other
    modules may read which values a set holds, never print its texts."""
    allowed = {"core/vocabulary.py", "core/rubrics.py", "scoring/display.py"}
    readers = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        text = path.read_text(encoding="utf-8")
        if rel not in allowed and ("OPTION_SETS[" in text or "menu_options(" in text) and '.split(":")' in text:
            readers.append(rel)
    assert not readers, f"name answers with framelab.scoring.display instead: {readers}"
