"""Request pacing shared by a whole run: a rate cap, a common pause after a burst of 429s,
and a rate that halves in such a burst and grows back with successes, so a burst slows the
run instead of every worker burning its attempts against the limit.

A lone 429 among many successes (one tenant's own limit [I: hotglue publishes no limits])
is not a burst: only the request that got it waits its Retry-After, and the run goes on."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

__all__ = ["Pacer"]

MIN_RATE = 1.0  # requests/second the run never goes below
WINDOW = 1.0  # seconds over which the current start rate is measured
GROWTH = 1.02  # pace multiplied by this per success (doubles in ~35 successes)
BURST = 0.2  # a throttle is a burst when this share of the last second's requests got one
BURST_MIN = 3  # ... and at least this many did (one 429 at the start is no burst)


class Pacer:
    """Spaces request starts ``1/rate`` apart and holds everyone during a shared pause.

    ``rate`` is the user's cap (None: none). After a 429, ``slow_down`` pauses the run and
    halves the pace (from the measured start rate when there was no cap); every success
    then gives a little back (x1.02), never above the cap. ``clock`` and ``sleep`` are injectable.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.cap = rate
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.next_slot = 0.0
        self.pause_until = 0.0
        self.pauses = 0
        self._free_above: float | None = None  # uncapped again once grown past this
        self._throttles: deque[float] = deque()
        self._starts: deque[float] = deque()

    @property
    def interval(self) -> float:
        return 1.0 / self.rate if self.rate else 0.0

    async def ready(self) -> None:
        """Return once no shared pause is in force (takes no rate slot)."""
        while (left := self.pause_until - self.clock()) > 0:
            await self.sleep(left)

    async def wait(self) -> None:
        """Return when this request may start."""
        while True:
            now = self.clock()
            start = max(now, self.next_slot, self.pause_until)
            if start > now:
                if self.pause_until > now:  # reserve nothing while paused: re-check after
                    await self.sleep(self.pause_until - now)
                    continue
                self.next_slot = start + self.interval
                await self.sleep(start - now)
                if self.clock() < self.pause_until:
                    continue
                break
            self.next_slot = start + self.interval
            break
        self._note_start()

    def pause(self, seconds: float) -> None:
        """Hold every request of the run for ``seconds`` (e.g. a 429's Retry-After)."""
        until = self.clock() + seconds
        if until > self.pause_until:
            self.pause_until = until
            self.pauses += 1

    def throttled(self, seconds: float) -> bool:
        """A 429/503 was seen. True when it is part of a burst (then the whole run pauses
        for ``seconds`` and slows down); False for a lone one, left to its own caller."""
        now = self.clock()
        self._throttles.append(now)
        _trim(self._throttles, now - WINDOW)
        _trim(self._starts, now - WINDOW)
        count = len(self._throttles)
        if count < BURST_MIN or count < BURST * len(self._starts):
            return False
        self.slow_down(seconds)
        return True

    def slow_down(self, seconds: float) -> None:
        """A 429/503: pause, and halve the pace once per pause (not once per refusal)."""
        already_paused = self.pause_until > self.clock()
        self.pause(seconds)
        if already_paused:
            return
        if self.rate is None:
            measured = len(self._starts) / WINDOW
            self._free_above = max(measured, MIN_RATE)
            self.rate = measured
        self.rate = max(self.rate / 2, MIN_RATE)

    def speed_up(self) -> None:
        """A success: give some pace back, up to the cap."""
        if self.rate is None:
            return
        self.rate *= GROWTH
        if self.cap is not None:
            self.rate = min(self.rate, self.cap)
        elif self._free_above is not None and self.rate >= self._free_above:
            self.rate = self._free_above = None  # back to the pace before the burst: no cap

    def _note_start(self) -> None:
        now = self.clock()
        self._starts.append(now)
        _trim(self._starts, now - WINDOW)


def _trim(stamps: deque[float], before: float) -> None:
    while stamps and stamps[0] < before:
        stamps.popleft()
