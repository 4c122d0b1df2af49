"""run_sync: coroutines from blocking code, inside or outside a running loop; interrupts."""

from __future__ import annotations

import _thread
import asyncio
import threading

import pytest

import hotglue_nb as hg
from hotglue_nb._client._runner import loop_thread, run_sync


async def answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_outside_and_inside_a_running_loop() -> None:
    assert run_sync(answer()) == 42

    async def cell() -> int:
        return run_sync(answer())  # what a Jupyter cell does

    assert asyncio.run(cell()) == 42


def test_errors_propagate_and_ticks_run_on_the_callers_thread() -> None:
    ticks: list[str] = []

    async def slow_fail() -> None:
        await asyncio.sleep(0.05)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_sync(slow_fail(), on_tick=lambda: ticks.append(threading.current_thread().name),
                 tick=0.01)  # fmt: skip
    assert ticks and set(ticks) == {threading.current_thread().name}


def test_calling_it_from_its_own_loop_is_refused() -> None:
    async def nested() -> int:
        coro = answer()
        try:
            return run_sync(coro)
        finally:
            coro.close()

    future = asyncio.run_coroutine_threadsafe(nested(), loop_thread.loop)
    with pytest.raises(hg.ConfigError, match="async API"):
        future.result(5)


def test_ctrl_c_cancels_and_returns_what_the_coroutine_turned_it_into() -> None:
    cleaned: list[bool] = []

    async def run() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cleaned.append(True)
            return "partial results"
        return "finished"

    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    assert run_sync(run()) == "partial results"
    assert cleaned == [True]


def test_ctrl_c_of_a_coroutine_that_just_stops_is_a_keyboard_interrupt() -> None:
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run_sync(asyncio.sleep(30))
