"""Every guide notebook, run in JupyterLab in Chromium: no error, no broken widget."""

from __future__ import annotations

import re

import pytest

from .conftest import NOTEBOOKS, Page

NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
#: what JupyterLab itself may log in a sandbox with no internet (not ours)
NOISE = re.compile(r"favicon|net::ERR_|Failed to load resource|pypi|lsp|language server", re.I)


def console_errors(jl: Page) -> list[str]:
    return [text for text in jl.console if not NOISE.search(text)]


@pytest.mark.parametrize("name", NAMES)
def test_each_guide_runs_clean_in_the_browser(jl: Page, name: str) -> None:
    jl.open(name)
    jl.run_all()
    outputs = jl.outputs()
    errors = [o for o in outputs if o["output_type"] == "error"]
    unexpected = [o["ename"] for o in errors if "raises-exception" not in o["tags"]]
    assert unexpected == []
    for error in errors:  # a deliberate error reads as a message, not 60 lines of internals
        assert len(error["traceback"]) <= 2, error["traceback"]
    assert jl.page.get_by_text("Error displaying widget").count() == 0
    assert console_errors(jl) == []
    jl.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
