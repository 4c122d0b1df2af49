"""One idempotent write (a PUT or DELETE of a schedule, metadata, a state), settled: a lost
answer, a 423 / 429 / 5xx is followed by a read; only a read that shows the write was not
applied lets it go again (after a back-off, up to ``ATTEMPTS``); none is sent blind."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .._client._retry import back_off
from .._exceptions import APIConnectionError, APIStatusError, AuthenticationError, HotglueError
from .._fanout import Event, Step, fan_out
from .._fleet._reads import ReadRun
from .._journal import Journal

__all__ = ["ATTEMPTS", "Settled", "refused_text", "settle_each", "settled_write"]

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


class _Row(Protocol):
    """A row of a bulk write (a schedule ``Change``, a metadata ``Edit``)."""

    row: int
    tenant: str
    before: Any
    after: Any
    action: str
    outcome: str
    error: str | None


R = TypeVar("R", bound=_Row)


async def settle_each(
    run: ReadRun, rows: Sequence[R], settle: Callable[[R], Awaitable[None]], *, what: str,
    journal: Journal | None, dry_run: bool, on_event: Callable[[Event], None] | None,
    noted: Callable[[R], dict[str, Any]] = lambda row: {},
) -> bool:  # fmt: skip
    """``settle`` every row, concurrently; a failure is the row's, a refused key stops the
    run; each sent row's outcome journaled (with ``noted``'s fields). True: interrupted."""

    async def one(row: R) -> Step:
        try:
            await settle(row)
        except HotglueError as exc:
            said = f"{type(exc).__name__}: {exc}"
            if row.outcome != "unknown":  # not sent, or refused: nothing was done
                row.outcome, row.after = "failed", row.before
            row.error = said
            if isinstance(exc, AuthenticationError):  # on the read: the key; else its rights
                row.error = refused_text(exc, what) if row.action != "none" else said
                run.refused = run.refused or exc
        if journal is not None and row.action != "none" and not dry_run:
            journal.later({"kind": "outcome", "row": row.row, "tenant": row.tenant,
                           **noted(row), "outcome": row.outcome, "error": row.error})  # fmt: skip
        return Step(Event(row.row, row.tenant, row.outcome, True))

    try:
        report = await fan_out(
            rows, one, concurrency=run.config.concurrency, on_event=on_event,
            stop=lambda: run.refused is not None, pacer=run.pacer, clock=run.config.clock,
            sleep=run.config.sleep,
        )  # fmt: skip
    finally:
        await run.clients.aclose()
    return report.interrupted
