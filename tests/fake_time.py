"""Injectable time for tests: a discrete-event clock.

``clock=ft, sleep=ft.sleep``. A sleep parks its caller; when nothing else is ready to run,
the clock jumps to the earliest wake-up and wakes that sleeper, which then sees the clock at
exactly its own wake-up time. So concurrent sleeps overlap as in real time, in order, and a
test of minutes of back-off or polling runs in milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeTime:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept = 0.0
        self.sleeps: list[float] = []
        self._parked: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._ticking = False

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.sleeps.append(seconds)
        self.slept += seconds
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._parked, (self.now + seconds, next(self._order), wake))
        if not self._ticking:
            self._ticking = True
            loop.call_soon(self._tick, loop)
        await wake

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._parked and self._parked[0][2].done():  # a cancelled sleeper
            heapq.heappop(self._parked)
        if not self._parked:
            self._ticking = False
            return
        if loop._ready:  # type: ignore[attr-defined]  # others can still run: time stands
            loop.call_soon(self._tick, loop)
            return
        at, _, wake = heapq.heappop(self._parked)
        self.now = max(self.now, at)
        wake.set_result(None)
        loop.call_soon(self._tick, loop)
