"""Named types for the public signatures: what a notebook user may pass, in their words."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol, TypeAlias

import pandas as pd

__all__ = [
    "Clock", "Figure", "KeepsRuns", "ProgressChoice", "Sleep", "StoreChoice", "Tenants",
    "UnifiedTables", "When",
]  # fmt: skip

#: tenants to act on: a frame with a ``tenant`` column, a Series, or a list of tenant ids
Tenants: TypeAlias = pd.DataFrame | pd.Series | Iterable[str]
#: a moment: a date, datetime, Timestamp, ISO-8601 text, or a span back from now ("7d", "12h")
When: TypeAlias = date | datetime | pd.Timestamp | str | None
#: ``progress=``: True (a bar; a widget in Jupyter), False (none) or a tqdm-like class
ProgressChoice: TypeAlias = bool | Callable[..., Any]
#: a matplotlib figure (matplotlib is an optional extra: ``hotglue_nb[plot]``)
Figure: TypeAlias = Any
#: unified-schema objects of a form: names, or a saved ``{"Vendors": true}`` selection
UnifiedTables: TypeAlias = Iterable[str] | Mapping[str, bool] | None
#: seconds from an injectable clock (``time.monotonic`` by default)
Clock: TypeAlias = Callable[[], float]
#: an injectable ``asyncio.sleep``
Sleep: TypeAlias = Callable[[float], Awaitable[None]]


class KeepsRuns(Protocol):
    """What ``store=`` needs of a store: it keeps a run's results frame (``hg.Store``)."""

    def save_results(self, results: pd.DataFrame) -> int: ...


#: ``store=``: a ``hg.Store``, or the path of its SQLite file (None: keep no copy)
StoreChoice: TypeAlias = KeepsRuns | str | os.PathLike[str] | None
