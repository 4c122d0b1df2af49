"""Injectable time for tests: a clock that moves only when something sleeps on it."""

from __future__ import annotations

import asyncio


class FakeTime:
    """``clock=ft, sleep=ft.sleep``: sleeping advances the clock at once (and yields)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.sleeps.append(seconds)
        self.now += seconds
        self.slept += seconds
        await asyncio.sleep(0)
