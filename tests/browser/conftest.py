"""A real JupyterLab in Chromium, driven by Playwright (issue #14).

Chromium comes from Debian's ``chromium`` package (``/usr/bin/chromium``; Playwright cannot
download its own browser here). Without it these tests skip with the reason, except when
``HOTGLUE_NB_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then a missing browser fails CI.
``HOTGLUE_NB_SCREENSHOTS=docs/images`` refreshes the README's screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("HOTGLUE_NB_CHROMIUM", "/usr/bin/chromium")
TOKEN = "hotglue-nb-browser-tests"
NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
TIMINGS: dict[str, list[float]] = {}


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    for module in ("playwright", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = _missing()
    if reason:
        if os.environ.get("HOTGLUE_NB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lab")
    for book in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(book, root / book.name)
    server = Lab(root)
    try:
        yield server
    finally:
        server.stop()


class Lab:
    """A JupyterLab server on 127.0.0.1 with the app exposed to page scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        settings = root / ".settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={self.port}",
               "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--allow-root",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               f"--LabApp.user_settings_dir={root / '.settings'}"]  # fmt: skip
        self.log = (root / "lab.log").open("w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=root)
        self._wait_up()

    def _wait_up(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={TOKEN}", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("JupyterLab did not start: " + (self.root / "lab.log").read_text())

    def notebook(self, cells: list[str], name: str | None = None) -> str:
        """Write a notebook of code cells; returns its file name."""
        name = name or f"t-{uuid.uuid4().hex[:8]}.ipynb"
        book = {
            "cells": [{"cell_type": "code", "id": uuid.uuid4().hex[:8], "metadata": {},
                       "execution_count": None, "outputs": [], "source": source}
                      for source in cells],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }  # fmt: skip
        (self.root / name).write_text(json.dumps(book))
        return name

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")  # Playwright's sync API holds a running loop on this thread:
def browser(lab: Lab) -> Iterator[Any]:  # closed after each module, so other tests may asyncio.run
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-quic"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def jl(lab: Lab, browser: Any) -> Iterator[Page]:
    page = Page(lab, browser.new_page(viewport={"width": 1400, "height": 1000}))
    yield page
    page.close()


class Page:
    """One browser tab on the lab, with the few JupyterLab moves the tests need."""

    def __init__(self, lab: Lab, page: Any) -> None:
        self.lab, self.page = lab, page
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def open(self, name: str) -> None:
        """Open ``name`` alone, in a fresh workspace (no tab of an earlier test restored)."""
        space = uuid.uuid4().hex[:8]
        self.page.goto(f"{self.lab.url}/lab/workspaces/{space}/tree/{name}?token={TOKEN}&reset")
        self.page.wait_for_function(
            "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session &&"
            " w.sessionContext.session.kernel && w.sessionContext.session.kernel.status ==="
            " 'idle'; }", timeout=90_000, polling=200,
        )  # fmt: skip

    def command(self, name: str) -> None:
        """Start a JupyterLab command (its promise is not awaited: a cell may run long)."""
        self.page.evaluate(f"() => {{ window.jupyterapp.commands.execute({json.dumps(name)}); }}")

    def run_all(self, timeout: float = 240) -> None:
        self.command("notebook:run-all-cells")
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 240, upto: int | None = None) -> None:
        """Until the kernel is idle and every code cell (or cells ``0..upto``) has run."""
        self.page.wait_for_function(
            "(upto) => { const nb = window.jupyterapp.shell.currentWidget;"
            " const cells = nb.content.model.cells; let pending = 0;"
            " const last = upto === null ? cells.length - 1 : upto;"
            " for (let i = 0; i <= last; i++) { const c = cells.get(i);"
            "   if (c.type === 'code' && c.executionCount == null) pending++; }"
            " const k = nb.sessionContext.session && nb.sessionContext.session.kernel;"
            " return pending === 0 && k && k.status === 'idle'; }",
            arg=upto, timeout=timeout * 1000, polling=250,
        )  # fmt: skip

    def run_cell(self, index: int) -> None:
        """Start cell ``index`` (does not wait)."""
        self.page.evaluate(
            "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }",
            index,
        )
        self.command("notebook:run-cell")

    def outputs(self) -> list[dict[str, Any]]:
        """Every output of every code cell, with its cell's index and tags."""
        return self.page.evaluate(
            "() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells;"
            " const out = []; for (let i = 0; i < cells.length; i++) { const c = cells.get(i);"
            "  if (c.type !== 'code') continue; const tags = c.getMetadata('tags') || [];"
            "  for (let j = 0; j < c.outputs.length; j++) { const o = c.outputs.get(j).toJSON();"
            "   out.push({cell: i, tags, ...o}); } } return out; }"
        )

    def kernel(self, code: str, timeout: float = 60) -> str:
        """Run ``code`` in the notebook's kernel (not in a cell) and return its stdout."""
        return self.page.evaluate(
            """async ([code, ms]) => {
                const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                let text = '';
                const future = k.requestExecute({code, store_history: false});
                future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream')
                    text += msg.content.text;
                  if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.ename
                    + ': ' + msg.content.evalue; };
                await Promise.race([future.done, new Promise((_, no) => setTimeout(
                  () => no(new Error('kernel code timed out')), ms))]);
                return text; }""",
            [code, timeout * 1000],
        )

    def shot(self, name: str, locator: Any = None) -> None:
        target = os.environ.get("HOTGLUE_NB_SCREENSHOTS")
        if target:
            path = Path(target) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            (locator or self.page).screenshot(path=str(path))

    def close(self) -> None:
        self.page.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("OverridesForm in Chromium (ms)")
        for name, values in TIMINGS.items():
            ordered = sorted(values)
            terminalreporter.line(
                f"{name}: median {ordered[len(ordered) // 2]:.0f}, max {ordered[-1]:.0f} "
                f"over {len(values)}"
            )
