"""hg.job_history over 1,000 tenants x 30 jobs (issue #13), sandbox in its own process.

(a) wall time vs the ideal N/C x L at the sandbox's latency L
(b) client CPU per tenant vs a hand-written asyncio + httpx loop over the same calls
    (list tenants, then GET jobs per tenant, rows into a DataFrame)
(c) peak memory of the call (max RSS in a fresh process, after imports)

Run: ``python benchmarks/history.py [--tenants 1000] [--latency 0.1] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import Remote, remote_sandbox

import hotglue_nb as hg

CONCURRENCY = 16


def ours(remote: Remote) -> pd.DataFrame:
    return hg.job_history(remote.flow_id, concurrency=CONCURRENCY, progress=False,
                          **remote.credentials)  # fmt: skip


async def by_hand(remote: Remote) -> pd.DataFrame:
    """What a careful user writes: one client, a semaphore, gather, then a frame."""
    sem = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    headers = {"x-api-key": remote.api_key}
    async with httpx.AsyncClient(base_url=remote.base_url, headers=headers, limits=limits) as c:
        env = quote(remote.env_id, safe="")
        tenants = (await c.get(f"/tenants/{env}")).json()

        async def one(tenant: str) -> list[dict[str, object]]:
            async with sem:
                r = await c.get(f"/{env}/{remote.flow_id}/{quote(tenant, safe='')}/jobs")
                return [{"tenant": tenant, **job} for job in r.json()]

        rows = [row for jobs in await asyncio.gather(*(one(t) for t in tenants)) for row in jobs]
    return pd.DataFrame(rows)


def timed(fn: object) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    frame = fn()  # type: ignore[operator]
    return time.process_time() - cpu, time.perf_counter() - wall, len(frame)


MEMORY_CHILD = """
import sys, hotglue_nb as hg
def hwm():  # VmHWM: this process's peak RSS in KiB (ru_maxrss would count the parent's)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
base, key, env, flow = sys.argv[1:5]
before = hwm()
h = hg.job_history(flow, api_key=key, env_id=env, base_url=base, concurrency=16, progress=False)
print(before, hwm(), len(h))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    extra = ["--history-days", "30"]
    with remote_sandbox(args.tenants, f"latency={args.latency}", extra) as remote:
        ours(remote)  # warm up: the sandbox makes each tenant's history on first read
        mine, hand = [], []
        for _ in range(args.reps):  # alternate, so drift on a shared machine hits both
            mine.append(timed(lambda: ours(remote)))
            hand.append(timed(lambda: asyncio.run(by_hand(remote))))
        child = [sys.executable, "-c", MEMORY_CHILD, remote.base_url, remote.api_key,
                 remote.env_id, remote.flow_id]  # fmt: skip
        before, after, rows = map(int, subprocess.run(child, capture_output=True, text=True,
                                                      check=True).stdout.split())  # fmt: skip
    jobs = mine[0][2]
    ideal = (args.tenants + 1) / CONCURRENCY * args.latency
    wall, hand_wall = statistics.median(m[1] for m in mine), statistics.median(h[1] for h in hand)
    cpu, hand_cpu = statistics.median(m[0] for m in mine), statistics.median(h[0] for h in hand)
    print(f"history of {args.tenants} tenants ({jobs} jobs), concurrency {CONCURRENCY}, "
          f"latency {args.latency * 1000:.0f} ms, {args.reps} alternating runs")  # fmt: skip
    print(f"(a) ideal N/C x L: {ideal:.2f} s; hg.job_history {wall:.2f} s = {wall / ideal:.2f}x;"
          f" hand-written {hand_wall:.2f} s = {hand_wall / ideal:.2f}x")  # fmt: skip
    per = 1e3 / args.tenants
    print(f"(b) client CPU per tenant: hg.job_history {cpu * per:.2f} ms, hand-written "
          f"{hand_cpu * per:.2f} ms ({cpu / hand_cpu:.2f}x; ours: typed columns)")  # fmt: skip
    print(f"(c) peak RSS {after / 1024:.0f} MiB (+{(after - before) / 1024:.0f} MiB over the "
          f"interpreter after imports) for {rows} jobs")  # fmt: skip


if __name__ == "__main__":
    main()
