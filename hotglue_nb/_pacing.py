"""Request pacing shared by a whole run: a rate cap and a common pause after 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Pacer"]


class Pacer:
    """Spaces request starts ``1/rate`` apart and holds everyone during a shared pause.

    ``clock`` and ``sleep`` are injectable so tests run without real waiting.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_slot = 0.0
        self.pause_until = 0.0
        self.pauses = 0

    async def wait(self) -> None:
        """Return when this request may start."""
        while True:
            now = self.clock()
            start = max(now, self.next_slot, self.pause_until)
            if start > now:
                # Reserve nothing while paused: re-check after the pause ends.
                if self.pause_until > now:
                    await self.sleep(self.pause_until - now)
                    continue
                self.next_slot = start + self.interval
                await self.sleep(start - now)
                if self.clock() < self.pause_until:
                    continue
                return
            self.next_slot = start + self.interval
            return

    def pause(self, seconds: float) -> None:
        """Hold every request of the run for ``seconds`` (e.g. a 429's Retry-After)."""
        until = self.clock() + seconds
        if until > self.pause_until:
            self.pause_until = until
            self.pauses += 1
