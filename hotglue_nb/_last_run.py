"""What a call hands back beyond its frame: the last run kept for ``hg.last_run()``, and the
notices in ``frame.attrs`` the user must hear about.

Raise sites call ``interrupted(frame, phase)``, which keeps the frame before the exception
is raised: no exception constructor writes this register.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from ._exceptions import HotglueError, LaunchInterrupted
from ._warnings import warn

__all__ = ["NOTICES", "interrupted", "last_run", "remember", "stopped_by", "warn_notices"]

#: frame.attrs keys that the user must hear about, and what to tell them
NOTICES: Final[dict[str, str]] = {
    "journal_error": "the run journal could not be written ({}): the results frame is now "
    "the only full record of the jobs created; save it (hg.export_results)",
    "not_in_frame": "rows of the resumed run not in this tenants frame were left as they "
    "were (labels: {}); hg.load_run(journal) shows every row of the run",
}

_LAST: list[pd.DataFrame] = []


def remember(frame: Any) -> None:
    """Keep the frame of the last run (finished or interrupted) for ``hg.last_run()``."""
    if isinstance(frame, pd.DataFrame):
        _LAST[:] = [frame]


def last_run() -> pd.DataFrame | None:
    """The results of the last ``launch_jobs`` / ``wait_for_jobs`` in this process.

    Finished or interrupted (and the partial frame of an interrupted fleet read); also the frame
    of a run stopped by an error (a refused key: its ``.results``), and the last
    ``write_records`` results with their batch columns.

    Returns
    -------
    pandas.DataFrame or None
        After a Ctrl-C the partial frame is here even when the exception was never bound;
        None before any run.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> results = hg.last_run()          # after a Ctrl-C in hg.launch_jobs(...)
    >>> results["outcome"].value_counts()
    """
    return _LAST[0] if _LAST else None


def interrupted(frame: pd.DataFrame, *, phase: str) -> LaunchInterrupted:
    """The exception to raise for an interrupted run, its frame kept for ``hg.last_run()``."""
    remember(frame)
    return LaunchInterrupted(frame, phase=phase)


def stopped_by(error: HotglueError, frame: pd.DataFrame) -> HotglueError:
    """The error that stopped a whole run (a refused key), carrying the run's frame as far
    as it got (``error.results``, and ``hg.last_run()``): a run-wide failure raises, it
    never passes for a frame of rejected rows."""
    remember(frame)
    error.results = frame  # type: ignore[attr-defined]
    return error


def warn_notices(frame: pd.DataFrame) -> pd.DataFrame:
    """Warn (HotglueWarning) about what ``frame.attrs`` says went wrong on the side; keep the
    frame for ``hg.last_run()``."""
    remember(frame)
    for key, text in NOTICES.items():
        if frame.attrs.get(key):
            value = frame.attrs[key]
            shown = ", ".join(map(str, value[:20])) if isinstance(value, list) else value
            warn(text.format(shown))
    return frame
