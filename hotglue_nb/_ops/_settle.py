"""One idempotent write (a PUT or DELETE of a schedule, metadata, a state), settled: a lost
answer, a 423 / 429 / 5xx is followed by a read; only a read that shows the write was not
applied lets it go again (after a back-off, up to ``ATTEMPTS``); none is sent blind."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .._client._retry import back_off
from .._exceptions import APIConnectionError, APIStatusError, AuthenticationError, HotglueError
from .._fleet._reads import ReadRun

__all__ = ["ATTEMPTS", "Settled", "refused_text", "settled_write"]

ATTEMPTS = 8  # as hotglue's own SDK tries (factor-2 back-off, 8 tries [C-code])
#: statuses after which a write may be tried again once a read shows it was not applied
MAY_HAVE_ACTED = frozenset({423, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Settled:
    """``changed`` (seen applied), ``failed`` (answered, read back as not applied) or
    ``unknown`` (no answer, read back as not applied yet); ``seen``: the last read."""

    outcome: str
    seen: Any = None
    error: str | None = None


async def settled_write(
    write: Callable[[], Awaitable[None]], read: Callable[[], Awaitable[Any]], wanted: Any,
    run: ReadRun, rng: random.Random, shown: Callable[[Any], str | None] = str,
) -> Settled:  # fmt: skip
    """Send ``write`` until ``read`` shows ``wanted``; a refusal (400, 401, 403, 404...)
    raises: nothing was done."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await write()
            return Settled("changed", wanted)
        except (APIConnectionError, APIStatusError) as exc:
            if isinstance(exc, APIStatusError) and exc.status_code not in MAY_HAVE_ACTED:
                raise
            try:
                seen = await read()
            except HotglueError as failed:  # cannot tell: never sent again blind
                return Settled("unknown", None, f"{type(exc).__name__}: {exc}; read back: "
                               f"{type(failed).__name__}: {failed}")  # fmt: skip
            if seen == wanted:  # applied after all: never sent again
                return Settled("changed", seen)
            if attempt == ATTEMPTS:
                error = f"{type(exc).__name__}: {exc} (read back: {shown(seen)})"
                return Settled("failed" if isinstance(exc, APIStatusError) else "unknown",
                               seen, error)  # fmt: skip
            await back_off(exc, attempt, rng=rng, sleep=run.config.sleep, pacer=run.pacer)
    raise AssertionError("unreachable")


def refused_text(exc: AuthenticationError, what: str) -> str:
    """A write refused after reads worked: the key's rights, not the key."""
    return (f"{type(exc).__name__}: {exc} — the key may be read-only (a Viewer key reads but "
            f"cannot change {what} [I]): use a key with write permission")  # fmt: skip
