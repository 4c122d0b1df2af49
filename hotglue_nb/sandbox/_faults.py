"""Switchable faults: rate limiting, 423, 5xx, latency, lost/slow answers, broken JSON.

All are off by default. Each decision is a pure function of (seed, tenant, the tenant's
request number, fault kind), so a run is reproducible whatever the interleaving of requests.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["FaultPlan", "Faults", "TokenBucket", "parse_faults", "retry_after_header"]


@dataclass(frozen=True)
class Faults:
    """Fault switches for one tenant (or all). Probabilities are per POST unless noted.

    * ``rate_limit`` - requests/second for the whole sandbox (token bucket, any method);
      beyond it: 429 with Retry-After. ``burst`` is the bucket size.
    * ``retry_after`` - fixed Retry-After seconds for 429/423/503 (default: whole seconds
      until the next token, at least 1).
    * ``locked`` - 423 before acting.  ``server_error`` - 500/502/503/504 before acting.
    * ``on_get`` - also apply ``locked`` and ``server_error`` to GET requests.
    * ``latency`` - seconds added before every answer.
    * ``lose_answer`` - the job is created, then the connection drops mid-answer.
    * ``slow_answer`` - the job is created, then the answer waits ``slow_seconds``.
    * ``broken_json`` - the job is created, then a 200 with a truncated JSON body.
    * ``empty_ok`` - the job is created, then a 200 with an empty body.
    * ``no_root`` - the job is created, then a 200 job object without ``s3_root``.
    * ``redirect`` - a 307 to another URL before acting (nothing is created).
    * ``throttle_first`` - the first N POSTs of a tenant get 429 (with ``retry_after``).
    * ``odd_list`` - per GET of a job list: an object, an HTML page or ``null`` instead.
    * ``empty_status`` - per GET of a job status: a 200 with an empty body (hotglue's widget
      stops polling on one [C-code]).
    * ``bare_429`` - per 429: API Gateway's ``{"message": "Too Many Requests"}`` without
      ``Retry-After`` instead of a Chalice body with it [I: AWS throttling].
    """

    rate_limit: float | None = None
    burst: int = 10
    retry_after: float | None = None
    locked: float = 0.0
    server_error: float = 0.0
    on_get: bool = False
    latency: float = 0.0
    lose_answer: float = 0.0
    slow_answer: float = 0.0
    slow_seconds: float = 5.0
    broken_json: float = 0.0
    empty_ok: float = 0.0
    no_root: float = 0.0
    redirect: float = 0.0
    throttle_first: int = 0
    odd_list: float = 0.0
    empty_status: float = 0.0
    bare_429: float = 0.0


@dataclass
class FaultPlan:
    """Default faults plus per-tenant overrides, and the deterministic dice."""

    default: Faults = field(default_factory=Faults)
    per_tenant: dict[str, Faults] = field(default_factory=dict)
    seed: int = 0

    def for_tenant(self, tenant: str | None) -> Faults:
        return self.per_tenant.get(tenant or "", self.default)

    def roll(self, tenant: str | None, number: int, kind: str) -> float:
        """A uniform number in [0, 1) fixed by its inputs."""
        key = f"{self.seed}|{tenant}|{number}|{kind}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64

    def hits(self, tenant: str | None, number: int, kind: str) -> bool:
        chance = float(getattr(self.for_tenant(tenant), kind))
        return chance > 0 and self.roll(tenant, number, kind) < chance

    @classmethod
    def build(cls, faults: Any, seed: int = 0) -> FaultPlan:
        """Accept None, a Faults, a dict of Faults fields, a FaultPlan, or
        ``{"*": ..., "<tenant>": ...}`` with per-tenant entries."""
        if isinstance(faults, FaultPlan):
            return faults
        if faults is None:
            return cls(seed=seed)
        if isinstance(faults, Faults):
            return cls(default=faults, seed=seed)
        if isinstance(faults, str):
            return cls(default=parse_faults(faults), seed=seed)
        if isinstance(faults, Mapping) and ("*" in faults or _looks_per_tenant(faults)):
            default = _as_faults(faults.get("*"))
            per = {k: _as_faults(v, default) for k, v in faults.items() if k != "*"}
            return cls(default=default, per_tenant=per, seed=seed)
        return cls(default=_as_faults(faults), seed=seed)


def _looks_per_tenant(faults: Mapping[str, Any]) -> bool:
    names = {f.name for f in fields(Faults)}
    return any(key not in names for key in faults)


def _as_faults(value: Any, base: Faults | None = None) -> Faults:
    if value is None:
        return base or Faults()
    if isinstance(value, Faults):
        return value
    return replace(base or Faults(), **dict(value))


def parse_faults(text: str) -> Faults:
    """``"rate_limit=50,server_error=0.1,on_get=true"`` -> Faults (the CLI's --faults)."""
    kinds = {f.name: f.type for f in fields(Faults)}
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in kinds:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(kinds)}")
        values[name] = _parse_value(name, raw.strip())
    return Faults(**values)


def _parse_value(name: str, raw: str) -> Any:
    if name == "on_get":
        return raw.lower() in ("1", "true", "yes", "on")
    if name in ("burst", "throttle_first"):
        return int(raw)
    return float(raw)


class TokenBucket:
    """Classic token bucket on a monotonic clock (real time, also under a fake job clock)."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(burst, 1)
        self.tokens = float(self.capacity)
        self.clock = clock
        self.stamp = clock()

    def take(self) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def retry_after_header(faults: Faults, wait: float) -> str:
    if faults.retry_after is not None:
        return f"{faults.retry_after:g}"
    return str(max(1, math.ceil(wait)))
