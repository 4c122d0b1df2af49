"""Clients dropped or left open, in every way a notebook or script does it (after a success
and after a failure; async and blocking; collected, or still open at exit)."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import hotglue_nb as hg
from hotglue_nb import sandbox

sb = sandbox.start()
DEAD = "http://127.0.0.1:9"  # nothing listens: the request raises


def creds(fail: bool) -> dict[str, Any]:
    return {**sb.credentials, "base_url": DEAD} if fail else dict(sb.credentials)


async def dropped_async(fail: bool) -> None:
    client = hg.AsyncHotglue(**creds(fail))
    try:
        await client.list_tenants()
    except hg.HotglueError:
        pass
    del client
    gc.collect()


for fail in (False, True):
    asyncio.run(dropped_async(fail))
    client = hg.Hotglue(**creds(fail))
    try:
        client.list_tenants()
    except hg.HotglueError:
        pass
    del client
    gc.collect()

kept = hg.Hotglue(**sb.credentials)  # open at exit, as the README's quickstart leaves it
kept.list_tenants()
kept_async: list[hg.AsyncHotglue] = []


async def keep() -> None:
    kept_async.append(hg.AsyncHotglue(**sb.credentials))
    await kept_async[0].list_tenants()


asyncio.run(keep())
print("end", file=sys.stderr)
