"""The fan-out engine alone: items, an operation, fake time. No network."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotglue_nb._client._pacing import Pacer
from hotglue_nb._fanout import Event, Step, fan_out

from .fake_time import FakeTime


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_every_item_once_with_a_fixed_pool_of_workers() -> None:
    seen: list[int] = []
    in_flight, peak, tasks = 0, 0, 0

    async def op(item: int) -> Step:
        nonlocal in_flight, peak, tasks
        in_flight += 1
        peak = max(peak, in_flight)
        tasks = max(tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        in_flight -= 1
        seen.append(item)
        return Step()

    report = run(fan_out(range(20_000), op, concurrency=7))
    assert sorted(seen) == list(range(20_000))
    assert peak == 7 and tasks <= 7 + 1  # the workers and the caller: never a task per item
    assert not report.interrupted and not report.stopped


def test_again_reschedules_on_the_injected_clock() -> None:
    ft = FakeTime(0.0)
    polls: dict[str, list[float]] = {"a": [], "b": []}

    async def op(item: str) -> Step:
        polls[item].append(ft.now)
        if len(polls[item]) < 3:
            return Step(again=5.0 if item == "a" else 7.0)
        return Step(Event(0, item, "JOB_COMPLETED", True))

    run(fan_out(["a", "b"], op, concurrency=2, clock=ft, sleep=ft.sleep))
    assert polls == {"a": [0.0, 5.0, 10.0], "b": [0.0, 7.0, 14.0]}
    assert ft.now == 14.0  # time moved only as far as the last due item


def test_a_run_due_past_the_deadline_is_made_at_it_then_left_as_is() -> None:
    ft = FakeTime(0.0)
    calls: list[float] = []

    async def op(item: int) -> Step:
        calls.append(ft.now)
        return Step(again=10.0)

    run(fan_out([1], op, concurrency=1, clock=ft, sleep=ft.sleep, deadline=25.0))
    assert calls == [0.0, 10.0, 20.0, 25.0]  # 30 > 25: the last look is at the deadline
    calls.clear()
    ft.now = 0.0
    run(fan_out([1], op, concurrency=1, clock=ft, sleep=ft.sleep, deadline=20.0))
    assert calls == [0.0, 10.0, 20.0]  # due exactly at the deadline: no second look at it


def test_events_reach_the_callback_in_order_of_completion() -> None:
    events: list[Event] = []

    async def op(item: int) -> Step:
        return Step(Event(item, f"t{item}", "created", True))

    run(fan_out(range(5), op, concurrency=2, on_event=events.append))
    assert sorted(e.row for e in events) == [0, 1, 2, 3, 4]
    assert all(e.done and e.value == "created" for e in events)


def test_stop_condition_takes_no_new_item() -> None:
    done: list[int] = []
    state = {"stop": False}

    async def op(item: int) -> Step:
        done.append(item)
        if item == 3:
            state["stop"] = True  # e.g. the API refused the key
        return Step()

    report = run(fan_out(range(1000), op, concurrency=1, stop=lambda: state["stop"]))
    assert done == [0, 1, 2, 3] and report.stopped


def test_a_shared_pause_holds_every_worker() -> None:
    ft = FakeTime(0.0)
    pacer = Pacer(None, clock=ft, sleep=ft.sleep)
    starts: list[float] = []

    async def op(item: int) -> Step:
        starts.append(ft.now)
        if item == 0:
            pacer.pause(3.0)  # a 429 with Retry-After: 3
        return Step()

    run(fan_out(range(4), op, concurrency=1, pacer=pacer, clock=ft, sleep=ft.sleep))
    assert starts == [0.0, 3.0, 3.0, 3.0]


def test_cancellation_settles_in_flight_items_and_returns_partial() -> None:
    started: list[int] = []
    settled: list[int] = []
    four = asyncio.Event()

    async def op(item: int) -> Step:
        started.append(item)
        if len(started) == 4:
            four.set()
        await asyncio.sleep(10 if item >= 2 else 0)
        return Step()

    async def settle(item: int) -> None:
        settled.append(item)

    async def main() -> Any:
        task = asyncio.ensure_future(fan_out(range(100), op, concurrency=2, settle=settle))
        await four.wait()
        task.cancel()
        report = await task
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        return report

    report = run(main())
    assert report.interrupted
    assert started == [0, 1, 2, 3]  # nothing new after the cancel
    assert sorted(settled) == [2, 3]  # exactly what was in flight


def test_an_error_in_an_operation_stops_the_others_and_propagates() -> None:
    started: list[int] = []

    async def op(item: int) -> Step:
        started.append(item)
        if item == 5:
            raise RuntimeError("bug")
        await asyncio.sleep(0.001)
        return Step()

    with pytest.raises(RuntimeError, match="bug"):
        run(fan_out(range(1000), op, concurrency=3))
    assert len(started) < 20


def test_no_items() -> None:
    async def op(item: int) -> Step:
        raise AssertionError

    assert not run(fan_out([], op, concurrency=4)).interrupted


def test_simulated_time_never_jumps_past_work_in_flight() -> None:
    ft = FakeTime(0.0)
    polls: dict[str, list[float]] = {"A": [], "B": []}

    async def op(item: str) -> Step:
        polls[item].append(ft.now)
        if item == "B" and len(polls["B"]) == 1:
            for _ in range(5):  # B is still in flight for a few turns of the loop
                await asyncio.sleep(0)
            return Step(again=1.0)
        return Step(again=5.0) if len(polls[item]) == 1 else Step()

    run(fan_out(["A", "B"], op, concurrency=2, clock=ft, sleep=ft.sleep))
    assert polls == {"A": [0.0, 5.0], "B": [0.0, 1.0]}


def test_the_deadline_also_bounds_the_first_pass() -> None:
    ft = FakeTime(0.0)
    seen: list[int] = []

    async def op(item: int) -> Step:
        seen.append(item)
        await ft.sleep(1.0)  # each first look takes a simulated second
        return Step()

    run(fan_out(range(10), op, concurrency=1, clock=ft, sleep=ft.sleep, deadline=3.5))
    assert seen == [0, 1, 2, 3]


def test_a_failed_operation_is_not_settled_and_a_second_cancel_still_returns() -> None:
    settled: list[int] = []

    async def op(item: int) -> Step:
        await asyncio.sleep(10)
        return Step()

    async def settle(item: int) -> None:
        settled.append(item)
        await asyncio.sleep(10)  # a slow check, cut short by the second cancel

    async def main() -> Any:
        task = asyncio.ensure_future(fan_out(range(4), op, concurrency=2, settle=settle))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()
        return await task

    assert run(main()).interrupted and sorted(settled) == [0, 1]

    async def failing(item: int) -> Step:
        if item == 1:
            raise RuntimeError("bug")
        await asyncio.sleep(10)
        return Step()

    async def quick(item: int) -> None:
        settled.append(item)

    settled.clear()
    with pytest.raises(RuntimeError):
        run(fan_out(range(3), failing, concurrency=3, settle=quick))
    assert sorted(settled) == [0, 2]  # the others in flight, not the one that failed
