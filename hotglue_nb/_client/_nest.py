"""The opt-in nest-asyncio mode (``nest_asyncio=True``): run a coroutine on the caller's own
running loop by re-entering it. Never applied unless asked for; uses the maintained
``nest-asyncio2`` fork (a dependency; never the archived ``nest-asyncio``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._exceptions import ConfigError

__all__ = ["run_nested"]

T = TypeVar("T")


def run_nested(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import nest_asyncio2
    except ImportError:
        coro.close()
        raise ConfigError(
            "nest_asyncio=True needs nest-asyncio2: pip install nest-asyncio2."
        ) from None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    if type(loop).__module__.split(".")[0] != "asyncio":
        coro.close()
        raise ConfigError(f"nest_asyncio=True works only on asyncio's own loop, not {loop!r}.")
    nest_asyncio2.apply(loop)
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:  # cancel the run, and let it finish into its partial results
        task.cancel()
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
