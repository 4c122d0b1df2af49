"""A client's limits: its retries, and a request's time: httpx's per-operation timeouts and
one total deadline that bounds the whole exchange (connect, send, and the whole answer).

Per-read timeouts alone never fire on an answer that trickles a byte at a time (a proxy, a
stalled load balancer), on either transport; the total deadline does. Its expiry is a read
timeout for the launch engine: the request may have been sent (``_exceptions._NOT_SENT``), so
a POST is looked up by name, never simply sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from .._exceptions import ConfigError

__all__ = ["as_timeout", "check_retries", "total_seconds", "within"]

T = TypeVar("T")


def as_timeout(value: float | httpx.Timeout) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def total_seconds(timeout: httpx.Timeout) -> float | None:
    """The whole request's deadline: the longest of the set timeouts (``timeout=2`` bounds a
    request to about 2 s, however the answer arrives); None when none is set."""
    values = [v for v in (timeout.connect, timeout.read, timeout.write) if v is not None]
    return max(values) if values else None


async def within(seconds: float | None, exchange: Awaitable[T]) -> T:
    """``exchange`` ended at ``seconds`` with ``httpx.ReadTimeout`` (its answer may be
    on its way: "maybe sent")."""
    if seconds is None:
        return await exchange
    try:
        async with asyncio.timeout(seconds):
            return await exchange
    except TimeoutError:
        raise httpx.ReadTimeout(
            f"no complete answer within {seconds:g} s (the request's total deadline)"
        ) from None


def check_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"max_retries must be a whole number >= 0, got {value!r}.")
    return value
