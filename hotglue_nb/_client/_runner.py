"""Run coroutines from synchronous code, inside or outside a running event loop.

Usage:
    >>> run_sync(some_coroutine())

Coroutines run on one long-lived event loop in a daemon thread (the jupyter_core / Prefect
pattern), so the same code works in scripts, in pytest and in a Jupyter cell whose thread
already runs a loop, without patching asyncio. The caller's thread only waits, in short
slices, and runs ``on_tick`` between them: that is where progress bars are drawn, because
ipykernel routes display output reliably only from the main thread. Ctrl-C / a kernel
interrupt cancels the coroutine and waits briefly for it to clean up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .._exceptions import ConfigError

__all__ = ["LoopThread", "loop_thread", "run_sync"]

T = TypeVar("T")

TICK_SECONDS = 0.1
CANCEL_GRACE_SECONDS = 10.0


class LoopThread:
    """A daemon thread running one event loop forever; started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="hotglue-nb-loop", daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread


loop_thread = LoopThread()


def run_sync(
    coro: Coroutine[Any, Any, T],
    *,
    on_tick: Callable[[], None] | None = None,
    tick: float = TICK_SECONDS,
) -> T:
    """Run ``coro`` on the loop thread and block until it is done; re-raise its exception.

    On KeyboardInterrupt the task is cancelled inside the loop and given a grace period to
    finish; whatever it raises then (e.g. an interrupt carrying partial results) propagates,
    else the KeyboardInterrupt does.
    """
    if loop_thread.in_loop_thread():
        coro.close()
        raise ConfigError(
            "A blocking hotglue_nb call was made from inside its own event loop; "
            "use the async API (await hg.aio...) there instead."
        )
    loop = loop_thread.loop
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    tasks: list[asyncio.Task[T]] = []

    def start() -> None:
        task = loop.create_task(coro)
        tasks.append(task)
        task.add_done_callback(lambda t: _copy_outcome(t, future))

    loop.call_soon_threadsafe(start)
    try:
        return _wait(future, on_tick, tick)
    except KeyboardInterrupt:
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks])
        done, _ = concurrent.futures.wait([future], timeout=CANCEL_GRACE_SECONDS)
        if on_tick is not None:
            on_tick()
        if done and not isinstance(future.exception(), asyncio.CancelledError):
            return future.result()
        raise


def _copy_outcome(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        future.set_exception(asyncio.CancelledError())
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _wait(
    future: concurrent.futures.Future[T], on_tick: Callable[[], None] | None, tick: float
) -> T:
    while True:
        try:
            result = future.result(timeout=tick)
        except concurrent.futures.TimeoutError:
            if on_tick is not None:
                on_tick()
            continue
        if on_tick is not None:
            on_tick()
        return result
