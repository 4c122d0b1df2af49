"""Runs watched in the browser: progress that moves, interrupts that return every row,
and a saved notebook that still says what happened after its kernel is gone."""

from __future__ import annotations

import json
import re
import time

from .conftest import Page
from .test_guides_in_lab import console_errors

START = """\
import json
import hotglue_nb as hg

sb = hg.sandbox.start(faults={"latency": 0.05})
creds = sb.credentials"""
BLOCKING = "r1 = hg.launch_jobs(sb.tenants[:60], flow_id=sb.flow_id, concurrency=2, **creds)"
ASYNC = ("r2 = await hg.aio.launch_jobs(sb.tenants[60:120], flow_id=sb.flow_id, concurrency=2,"
         " **creds)")  # fmt: skip
LONG = "r3 = hg.launch_jobs(sb.tenants[:240], flow_id=sb.flow_id, concurrency=2, **creds)"
WAIT = """\
r4 = hg.launch_jobs(sb.tenants[120:150], flow_id=sb.flow_id, concurrency=8, wait=True,
                    poll_interval=0.2, **creds)"""
CHECK = """\
r = hg.last_run()
server = {t: [j["s3_root"] for j in sb.state.jobs_for(t)] for t in r.tenant}
lost = [t for t, roots in server.items() if roots and t not in set(r.tenant[r.outcome.isin(
    ["created", "unknown"])])]
print(json.dumps({"rows": len(r), "outcomes": r.outcome.value_counts().to_dict(),
                  "roots": int(r.job_root.notna().sum()), "polls": int(r.get("polls",
                  r.outcome.isna()).fillna(0).sum()), "lost": lost}))"""


def progress_text(jl: Page, cell: int) -> str:
    return jl.page.evaluate(
        "(i) => { const c = window.jupyterapp.shell.currentWidget.content.widgets[i];"
        " return c.node.querySelector('.jp-OutputArea') ?"
        " c.node.querySelector('.jp-OutputArea').innerText : ''; }",
        cell,
    )


