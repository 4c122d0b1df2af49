"""Retry decisions for the launch POST and the safe GETs, and the one back-off rule.

The launch POST is not idempotent [C], so an error is sorted by what it proves:

* ``retry``     - the server is taken not to have acted (connect error, 423, 429, 503): send
  again. A connect error proves it; that a 423 or 503 on the POST means nothing was done is
  inferred [I] (hotglue's SDK retries 423 on a GET [C-code]; a 503 from API Gateway comes
  before the integration runs [I]), while 502/504 may leave a created job and reconcile.
* ``reconcile`` - it may have acted (read timeout, dropped connection, other 5xx, a success
  answer that cannot be read): look for the job by its unique name before anything else.
* ``abort``     - the key is refused (401, or a 403 with hotglue's own body): every other row
  would fail too.
* ``reject``    - the API refused this request (other 4xx, and a ``RouteError``: a 403 for a
  route, not the key [I]): no job exists.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from .._exceptions import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    HotglueError,
    RouteError,
)

if TYPE_CHECKING:
    from ._pacing import Pacer

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Decision",
    "back_off",
    "backoff_delay",
    "retry_delay",
    "decide",
    "get_is_retryable",
    "is_throttle",
]

Decision = Literal["retry", "reconcile", "abort", "reject"]

RETRY_STATUSES = frozenset({423, 429, 503})
THROTTLE_STATUSES = frozenset({429, 503})
AUTH_STATUSES = frozenset({401, 403})
BASE_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


def decide(exc: HotglueError) -> Decision:
    """What a failed launch POST proves, and so what may be done next."""
    if isinstance(exc, RouteError):
        return "reject"
    if isinstance(exc, APIStatusError):
        if exc.status_code in AUTH_STATUSES:
            return "abort"
        if exc.status_code in RETRY_STATUSES:
            return "retry"
        return "reconcile" if exc.status_code >= 500 else "reject"
    if isinstance(exc, APIConnectionError):
        return "reconcile" if exc.maybe_sent else "retry"
    if isinstance(exc, APIResponseError):
        return "reconcile"
    return "reject"


def get_is_retryable(exc: HotglueError) -> bool:
    """GETs are safe to repeat: retry any transient failure (network, 423, 429, 5xx)."""
    if isinstance(exc, APIStatusError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return isinstance(exc, (APIConnectionError, APIResponseError))


def backoff_delay(
    attempt: int,
    retry_after: float | None,
    rng: random.Random,
    *,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
    retry_after_cap: float = MAX_RETRY_AFTER,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``.

    A server's Retry-After wins (capped); otherwise exponential backoff from ``base``,
    capped, with up to 25% jitter taken from ``rng``.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), retry_after_cap)
    delay = min(base * float(2 ** max(attempt - 1, 0)), cap)
    return delay * (1 - 0.25 * rng.random())


def is_throttle(exc: BaseException) -> bool:
    """A 429/503: the server asks everyone to slow down, not only this request."""
    return isinstance(exc, APIStatusError) and exc.status_code in THROTTLE_STATUSES


def retry_delay(
    exc: HotglueError, attempt: int, *, rng: random.Random, pacer: Pacer | None = None
) -> float:
    """Seconds this caller should wait before retrying after ``exc``: 0 when a burst of
    throttles made the whole run pause (the pacer holds everyone), else the back-off."""
    retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
    delay = backoff_delay(attempt, retry_after, rng)
    if pacer is not None and is_throttle(exc) and pacer.throttled(delay):
        return 0.0
    return delay


async def back_off(
    exc: HotglueError,
    attempt: int,
    *,
    rng: random.Random,
    sleep: Callable[[float], Awaitable[None]],
    pacer: Pacer | None = None,
) -> None:
    """Wait before retrying after ``exc`` (the client's GETs and the launch POSTs alike).

    A burst of throttles pauses the whole run through the shared pacer (and halves its
    pace), so every worker waits; a lone throttle, or any other error, waits for this
    caller only.
    """
    delay = retry_delay(exc, attempt, rng=rng, pacer=pacer)
    if delay > 0:
        await sleep(delay)
