"""The run's shared pacing: rate cap, shared pause, halving and growing back (fake time)."""

from __future__ import annotations

import asyncio

import pytest

from hotglue_nb._client._pacing import Pacer


def test_pacer_spaces_requests_and_pauses() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(10, clock=lambda: now[0], sleep=sleep)

    async def go() -> list[float]:
        starts = []
        for _ in range(3):
            await pacer.wait()
            starts.append(now[0])
        pacer.pause(2.0)
        await pacer.wait()
        starts.append(now[0])
        return starts

    starts = asyncio.run(go())
    assert starts[:3] == pytest.approx([0.0, 0.1, 0.2])
    assert starts[3] == pytest.approx(2.2)


def test_pacer_halves_once_per_pause_and_grows_back_to_the_cap() -> None:
    now = [0.0]
    pacer = Pacer(40, clock=lambda: now[0])
    pacer.slow_down(0.5)
    pacer.slow_down(0.5)  # a burst of 429s during the same pause halves only once
    assert pacer.rate == 20 and pacer.pause_until == 0.5
    now[0] = 1.0
    pacer.slow_down(0.5)
    assert pacer.rate == 10
    for _ in range(200):
        pacer.speed_up()
    assert pacer.rate == 40  # never above the user's cap


def test_pacer_without_a_cap_starts_from_the_measured_rate() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(None, clock=lambda: now[0], sleep=sleep)

    async def burst() -> None:
        for i in range(30):
            now[0] = i * 0.01  # 100 starts/second
            await pacer.wait()

    asyncio.run(burst())
    pacer.slow_down(1.0)
    assert pacer.rate == pytest.approx(15.0)  # 30 starts in the last second, halved
