"""Every module's notebook carries what a trainee and a trainer look for: the estimated time,
objectives, a content note where the module has one, key points and references that match
``module.yaml``; and every graded exercise gets harder as it goes."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT

from framelab.bank.loader import load_bank

BANK = load_bank(ROOT / "modules")
MODULES = sorted(BANK.modules.values(), key=lambda m: m.folder)


def test_every_module_has_a_notebook():
    assert [m.folder for m in MODULES] == sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    assert [m.meta.id for m in MODULES] == [f"m{n}" for n in range(7)]


def markdown(folder: str) -> list[str]:
    nb = json.loads((ROOT / "source" / folder / f"{folder}.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.folder)
def test_the_notebook_matches_its_module_file(module):
    cells = markdown(module.folder)
    intro, text = cells[0], "\n".join(cells)
    assert intro.startswith(f"# Module {module.meta.id[1:]}: "), intro[:80]
    assert f"About {module.meta.minutes} minutes" in intro
    assert "**By the end of this module you will be able to:**" in intro
    numbered = re.findall(r"^\d+\. ", intro, flags=re.M)
    assert len(numbered) == len(module.meta.objectives), "one numbered objective per objective in module.yaml"
    assert ("**Content note.**" in intro) == bool(module.meta.content_note)
    key_points = text.split("## Key points", 1)[1].split("## References", 1)[0]
    assert len(re.findall(r"^\* ", key_points, flags=re.M)) >= len(module.meta.key_points) - 1
    references = text.split("## References", 1)[1]
    for ref in module.meta.references:
        first_author = ref.text.split(",")[0].split(" (")[0].strip()
        if first_author.startswith(("Article", "Client", "Grow")):
            continue  # the course's own source texts are described, not cited by author
        assert first_author in references, f"{module.folder}: reference '{ref.key}' is not in the notebook"


@pytest.mark.parametrize("module", [m for m in MODULES if m.meta.exercises], ids=lambda m: m.folder)
def test_graded_exercises_get_harder_as_they_go(module):
    items = BANK.items()
    for ex in module.meta.exercises:
        levels = [items[i].difficulty for i in ex.items]
        assert levels == sorted(levels), f"{module.folder}/{ex.id}: difficulties {levels} do not rise"
        if len(levels) >= 6:
            assert levels[0] < levels[-1], f"{module.folder}/{ex.id}: every item is level {levels[0]}"
