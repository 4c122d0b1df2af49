"""Ctrl-C / cancel in the launch phase, the wait phase and launch+wait, blocking and async:
always LaunchInterrupted with a complete frame, checked against the sandbox's own jobs."""

from __future__ import annotations

import _thread
import asyncio
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

pytestmark = pytest.mark.usefixtures("both_transports")  # aiohttp and httpx alike

TENANTS = 120


@pytest.fixture  # one per test: each transport's run starts from a server with no jobs
def sb() -> Iterator[sandbox.Sandbox]:
    world = sandbox.demo_world(0, tenants=TENANTS)
    with sandbox.serve(world, faults={"latency": 0.03}) as sb:
        yield sb


def requests_seen(sb: sandbox.Sandbox, method: str, what: str) -> int:
    return sum(1 for m, path, _, _ in sb.state.requests if m == method and path.endswith(what))


def interrupt_when(condition: Callable[[], bool]) -> threading.Thread:
    """Ctrl-C the main thread once ``condition()`` holds (polled every 5 ms)."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # let the client take in the answers the server already sent
        _thread.interrupt_main()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def check_nothing_lost(sb: sandbox.Sandbox, frame: pd.DataFrame, tenants: list[str]) -> None:
    """One row per tenant; every job the server made is in the frame (or the row says it
    may exist); no row claims a job the server does not have."""
    assert len(frame) == len(tenants) and list(frame.tenant) == tenants
    for row in frame.itertuples():
        roots = {job["s3_root"] for job in sb.state.jobs_for(row.tenant, row.flow_id)}
        if row.outcome == "created":
            assert row.job_root in roots
        elif row.outcome == "unknown":
            assert len(roots) <= 1
        else:
            assert row.outcome == "skipped" and not roots, (row.tenant, row.outcome)


def fresh_tenants(sb: sandbox.Sandbox, n: int, offset: int) -> list[str]:
    ok = [t for t in sb.tenants if not sb.world.tenants[t]["failures"]]
    assert len(ok) >= offset + n
    return ok[offset : offset + n]


def test_blocking_launch_interrupted(sb: sandbox.Sandbox) -> None:
    tenants = fresh_tenants(sb, 30, 0)
    before = requests_seen(sb, "POST", "/jobs")
    interrupt_when(lambda: requests_seen(sb, "POST", "/jobs") - before >= 6)
    with pytest.raises(hg.LaunchInterrupted) as info:
        hg.launch_jobs(tenants, flow_id=sb.flow_id, concurrency=2, progress=False,
                       **sb.credentials)  # fmt: skip
    frame = info.value.results
    assert info.value.phase == "launch"
    check_nothing_lost(sb, frame, tenants)
    assert (frame.outcome == "created").sum() >= 6 and (frame.outcome == "skipped").sum() >= 10


def test_blocking_wait_interrupted(sb: sandbox.Sandbox) -> None:
    tenants = fresh_tenants(sb, 10, 30)
    results = hg.launch_jobs(tenants, flow_id=sb.flow_id, progress=False, **sb.credentials)
    before = requests_seen(sb, "GET", "/status")
    interrupt_when(lambda: requests_seen(sb, "GET", "/status") - before >= 12)
    with pytest.raises(hg.LaunchInterrupted) as info:
        hg.wait_for_jobs(results, poll_interval=0.1, progress=False, **sb.credentials)
    frame = info.value.results
    assert info.value.phase == "wait"
    check_nothing_lost(sb, frame, tenants)
    assert list(frame.job_root) == list(results.job_root)  # every job id kept
    assert frame.polls.sum() >= 1 and frame.status.notna().all()
    assert not frame.finished.all()


def test_blocking_launch_and_wait_interrupted_in_the_wait(sb: sandbox.Sandbox) -> None:
    tenants = fresh_tenants(sb, 10, 40)
    before = requests_seen(sb, "GET", "/status")
    interrupt_when(lambda: requests_seen(sb, "GET", "/status") - before >= 12)
    with pytest.raises(hg.LaunchInterrupted) as info:
        hg.launch_jobs(tenants, flow_id=sb.flow_id, wait=True, poll_interval=0.1,
                       progress=False, **sb.credentials)  # fmt: skip
    frame = info.value.results
    assert info.value.phase == "wait"
    check_nothing_lost(sb, frame, tenants)
    assert (frame.outcome == "created").all() and frame.job_root.notna().all()
    assert "polls" in frame and frame.polls.sum() >= 1


async def cancel_when(task: asyncio.Task[Any], condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110 - server state
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)
    task.cancel()


def test_async_launch_and_wait_cancelled(sb: sandbox.Sandbox) -> None:
    launch_tenants = fresh_tenants(sb, 12, 50)
    wait_tenants = fresh_tenants(sb, 8, 62)

    async def scenario() -> tuple[hg.LaunchInterrupted, hg.LaunchInterrupted]:
        before = requests_seen(sb, "POST", "/jobs")
        launch = asyncio.ensure_future(hg.aio.launch_jobs(
            launch_tenants, flow_id=sb.flow_id, concurrency=2, progress=False, **sb.credentials,
        ))  # fmt: skip
        await cancel_when(launch, lambda: requests_seen(sb, "POST", "/jobs") - before >= 4)
        with pytest.raises(hg.LaunchInterrupted) as first:
            await launch
        results = await hg.aio.launch_jobs(
            wait_tenants, flow_id=sb.flow_id, progress=False, **sb.credentials
        )
        polled = requests_seen(sb, "GET", "/status")
        wait = asyncio.ensure_future(hg.aio.wait_for_jobs(
            results, poll_interval=0.1, progress=False, **sb.credentials
        ))  # fmt: skip
        await cancel_when(wait, lambda: requests_seen(sb, "GET", "/status") - polled >= 8)
        with pytest.raises(hg.LaunchInterrupted) as second:
            await wait
        return first.value, second.value

    launch_exc, wait_exc = asyncio.run(scenario())
    assert launch_exc.phase == "launch" and wait_exc.phase == "wait"
    check_nothing_lost(sb, launch_exc.results, launch_tenants)
    check_nothing_lost(sb, wait_exc.results, wait_tenants)
    assert wait_exc.results.job_root.notna().all() and wait_exc.results.polls.sum() >= 1


def test_an_interrupt_reads_well_and_its_results_stay_reachable(sb: sandbox.Sandbox) -> None:
    tenants = fresh_tenants(sb, 20, 70)
    journal = Path(tempfile.mkdtemp()) / "run.jsonl"
    before = requests_seen(sb, "POST", "/jobs")
    interrupt_when(lambda: requests_seen(sb, "POST", "/jobs") - before >= 4)
    with pytest.raises(hg.LaunchInterrupted):  # never bound by the user below
        hg.launch_jobs(tenants, flow_id=sb.flow_id, concurrency=2, progress=False,
                       journal=journal, **sb.credentials)  # fmt: skip
    partial = hg.last_run()
    assert partial is not None and list(partial.tenant) == tenants
    exc = hg.LaunchInterrupted(partial)
    text = str(exc)
    assert f"of run {partial.run_id.iloc[0]}" in text and "hg.last_run()" in text
    assert f"resume='{journal}'" in text and "created" in text
    rendered = exc._render_traceback_()  # what IPython shows instead of the traceback
    assert len(rendered) == 1 and "LaunchInterrupted" in rendered[0]
    auth = hg.AuthenticationError.__new__(hg.AuthenticationError)
    Exception.__init__(auth, "401: check the API key")
    assert len(auth._render_traceback_()) == 1
