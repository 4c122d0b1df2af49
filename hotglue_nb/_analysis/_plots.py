"""Plots (matplotlib, ``pip install 'hotglue_nb[plot]'``): a run's outcomes, a fleet's days."""

from __future__ import annotations

import pandas as pd

from .._exceptions import ConfigError
from .._frames import require, require_results
from .._types import Figure

__all__ = ["plot_history", "plot_outcomes"]


def plot_outcomes(results: pd.DataFrame) -> Figure:
    """Outcome bars and a duration histogram (matplotlib, ``pip install 'hotglue_nb[plot]'``).

    Parameters
    ----------
    results : DataFrame
        The results of ``launch_jobs`` (durations once waited for).

    Returns
    -------
    Figure
        A matplotlib figure: outcome counts, and job durations in seconds.

    Raises
    ------
    ConfigError
        Not a results frame, or matplotlib is not installed.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> fig = hg.plot_outcomes(hg.last_run())
    >>> fig.savefig("outcomes.png")
    """
    require_results(results)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "plot_outcomes needs matplotlib: pip install 'hotglue_nb[plot]'."
        ) from None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    counts = results["outcome"].value_counts()
    left.bar(counts.index.astype(str), counts.to_numpy())
    left.set_title("outcomes")
    durations = results["duration_s"].dropna() if "duration_s" in results else pd.Series([])
    if len(durations):
        right.hist(durations.astype(float), bins=20)
    right.set_title("job duration (s)")
    fig.tight_layout()
    return fig


def plot_history(history: pd.DataFrame, *, worst: int = 25) -> Figure:
    """Jobs per day stacked by outcome, and a tenant x day grid of the worst tenants.

    The bars are stacked by outcome (failed stage); the grid shows the ``worst`` tenants (most
    failures). Needs matplotlib (``hotglue_nb[plot]``).

    Parameters
    ----------
    history : DataFrame
        A ``job_history`` frame.
    worst : int
        How many tenants the grid shows (default 25).

    Returns
    -------
    Figure
        A matplotlib figure.

    Raises
    ------
    ConfigError
        Not a ``job_history`` frame, or matplotlib is not installed.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=30) as sb:
    ...     history = hg.job_history(sb.flow_id, since="30d", **sb.credentials)
    >>> fig = hg.plot_history(history, worst=10)
    """
    require(history, ("tenant", "start_time", "succeeded"), "a job_history frame")
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "plot_history needs matplotlib: pip install 'hotglue_nb[plot]'."
        ) from None
    day = history["start_time"].dt.tz_convert("UTC").dt.floor("D")
    label = history["failed_stage"].fillna("").map(lambda s: f"{s}_FAILED" if s else "")
    label = label.mask(label == "", history["succeeded"].map({True: "ok"}).fillna("running"))
    fig, (bars, grid) = plt.subplots(2, 1, figsize=(11, 7), height_ratios=[1, 1.3])
    pd.crosstab(day.dt.date, label).plot.bar(stacked=True, ax=bars, width=0.9)
    bars.set_title("jobs per day")
    bars.set_xlabel("")
    failures = history[history["succeeded"].eq(False).fillna(False).astype(bool)]
    names = failures["tenant"].value_counts().head(worst).index
    chosen = history[history["tenant"].isin(names)]
    cells = chosen.assign(day=day, v=chosen["succeeded"].map({True: 1, False: -1}).fillna(0))
    table = cells.pivot_table(index="tenant", columns="day", values="v", aggfunc="min")
    grid.imshow(table.fillna(0).to_numpy(dtype=float), cmap="RdYlGn", vmin=-1, vmax=1,
                aspect="auto")  # fmt: skip
    grid.set_yticks(range(len(table.index)), [str(t) for t in table.index], fontsize=7)
    grid.set_xticks(range(len(table.columns))[::5],
                    [f"{c:%m-%d}" for c in table.columns][::5])  # fmt: skip
    grid.set_title(f"worst {len(table.index)} tenants by day (green ok, red failed)")
    fig.tight_layout()
    return fig
