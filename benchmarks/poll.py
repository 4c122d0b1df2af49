"""wait_for_jobs: how late a finished job is noticed, and what polling costs.

(a) On the sandbox's fake clock (in process, no sleeping): ``--jobs`` jobs of mixed lengths
    (three minutes x 0.6-1.6 per tenant, with noise; some fail early), launched together and
    followed to the end. Per job: how long after its end it was noticed, and its polls. The
    predicting schedule (default) against the previous one (x1.5 back-off capped at 30 s),
    on the same jobs. Targets for the ~3-minute jobs: median <= 5 s, p90 <= 15 s, <= 12 polls.
(b) Client CPU per poll and per job over real sockets (sandbox in its own process, jobs of
    a few seconds), default transport against transport="httpx".

Run: ``python benchmarks/poll.py [--jobs 400] [--cpu-jobs 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]
from _common import remote_sandbox  # noqa: E402

import hotglue_nb as hg  # noqa: E402
from hotglue_nb import sandbox  # noqa: E402
from hotglue_nb._jobs import _eta  # noqa: E402
from hotglue_nb._models import is_terminal  # noqa: E402
from tests.fake_time import FakeTime  # noqa: E402


class Noticing(httpx.AsyncBaseTransport):
    """In front of the in-process sandbox: when each job was first seen over, on the clock."""

    def __init__(self, app: Any, clock: FakeTime) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.clock = clock
        self.noticed: dict[str, tuple[float, float]] = {}  # root -> (seen at, ended at)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and request.url.path.endswith("/jobs/status"):
            body = json.loads(await response.aread())
            root = body.get("s3_root")
            if is_terminal(body.get("status")) and root not in self.noticed:
                ended = max(body["status_timestamp"].values()) / 1000
                self.noticed[root] = (self.clock(), ended)
        return response


def notice_run(jobs: int, predict: bool) -> pd.DataFrame:
    clock = FakeTime(1_700_000_000.0)
    world = sandbox.demo_world(0, tenants=max(jobs, 240))
    app = sandbox.create_app(world, clock=clock, time_scale=1.0)
    transport = Noticing(app, clock)
    client = hg.AsyncHotglue(api_key=world.api_key, env_id=world.env_id,
                             base_url="http://127.0.0.1", transport=transport)  # fmt: skip
    flow = world.flow_ids[0]
    tenants = list(world.tenants)[:jobs]
    saved = _eta.Eta.delay
    if not predict:
        _eta.Eta.delay = lambda *a, **k: None  # type: ignore[method-assign]
    try:
        launched = hg.launch_jobs(tenants, flow_id=flow, client=client, progress=False)
        out = hg.wait_for_jobs(launched, client=client, clock=clock, sleep=clock.sleep,
                               progress=False)  # fmt: skip
    finally:
        _eta.Eta.delay = saved  # type: ignore[method-assign]
    late = [transport.noticed.get(root, (float("nan"), 0.0)) for root in out.job_root]
    out["late_s"] = [seen - ended for seen, ended in late]
    return out


def describe(label: str, frame: pd.DataFrame) -> str:
    late, polls = frame.late_s.dropna(), frame.polls.astype(float)
    return (f"{label:<34} jobs {len(frame):4}  late median {late.median():5.1f} s  "
            f"p90 {late.quantile(0.9):5.1f} s  max {late.max():5.1f} s  "
            f"polls median {polls.median():4.1f} max {polls.max():3.0f}")  # fmt: skip


def bench_notice(jobs: int) -> None:
    print(f"(a) noticing the end, fake clock, {jobs} jobs launched together")
    for predict in (False, True):
        out = notice_run(jobs, predict)
        label = "predicting (default)" if predict else "x1.5 back-off, cap 30 s (before)"
        three = out[(out.duration_s >= 150) & (out.duration_s <= 210)]
        print("    " + describe(label + ", all", out))
        print("    " + describe(label + ", 150-210 s", three))


async def cpu_run(remote: Any, jobs: int, transport: str) -> tuple[float, int, int]:
    client = hg.AsyncHotglue(**remote.credentials, transport=transport)
    tenants = [remote.tenants[i % len(remote.tenants)] for i in range(jobs)]
    launched = await hg.aio.launch_jobs(
        pd.DataFrame({"tenant": tenants}), flow_id=remote.flow_id, client=client,
        progress=False, ignore_parallel_jobs=True, concurrency=50,
    )  # fmt: skip
    start = time.process_time()
    out = await hg.aio.wait_for_jobs(launched, client=client, progress=False, concurrency=50,
                                     poll_interval=0.5, max_poll_interval=2.0)  # fmt: skip
    cpu = time.process_time() - start
    await client.aclose()
    return cpu, int(out.polls.sum()), int(out.finished.sum())


def bench_cpu(jobs: int, reps: int) -> None:
    print(f"(b) client CPU of wait_for_jobs, {jobs} jobs, real sockets, sandbox in its own process")
    rows: dict[str, list[tuple[float, int, int]]] = {"aiohttp": [], "httpx": []}
    with remote_sandbox(tenants=240, extra=["--time-scale", "0.02"]) as remote:
        for rep in range(reps):
            for name in ("aiohttp", "httpx") if rep % 2 == 0 else ("httpx", "aiohttp"):
                rows[name].append(asyncio.run(cpu_run(remote, jobs, name)))
    for name, runs in rows.items():
        per_poll = statistics.median(cpu / polls * 1e6 for cpu, polls, _ in runs)
        per_job = statistics.median(cpu / done * 1e6 for cpu, _, done in runs)
        polls = statistics.median(p / d for _, p, d in runs)
        label = "default (aiohttp)" if name == "aiohttp" else 'transport="httpx"'
        print(f"    {label:<18} {per_poll:6.0f} us/poll  {per_job:6.0f} us/job"
              f"  ({polls:.1f} polls/job)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--cpu-jobs", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    print(f"hotglue_nb {hg.__version__}, Python {sys.version.split()[0]}")
    bench_notice(args.jobs)
    if args.cpu_jobs:
        bench_cpu(args.cpu_jobs, args.reps)


if __name__ == "__main__":
    main()
