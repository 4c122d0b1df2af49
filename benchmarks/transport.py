"""The transports side by side (issue #15), sandbox in its own process, runs interleaved.

For each concurrency C and latency L, N POSTs of a ~300-byte JSON body, keep-alive pool = C:
(a) hg.launch_jobs on the default transport (httpx API over aiohttp)
(b) hg.launch_jobs(transport="httpx")
(c) a hand-written asyncio + httpx loop
(d) a hand-written asyncio + aiohttp loop
Reported: client CPU per job (process time / N) and wall time vs the ideal N/C x L.

Run: ``python benchmarks/transport.py [--rows 2000] [--reps 2] [--concurrency 8 16 50]
[--latency 0 0.25]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import Remote, remote_sandbox

import hotglue_nb as hg

BODY = {
    "ignore_parallel_jobs": True,
    "job_name": "bench",
    "override_start_date": "2024-01-01T00:00:00.000Z",
    "environment_variables": {"REGION": "eu-west-1", "BATCH": "nightly", "OWNER": "data-team"},
    "override_selected_tables": {"Contacts": True, "Invoices": True, "Vendors": False},
}


def ours(remote: Remote, tenants: list[str], c: int, transport: str) -> None:
    client = hg.AsyncHotglue(**remote.credentials, transport=transport, max_connections=c)
    hg.launch_jobs(tenants, flow_id=remote.flow_id, concurrency=c, progress=False,
                   client=client, **BODY)  # fmt: skip


async def by_httpx(remote: Remote, tenants: list[str], c: int) -> None:
    sem = asyncio.Semaphore(c)
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    headers = {"x-api-key": remote.api_key}
    async with httpx.AsyncClient(base_url=remote.base_url, headers=headers, limits=limits) as h:

        async def one(tenant: str) -> None:
            async with sem:
                path = f"/{quote(remote.env_id, safe='')}/{remote.flow_id}/{quote(tenant, safe='')}"
                (await h.post(path + "/jobs", json=BODY)).json()

        await asyncio.gather(*(one(t) for t in tenants))


async def by_aiohttp(remote: Remote, tenants: list[str], c: int) -> None:
    sem = asyncio.Semaphore(c)
    connector = aiohttp.TCPConnector(limit=c)
    headers = {"x-api-key": remote.api_key}
    async with aiohttp.ClientSession(remote.base_url, connector=connector, headers=headers) as s:

        async def one(tenant: str) -> None:
            async with sem:
                path = f"/{quote(remote.env_id, safe='')}/{remote.flow_id}/{quote(tenant, safe='')}"
                async with s.post(path + "/jobs", json=BODY) as r:
                    await r.json()

        await asyncio.gather(*(one(t) for t in tenants))


VARIANTS = {
    "(a) launch_jobs, default transport": lambda r, t, c: ours(r, t, c, "aiohttp"),
    "(b) launch_jobs, transport='httpx'": lambda r, t, c: ours(r, t, c, "httpx"),
    "(c) hand-written httpx loop": lambda r, t, c: asyncio.run(by_httpx(r, t, c)),
    "(d) hand-written aiohttp loop": lambda r, t, c: asyncio.run(by_aiohttp(r, t, c)),
}


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def run(rows: int, reps: int, concurrency: int, latency: float) -> None:
    with remote_sandbox(tenants=rows, faults=f"latency={latency}") as remote:
        tenants = remote.tenants[:rows]
        for fn in VARIANTS.values():  # warm up: imports, connections, the server's caches
            fn(remote, tenants[: concurrency * 2], concurrency)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        names = list(VARIANTS)
        for rep in range(reps):  # interleaved, order rotated: noise hits every variant alike
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                job = functools.partial(VARIANTS[name], remote, tenants, concurrency)
                results[name].append(measure(job))
    ideal = rows / concurrency * latency
    hand_httpx = statistics.median(c for c, _ in results["(c) hand-written httpx loop"])
    hand_aio = statistics.median(c for c, _ in results["(d) hand-written aiohttp loop"])
    print(
        f"\nN={rows}, concurrency {concurrency}, latency {latency * 1000:.0f} ms, "
        f"median of {reps} interleaved runs" + (f", ideal {ideal:.2f} s" if ideal else "")
    )
    for name, runs in results.items():
        cpu = statistics.median(c for c, _ in runs) / rows
        wall = statistics.median(w for _, w in runs)
        vs = f"{wall / ideal:5.2f}x ideal" if ideal else ""
        print(
            f"  {name:38} CPU {cpu * 1e6:7.0f} us/job ({cpu * rows / hand_httpx:4.2f}x httpx "
            f"loop, {cpu * rows / hand_aio:4.2f}x aiohttp loop)  wall {wall:6.2f} s {vs}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16, 50])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.25])
    args = parser.parse_args()
    print(f"versions: httpx {httpx.__version__}, aiohttp {aiohttp.__version__}, "
          f"Python {sys.version.split()[0]}")  # fmt: skip
    for latency in args.latency:
        for concurrency in args.concurrency:
            run(args.rows, args.reps, concurrency, latency)


if __name__ == "__main__":
    main()
