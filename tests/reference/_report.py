"""A run's report: summaries, and the retry subset as a tenants frame.

Usage:
    >>> hg.summarize(results)           # counts and shares, durations, per flow
    >>> again = hg.retry_frame(results) # a tenants frame for launch_jobs, overrides kept
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hotglue_nb._endpoints import LAUNCH_FIELDS
from hotglue_nb._exceptions import ConfigError
from hotglue_nb._frames import require_results

from ._triage import PROBLEM_KINDS, problem_kind

__all__ = ["Summary", "retry_frame", "summarize"]

DEFAULT_RETRY = ("failed", "unknown", "rejected")


@dataclass
class Summary:
    """Tables describing a run; shown together in a notebook."""

    outcomes: pd.DataFrame
    statuses: pd.DataFrame
    durations: pd.DataFrame
    by_flow: pd.DataFrame

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>{title}</h4>{table.to_html()}"
            for title, table in self._tables()
            if not table.empty
        ]
        return "".join(parts)

    def __repr__(self) -> str:
        return "\n\n".join(
            f"{title}\n{table}" for title, table in self._tables() if not table.empty
        )

    def _tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [
            ("outcomes", self.outcomes),
            ("statuses", self.statuses),
            ("durations (s)", self.durations),
            ("per flow", self.by_flow),
        ]


def _counts(series: pd.Series) -> pd.DataFrame:
    counts = series.fillna("(none)").value_counts()
    frame = pd.DataFrame({"count": counts, "share": (counts / counts.sum()).round(4)})
    frame.index.name = series.name
    return frame


def summarize(results: pd.DataFrame) -> Summary:
    """Counts and shares per outcome and per status, duration quantiles, per-flow counts.

    Parameters
    ----------
    results : DataFrame
        The results of ``launch_jobs`` or ``wait_for_jobs``.

    Returns
    -------
    Summary
        ``outcomes``, ``statuses``, ``durations`` (p50, p90, p99, max) and ``by_flow``
        (outcomes per flow, and ``success_rate`` once waited for); shown as tables.

    Raises
    ------
    ConfigError
        Not a results frame.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> summary = hg.summarize(hg.last_run())
    >>> summary.outcomes
    """
    require_results(results)
    statuses = _counts(results["status"]) if "status" in results else pd.DataFrame()
    return Summary(
        outcomes=_counts(results["outcome"]),
        statuses=statuses,
        durations=_durations(results),
        by_flow=_by_flow(results),
    )


def _durations(results: pd.DataFrame) -> pd.DataFrame:
    if "duration_s" not in results:
        return pd.DataFrame()
    values = results["duration_s"].dropna().astype(float)
    if values.empty:
        return pd.DataFrame()
    quantiles = values.quantile([0.5, 0.9, 0.99]).rename(lambda q: f"p{int(q * 100)}")
    table = pd.concat([quantiles, pd.Series({"max": values.max(), "jobs": len(values)})])
    return table.to_frame("duration_s").T


def _by_flow(results: pd.DataFrame) -> pd.DataFrame:
    table = pd.crosstab(results["flow_id"].fillna("(none)"), results["outcome"].fillna("(none)"))
    if "succeeded" in results:
        done = results[results["finished"].fillna(False).astype(bool)]
        ok = done.groupby(done["flow_id"].fillna("(none)"))["succeeded"].mean()
        table["success_rate"] = ok.reindex(table.index).round(4)
    return table


def retry_frame(results: pd.DataFrame, which: str | Iterable[str] = DEFAULT_RETRY) -> pd.DataFrame:
    """A tenants frame of the rows to run again, ready for ``launch_jobs``.

    ``which``: any of "failed", "unknown", "rejected", "skipped" (default: the first three).
    Each row keeps its ``flow_id``, ``env_id`` and the overrides it was sent with; the
    generated unique part of ``job_name`` is dropped (a new run makes a new one).

    A fleet frame (``job_history``, ``latest_jobs``, ``fleet_health``, ``check_tenants``),
    filtered to what should run again, gives one row per tenant and flow (``which`` is not
    used: the filter already chose).

    Parameters
    ----------
    results : DataFrame
        The results of ``launch_jobs`` / ``wait_for_jobs``, or a fleet frame.
    which : str or list of str
        The rows of results to run again (default ``("failed", "unknown", "rejected")``).

    Returns
    -------
    DataFrame
        ``tenant``, ``flow_id``, ``env_id`` and the rows' request fields (a fleet frame's:
        ``connector_id`` and ``job_type="read"`` for a two-way flow).

    Raises
    ------
    ConfigError
        Not a results or fleet frame, another ``which``, or write jobs in a fleet frame.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> results = hg.last_run()
    >>> again = hg.launch_jobs(hg.retry_frame(results, which=["failed", "unknown"]))
    """
    if isinstance(results, pd.DataFrame) and "outcome" not in results:
        return _fleet_retry(results)
    require_results(results)
    kinds = {which} if isinstance(which, str) else set(which)
    bad = kinds - set(PROBLEM_KINDS)
    if bad:
        raise ConfigError(f"which= takes {PROBLEM_KINDS}, not {sorted(bad)}.")
    chosen = results[problem_kind(results).isin(kinds).fillna(False).astype(bool)]
    bodies = [_request_body(text) for text in chosen["request"]]
    frame = pd.DataFrame(bodies, index=chosen.index)
    frame.insert(0, "tenant", chosen["tenant"].astype("string"))
    frame.insert(1, "flow_id", chosen["flow_id"].astype("string"))
    frame.insert(2, "env_id", chosen["env_id"].astype("string"))
    return frame


def _fleet_retry(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per tenant, flow (and connector): a two-way flow's rows keep their connector
    and are read jobs again; a write job cannot be rerun from a fleet frame (its records are
    not in it)."""
    if not {"tenant", "flow_id"} <= set(frame.columns):
        raise ConfigError("retry_frame needs results, or a fleet frame with tenant and flow_id.")
    _refuse_writes(frame)
    two_way = "connector_id" in frame and bool(frame["connector_id"].notna().any())
    keys = [c for c in ("tenant", "flow_id", "env_id") if c in frame]
    keys += ["connector_id"] if two_way else []
    chosen = frame[keys].drop_duplicates(keep="first").reset_index(drop=True)
    chosen = chosen.astype(dict.fromkeys(keys, "string"))
    if two_way:
        v2 = chosen["connector_id"].notna()
        chosen["job_type"] = pd.array(["read" if k else None for k in v2], dtype="string")
    return chosen


def _refuse_writes(frame: pd.DataFrame) -> None:
    if "job_type" not in frame:
        return
    writes = frame["job_type"].astype("string").str.lower().eq("write").fillna(False)
    if writes.any():
        labels = list(frame.index[writes.to_numpy(dtype=bool)])[:5]
        raise ConfigError(
            f"Rows {labels} are write jobs: a fleet frame does not hold their records, so "
            "they cannot be rerun from it. Leave them out (frame[frame.job_type != 'write']) "
            "and write the records again with hg.write_records(hg.failed_records(results, "
            "records), ...)."
        )


def _request_body(text: Any) -> dict[str, Any]:
    if text is None or text is pd.NA or (isinstance(text, float) and pd.isna(text)):
        return {}
    body = json.loads(text) if isinstance(text, str) else dict(text)
    name = body.pop("job_name", None)
    base = str(name).split("~", 1)[0] if name else None
    if base and base != "hotglue-nb":
        body["job_name"] = base
    return {k: v for k, v in body.items() if k in LAUNCH_FIELDS}
