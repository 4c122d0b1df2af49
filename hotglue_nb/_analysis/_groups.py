"""Rows sorted into contiguous groups, and what the analysis asks of each group by position:
how many rows match, the first or last that does. numpy's ``reduceat`` over the group starts
does it in one pass for every group at once (no Python per group)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Groups", "Mask", "Positions", "timeline"]

Mask = npt.NDArray[np.bool_]
Positions = npt.NDArray[np.int64]


class Groups:
    """Groups of rows sorted so that each group's rows are contiguous."""

    def __init__(self, codes: npt.NDArray[np.int64]) -> None:
        size = len(codes)
        change = np.ones(size, dtype=bool)
        change[1:] = codes[1:] != codes[:-1]
        self.starts: Positions = np.flatnonzero(change).astype(np.int64)
        self.ends: Positions = np.append(self.starts[1:], size) - 1  # inclusive
        self.size = size
        self.lengths: Positions = self.ends - self.starts + 1

    def __len__(self) -> int:
        return len(self.starts)

    def count(self, mask: Mask) -> Positions:
        """Per group, how many of its rows ``mask`` holds."""
        return np.add.reduceat(mask.astype(np.int64), self.starts)

    def last(self, mask: Mask) -> Positions:
        """Per group, the position of its last row in ``mask``, -1 when none is."""
        where = np.where(mask, np.arange(self.size, dtype=np.int64), -1)
        return np.maximum.reduceat(where, self.starts)

    def first(self, mask: Mask) -> Positions:
        """Per group, the position of its first row in ``mask``, -1 when none is."""
        where = np.where(mask, np.arange(self.size, dtype=np.int64), self.size)
        found = np.minimum.reduceat(where, self.starts)
        return np.where(found == self.size, -1, found)

    def spread(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """One value per group, repeated on each of its rows."""
        return np.repeat(values, self.lengths)

    def median(self, values: npt.NDArray[np.float64], mask: Mask) -> npt.NDArray[np.float64]:
        """Per group, the median of its rows in ``mask`` (NaN skipped; NaN when none)."""
        codes = np.repeat(np.arange(len(self)), self.lengths)
        medians = pd.Series(values[mask]).groupby(codes[mask]).median()
        found = medians.reindex(range(len(self))).to_numpy(dtype=float, na_value=np.nan)
        return np.array(found, dtype=np.float64)  # a copy the caller may write to


def timeline(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[Positions, Groups]:
    """The row order that puts each group of ``keys`` together (groups in sorted key order,
    NA keys last) and, within one, its jobs by time (its start, else its last update; a job
    with no time first, so never taken as the latest; ties keep the frame's order)."""
    groups = frame.groupby(list(keys), sort=True, dropna=False).ngroup()
    codes = np.asarray(groups.to_numpy(), dtype=np.int64)
    starts = frame["start_time"]
    times = starts.fillna(frame["last_updated"]) if "last_updated" in frame else starts
    stamps = pd.to_datetime(times, utc=True, errors="coerce").to_numpy("datetime64[ns]")
    order = np.lexsort((stamps.view(np.int64), codes)).astype(np.int64)  # NaT is the least
    return order, Groups(codes[order])