def watch(jl: Page, cell: int, seconds: float = 30, shot: str | None = None) -> list[str]:
    """Samples of the bar's "n/total" while cell ``cell`` runs (a screenshot mid-run)."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.findall(r"(\d+)/(\d+)", progress_text(jl, cell))
        if found and (not seen or seen[-1] != found[0][0]):
            seen.append(found[0][0])
            if shot and len(seen) == 3:
                jl.shot(shot, jl.page.locator(".jp-Notebook"))
        done = jl.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i)"
            ".executionCount !== null", cell,
        )  # fmt: skip
        if done:
            break
        time.sleep(0.1)
    return seen


def test_progress_moves_while_a_blocking_and_an_async_launch_run(jl: Page) -> None:
    jl.open(jl.lab.notebook([START, BLOCKING, ASYNC]))
    jl.run_cell(0)
    jl.wait_idle(upto=0)
    for cell in (1, 2):
        jl.run_cell(cell)
        seen = watch(jl, cell, shot="live-run.png" if cell == 2 else None)
        assert len(set(seen)) >= 3, seen  # the bar moved while the cell ran
        jl.wait_idle(upto=cell)
    summaries = jl.page.locator(".hg-progress-summary")
    assert summaries.count() == 2 and "60/60 rows" in summaries.first.inner_text()
    assert console_errors(jl) == []


def interrupt_when(jl: Page, cell: int, pattern: str, then: float = 0.0) -> None:
    deadline = time.monotonic() + 60
    while not re.search(pattern, progress_text(jl, cell), re.S):
        assert time.monotonic() < deadline, progress_text(jl, cell)
        time.sleep(0.05)
    time.sleep(then)
    jl.command("notebook:interrupt-kernel")
    jl.wait_idle(upto=cell)


def test_interrupts_in_the_launch_and_in_the_wait_return_every_row(jl: Page) -> None:
    jl.open(jl.lab.notebook([START, LONG, WAIT]))
    jl.run_cell(0)
    jl.wait_idle(upto=0)
    jl.run_cell(1)
    interrupt_when(jl, 1, r"launch.*\b([1-9]\d)/240")
    error = [o for o in jl.outputs() if o["output_type"] == "error"][-1]
    assert error["ename"] == "LaunchInterrupted" and len(error["traceback"]) <= 2
    text = "\n".join(error["traceback"])
    assert "hg.last_run()" in text and "launch interrupted of run" in text
    report = json.loads(jl.kernel(CHECK))
    assert report["rows"] == 240 and report["lost"] == []
    assert report["outcomes"].get("created", 0) >= 10 and "skipped" in report["outcomes"]
    jl.run_cell(2)
    interrupt_when(jl, 2, r"wait.*\d+/30", then=1.0)  # a few polls into the wait
    error = [o for o in jl.outputs() if o["output_type"] == "error"][-1]
    assert "wait interrupted" in "\n".join(error["traceback"])
    report = json.loads(jl.kernel(CHECK))
    assert report["rows"] == 30 and report["roots"] == 30 and report["polls"] >= 1
    assert report["lost"] == []


def test_a_saved_notebook_keeps_what_happened(jl: Page) -> None:
    form = ("form = hg.widgets.OverridesForm.from_api(hg.Hotglue(**creds), sb.flow_id,"
            " sb.tenants[0])\nform")  # fmt: skip
    name = jl.lab.notebook([START, WAIT, form, "sb.stop()"])
    jl.open(name)
    jl.run_all()
    jl.command("docmanager:save")
    jl.page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    jl.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    jl.open(name)  # reopened: a new kernel, none of the old widget models
    jl.page.wait_for_selector(".hg-progress-summary")
    summary = jl.page.locator(".hg-progress-summary").first.inner_text()
    assert "30/30 rows" in summary and "completed" in summary.lower()
    assert "OverridesForm value:" in jl.page.locator(".jp-Notebook").inner_text()
    broken = jl.page.get_by_text("Error displaying widget").count()
    assert broken <= 1  # at most the form's own live view; its value stays readable above


MISTAKE = "hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, concurency=4, **creds)"
WRONG_FLOW = "hg.launch_jobs(sb.tenants[:40], flow_id='2yW4Acq9', **creds)"
CUT_SHORT = """\
fleet = hg.sandbox.start(history_days=10)
history = hg.job_history(fleet.flow_id, since='30d', **fleet.credentials)"""


def test_mistakes_and_warnings_read_as_the_users_own_line(jl: Page) -> None:
    """What a notebook user sees for a typo, a wrong flow and a warning: their own line and
    the message with the fix, nothing from inside the package (the rendered page's text)."""
    jl.open(jl.lab.notebook([START, MISTAKE, WRONG_FLOW, CUT_SHORT]))
    for cell in range(4):  # one by one: "run all" stops at the first error
        jl.run_cell(cell)
        jl.wait_idle(upto=cell)
    errors = [o for o in jl.outputs() if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ConfigError", "ConfigError"]
    shown = jl.page.locator(".jp-OutputArea-output").all_inner_texts()
    typo = next(t for t in shown if "concurency" in t)
    assert "did you mean concurrency=?" in typo and "concurency=4" in typo  # the user's line
    flow = next(t for t in shown if "is not a flow" in t)
    assert "did you mean '2yW4Acq9G'?" in flow and "no job was started for its 40" in flow
    warned = next(t for t in shown if "cut short" in t)
    assert "hotglue_nb/" not in warned and "HotglueWarning" in warned
    assert "240/240 rows" in " ".join(shown)  # every tenant of the env: counted, not "240/0"
    assert all("site-packages" not in t and "hotglue_nb/_" not in t for t in shown), shown
    jl.shot("mistakes.png", jl.page.locator(".jp-Notebook"))
