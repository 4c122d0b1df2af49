"""The one fan-out engine: every concurrent loop over rows (launch, wait) runs on it.

Usage:
    >>> report = await fan_out(rows, operation, concurrency=8, on_event=show)

A fixed pool of ``concurrency`` workers takes items in order; an operation may answer
"again after N seconds" (that is how polling is expressed), which puts the item on a
due-time heap. Features supply the per-item operation; they do not write loops.

The engine also owns what every loop needs alike: a stop condition (e.g. a refused key), a
shared pause from the run's ``Pacer`` (429 back-off), a deadline, an injectable clock and
sleep, progress events, and cancellation. On cancellation (Ctrl-C, a kernel interrupt,
``task.cancel()``) it takes no new item, cancels what is in flight, lets the feature
``settle`` each item that was in flight (bounded by a real-time grace period: cleanup after
a Ctrl-C must end), and *returns* with ``interrupted=True``, so the caller can build its
complete partial results.

Time: with the real ``asyncio.sleep``, a due item starts on time even while others are in
flight. An injected ``sleep`` is taken as simulated time: the clock moves only when nothing
is in flight (discrete-event order), so a fake clock never jumps past work still running.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._client._pacing import Pacer

__all__ = ["Clock", "Event", "Report", "Sleep", "Step", "fan_out"]

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
SETTLE_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Event:
    """Progress of one row: its latest outcome or status, and whether it is over."""

    row: int
    tenant: str
    value: str | None
    done: bool


@dataclass(frozen=True, slots=True)
class Step:
    """An operation's answer: an event to report, and when to run it again (None: done)."""

    event: Event | None = None
    again: float | None = None


@dataclass(frozen=True, slots=True)
class Report:
    interrupted: bool = False
    stopped: bool = False


class _Due(Generic[T]):
    """Items to hand out: fresh ones in order, then rescheduled ones by due time."""

    def __init__(self, items: Iterable[T], clock: Clock, sleep: Sleep, deadline: float | None):
        self.simulated = sleep is not asyncio.sleep
        self.fresh = iter(items)
        self.heap: list[tuple[float, int, T]] = []
        self.order = itertools.count()
        self.clock, self.sleep, self.deadline = clock, sleep, deadline
        self.busy = 0
        self.keeper = False
        self.wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def later(self, item: T, seconds: float) -> None:
        """Run ``item`` again in ``seconds``; a run due after the deadline is made at the
        deadline instead (the last look before the wait ends), unless that is now or past."""
        now = self.clock()
        due = now + max(seconds, 0.0)
        if self.deadline is not None and due > self.deadline:
            if now >= self.deadline:
                return  # its last look was at (or after) the deadline: left as is
            due = self.deadline
        heapq.heappush(self.heap, (due, next(self.order), item))

    async def take(self, stop: Callable[[], bool]) -> T | None:
        """The next due item; None once there is none left (or the run stopped). An item
        due by the deadline is still handed out when the clock has just passed it."""
        while not stop():
            now = self.clock()
            if self.heap and self.heap[0][0] <= now:
                return heapq.heappop(self.heap)[2]
            if self.deadline is not None and now > self.deadline:
                break
            item = next(self.fresh, _END)
            if item is not _END:
                return item
            if not self.heap and not self.busy:
                break
            await self._idle()
        self.poke()
        return None

    async def _idle(self) -> None:
        wake = self.wake
        idle = not (self.simulated and self.busy)  # simulated time waits for the work in flight
        if self.heap and not self.keeper and idle:  # one worker keeps time: the clock moves once
            self.keeper = True
            timer = asyncio.ensure_future(self.sleep(self.heap[0][0] - self.clock()))
            try:
                done, _ = await asyncio.wait({timer, wake}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
                self.keeper = False
            if timer in done:
                self.poke()  # time moved: items may be due for the others too
        else:
            await wake
        if self.wake is wake:
            self.wake = asyncio.get_running_loop().create_future()

    def poke(self) -> None:
        if not self.wake.done():
            self.wake.set_result(None)


_END: Any = object()


async def fan_out(
    items: Iterable[T],
    operation: Callable[[T], Awaitable[Step]],
    *,
    concurrency: int,
    on_event: Callable[[Event], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    pacer: Pacer | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    deadline: float | None = None,
    settle: Callable[[T], Awaitable[None]] | None = None,
) -> Report:
    """Run ``operation`` over ``items`` with at most ``concurrency`` at once.

    An item whose next run would fall after ``deadline`` (a ``clock`` time) runs once more
    at the deadline, then is left as it is. Returns when every item is done, ``stop()``
    turned true, or the run was cancelled.
    """
    due: _Due[T] = _Due(items, clock, sleep, deadline)
    in_flight: dict[int, T] = {}

    async def work(slot: int) -> None:
        while (item := await due.take(stop)) is not None:
            if pacer is not None:
                await pacer.ready()
            due.busy += 1
            in_flight[slot] = item
            try:
                step = await operation(item)
            except Exception:
                del in_flight[slot]  # a failed operation is not settled: its error propagates
                raise
            del in_flight[slot]
            due.busy -= 1
            if step.again is not None:
                due.later(item, step.again)
            if step.event is not None and on_event is not None:
                on_event(step.event)
            due.poke()

    count = min(concurrency, len(items)) if isinstance(items, Sized) else concurrency
    workers = [asyncio.ensure_future(work(slot)) for slot in range(max(count, 1))]
    try:
        await asyncio.gather(*workers)
    except asyncio.CancelledError:
        await _stop_all(workers, in_flight, settle)
        _uncancel()
        return Report(interrupted=True)
    except BaseException:
        await _stop_all(workers, in_flight, settle)
        raise
    return Report(stopped=stop())


async def _stop_all(
    workers: Sequence[asyncio.Future[None]],
    in_flight: dict[int, T],
    settle: Callable[[T], Awaitable[None]] | None,
) -> None:
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    if settle is None or not in_flight:
        return
    tasks = [asyncio.ensure_future(settle(item)) for item in in_flight.values()]
    try:
        await asyncio.wait(tasks, timeout=SETTLE_GRACE)
    except asyncio.CancelledError:
        pass  # cancelled again while settling: stop settling, still return what is known
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _uncancel() -> None:
    """The cancellation became a partial result: clear the task's pending-cancel count."""
    task = asyncio.current_task()
    while task is not None and task.cancelling():
        task.uncancel()
