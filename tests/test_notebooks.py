"""The documentation notebooks are committed clean (they run under nbmake, and into the docs
site at its build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_the_guides_exist() -> None:
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_saved_without_outputs_and_for_python3(path: Path) -> None:
    book = json.loads(path.read_text())
    assert book["metadata"]["kernelspec"]["name"] == "python3"
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    text = path.read_text()
    assert "sandbox-key" not in text  # no credentials pasted into a notebook


def test_the_fleet_guide_is_notebook_05() -> None:
    """The fleet guide's code is the notebook's (the README's own blocks run by themselves:
    tests/test_readme.py; the notebooks are in the docs site with their outputs)."""
    readme = (Path(__file__).parents[1] / "docs" / "guides" / "fleet.md").read_text()
    book = json.loads(NOTEBOOKS[4].read_text())
    code = ["".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code"]
    for cell in code[:-1]:
        cell = cell.removeprefix("%matplotlib inline\n")
        if "hg." in cell:
            assert cell in readme, cell
