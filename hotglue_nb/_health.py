"""The fleet view's analysis, pure pandas: frames from reads, health, triage, comparison.

Usage:
    >>> history = hg.job_history(flow_id, since="30d")
    >>> health = hg.fleet_health(history)          # one row per tenant, with a `problem`
    >>> hg.failure_signatures(history)             # failures grouped by what they say
    >>> hg.compare(history, rerun)                 # fixed / newly_failing / ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._exceptions import ConfigError
from ._fleet import (
    DORMANT_DAYS,
    Operation,
    Read,
    ReadRun,
    errors_frame,
    frame_of,
    job_rows,
    moment,
    prepare_reads,
    read_health,
    read_history,
    read_latest,
)
from ._models import is_terminal
from ._results import apply_dtypes

__all__ = [
    "HEALTH_COLUMNS",
    "Call",
    "check_call",
    "history_call",
    "latest_call",
    "check_frame",
    "compare",
    "failure_signatures",
    "fleet_health",
    "history_frame",
    "latest_frame",
    "signature",
]

PROBLEMS = ("failing", "dormant", "flaky", "records_drop", "slow", "ok")
HEALTH_COLUMNS: dict[str, str] = {
    "tenant": "string", "flow_id": "string", "env_id": "string", "problem": "string",
    "last_status": "string", "last_stage": "string", "last_message": "string",
    "last_job_at": "datetime64[ns, UTC]", "last_success_at": "datetime64[ns, UTC]",
    "failure_streak": "Int64", "failing_since": "datetime64[ns, UTC]", "jobs": "Int64",
    "success_rate": "Float64", "median_duration_s": "Float64", "last_duration_s": "Float64",
    "last_records": "Int64", "median_records": "Float64", "records_ratio": "Float64",
    "days_since_last_job": "Float64", "tap": "string",
}  # fmt: skip
CHECK_COLUMNS: dict[str, str] = {
    "tenant": "string", "flow_id": "string", "ready": "boolean", "reason": "string",
    "linked": "boolean", "disconnected": "boolean", "source_error": "string",
    "running": "boolean", "last_status": "string", "last_job_at": "datetime64[ns, UTC]",
    "days_since_last_job": "Float64",
}  # fmt: skip


@dataclass
class Call:
    """A fleet read ready to run: the run, its per-tenant read and the frame it builds."""

    run: ReadRun
    operation: Operation
    build: Callable[[list[Read]], pd.DataFrame]
    progress: Any


def history_call(
    flow_id: str, tenants: Any, since: Any, until: Any, now: Any, options: dict[str, Any]
) -> Call:
    stamp = now_utc(now)
    start, end = moment(since, stamp, "since"), moment(until, stamp, "until")
    run = prepare_reads("history", flow_id, tenants, options)
    env = run.clients.root.env_id
    build = lambda reads: history_frame(reads, env, start, end)  # noqa: E731
    return Call(run, read_history, build, options.get("progress", True))


def latest_call(flow_id: str, tenants: Any, options: dict[str, Any]) -> Call:
    run = prepare_reads("latest", flow_id, tenants, options)
    env = run.clients.root.env_id
    return Call(
        run, read_latest, lambda reads: latest_frame(reads, env), options.get("progress", True)
    )


def check_call(
    tenants: Any, flow_id: str, now: Any, dormant_days: int, options: dict[str, Any]
) -> Call:
    stamp = now_utc(now)
    run = prepare_reads("check", flow_id, tenants, options)
    build = lambda reads: check_frame(reads, stamp, dormant_days)  # noqa: E731
    return Call(run, read_health, build, options.get("progress", True))


def now_utc(now: Any = None) -> pd.Timestamp:
    stamp = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# --- frames from reads ------------------------------------------------------------------------


def history_frame(
    reads: list[Read], env_id: str, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> pd.DataFrame:
    rows = [job_rows(job, read, env_id) for read in reads for job in read.data or []]
    frame = frame_of(rows)
    starts = frame["start_time"]
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= starts >= since
    if until is not None:
        keep &= starts < until
    frame = frame[keep.fillna(False)].sort_values(["tenant", "start_time"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def latest_frame(reads: list[Read], env_id: str) -> pd.DataFrame:
    rows = []
    for read in reads:
        job = read.data
        blank = {"tenant": read.tenant, "flow_id": read.flow_id, "env_id": env_id}
        rows.append(job_rows(job, read, env_id) if job is not None else blank)
    frame = frame_of(rows)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def check_frame(reads: list[Read], now: pd.Timestamp, dormant_days: int) -> pd.DataFrame:
    return apply_dtypes(
        pd.DataFrame([_check_row(read, now, dormant_days) for read in reads]), CHECK_COLUMNS
    )[list(CHECK_COLUMNS)]


def preflight_reasons(
    read: Read, now: pd.Timestamp, allow: set[str], dormant_days: int = DORMANT_DAYS
) -> str | None:
    """Why a row should not be launched (the reasons ``allow`` does not waive), or None."""
    reason = _check_row(read, now, dormant_days)["reason"]
    kept = [r for r in (reason or "").split("; ") if r and r.split(":", 1)[0] not in allow]
    return "; ".join(kept) or None


def _check_row(read: Read, now: pd.Timestamp, dormant_days: int) -> dict[str, Any]:
    row: dict[str, Any] = {"tenant": read.tenant, "flow_id": read.flow_id}
    if read.error:
        return row | {"ready": False, "reason": f"could not check: {read.error}"}
    sources, latest = read.data["sources"], read.data["latest"]
    reasons = []
    row["linked"] = sources is not None and len(sources) > 0
    if not row["linked"]:
        reasons.append("not_linked: the tenant has not linked this flow")
    broken = [s for s in sources or [] if s.get("disconnected") or s.get("error")]
    row["disconnected"] = any(bool(s.get("disconnected")) for s in sources or [])
    if broken:
        row["source_error"] = "; ".join(str(s.get("error") or "disconnected") for s in broken)
        reasons.append(f"disconnected: the source link is broken ({row['source_error']})")
    if latest is not None:
        row.update(last_status=latest.status, last_job_at=latest.start_time)
        row["running"] = not is_terminal(latest.status)
        if row["running"]:
            reasons.append("running: a job is running (queue_if_active_job=True would queue)")
        age = (now - pd.Timestamp(latest.start_time)).total_seconds() / 86400
        row["days_since_last_job"] = round(age, 2)
        if age >= dormant_days:
            reasons.append(
                f"dormant: no job for {age:.0f} days (a run makes the tenant billable as active)"
            )
    return row | {"ready": not reasons, "reason": "; ".join(reasons) or None}


# --- health ---------------------------------------------------------------------------------


def fleet_health(
    history: pd.DataFrame,
    *,
    now: Any = None,
    window: Any = "30d",
    dormant_days: int = DORMANT_DAYS,
    flaky_rate: float = 0.8,
    drop_ratio: float = 0.5,
    slow_factor: float = 2.0,
) -> pd.DataFrame:
    """One row per tenant (and flow) of a ``job_history`` frame, worst first.

    ``problem``: ``failing`` (its last finished job failed), ``dormant`` (no job for
    ``dormant_days``; read a longer history to see them), ``flaky`` (success rate below
    ``flaky_rate``), ``records_drop`` (the last success moved less than ``drop_ratio`` x the
    median records), ``slow`` (the last job took more than ``slow_factor`` x the median), else
    ``ok``. ``failing_since`` is the start of the first job of the current failure streak.
    ``jobs``, ``success_rate`` and the medians count the jobs of the last ``window`` (a span
    like "30d", or a start time); the last job, streak and dormancy use the whole history.
    """
    _need(history, ("tenant", "flow_id", "start_time", "succeeded"), "a job_history frame")
    stamp = now_utc(now)
    limits = (dormant_days, flaky_rate, drop_ratio, slow_factor, moment(window, stamp, "window"))
    rows = [
        _health(group.sort_values("start_time", kind="stable"), stamp, limits)
        for _, group in history.groupby(["tenant", "flow_id"], sort=True)
    ]
    frame = apply_dtypes(pd.DataFrame(rows, columns=list(HEALTH_COLUMNS)), HEALTH_COLUMNS)
    order = frame["problem"].map({p: i for i, p in enumerate(PROBLEMS)})
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "tenant"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _health(group: pd.DataFrame, now: pd.Timestamp, limits: tuple[Any, ...]) -> dict[str, Any]:
    last = group.iloc[-1]
    every = group[group["succeeded"].notna()]
    streak = _streak(every["succeeded"].astype(bool).tolist())
    since = limits[-1]
    recent = group if since is None else group[group["start_time"] >= since]
    done = recent[recent["succeeded"].notna()]
    ok = done[done["succeeded"].astype(bool)]
    totals = ok["records"].map(_total) if "records" in ok else pd.Series(dtype=float)
    row = {
        "tenant": last["tenant"], "flow_id": last["flow_id"], "env_id": last.get("env_id"),
        "last_status": last["status"], "last_stage": last.get("failed_stage"),
        "last_message": _text(last),
        "last_job_at": last["start_time"],
        "last_success_at": _last_success(every),
        "failure_streak": streak,
        "failing_since": every["start_time"].iloc[-streak] if streak else None,
        "jobs": len(recent), "success_rate": done["succeeded"].mean() if len(done) else None,
        "median_duration_s": done["duration_s"].median() if len(done) else None,
        "last_duration_s": done["duration_s"].iloc[-1] if len(done) else None,
        "last_records": totals.iloc[-1] if len(totals) else None,
        "median_records": totals.median() if len(totals) else None,
        "days_since_last_job": (now - last["start_time"]).total_seconds() / 86400,
        "tap": last.get("tap"),
    }  # fmt: skip
    median = row["median_records"]
    row["records_ratio"] = row["last_records"] / median if median else None
    row["problem"] = _problem(row, limits)
    return row


def _last_success(done: pd.DataFrame) -> Any:
    ok = done[done["succeeded"].astype(bool)]
    return ok["start_time"].iloc[-1] if len(ok) else None


def _streak(outcomes: list[bool]) -> int:
    count = 0
    for succeeded in reversed(outcomes):
        if succeeded:
            break
        count += 1
    return count


def _total(records: Any) -> float:
    return float(sum(records.values())) if isinstance(records, dict) else float("nan")


def _problem(row: dict[str, Any], limits: tuple[Any, ...]) -> str:
    dormant_days, flaky_rate, drop_ratio, slow_factor, _ = limits

    def known(value: Any) -> bool:
        return value is not None and not pd.isna(value)

    if row["failure_streak"]:
        return "failing"
    if row["days_since_last_job"] >= dormant_days:
        return "dormant"
    if known(row["success_rate"]) and row["success_rate"] < flaky_rate:
        return "flaky"
    if known(row["records_ratio"]) and row["records_ratio"] < drop_ratio:
        return "records_drop"
    median, last = row["median_duration_s"], row["last_duration_s"]
    if known(median) and known(last) and last > slow_factor * median:
        return "slow"
    return "ok"


# --- triage ----------------------------------------------------------------------------------

_MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<value>"),
    (re.compile(r"(\b(?i:job)\s+)(?=\S*[A-Z0-9])[\w-]{5,9}\b"), r"\1<id>"),  # job tdqmb9
    (re.compile(r"\b(?=\w*\d)\w{5,}\b"), "<id>"),  # ids carry digits; words do not
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def signature(text: Any, tenant: Any = None) -> str:
    """A failure text with what varies between tenants and runs masked: the tenant's own id,
    timestamps, quoted values, ids and numbers; so one cause is one signature."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return "(no message)"
    out = str(text)
    if tenant is not None and not pd.isna(tenant) and str(tenant):
        out = out.replace(str(tenant), "<tenant>")
    for pattern, repl in _MASKS:
        out = pattern.sub(repl, out)
    return out.strip()


def failure_signatures(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures of a history, latest or results frame grouped by stage x tap x signature:
    ``count``, ``tenants`` (all of them, comma-separated), ``first_seen``, ``last_seen``."""
    failed = _failed_rows(frame)
    columns = ["stage", "tap", "signature", "count", "tenants", "first_seen", "last_seen"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    when = failed["start_time"] if "start_time" in failed else failed.get("launched_at")
    table = failed.assign(
        stage=failed.get("failed_stage", pd.Series("", index=failed.index)).fillna(""),
        tap=(failed["tap"] if "tap" in failed else pd.Series("", index=failed.index)).fillna(""),
        signature=[signature(_text(r), r.get("tenant")) for _, r in failed.iterrows()],
        when=when,
    )
    out = table.groupby(["stage", "tap", "signature"], sort=False).agg(
        count=("tenant", "size"),
        tenants=("tenant", lambda s: ", ".join(dict.fromkeys(map(str, s)))),
        first_seen=("when", "min"),
        last_seen=("when", "max"),
    )
    return out.reset_index().sort_values("count", ascending=False, ignore_index=True)[columns]


def _failed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    _need(frame, ("tenant",), "a history, latest or results frame")
    if "outcome" in frame:
        from ._report import problem_kind

        kind = problem_kind(frame)
        return frame[kind.isin(["failed", "unknown", "rejected"]).fillna(False).astype(bool)]
    return frame[frame["succeeded"].eq(False).fillna(False).astype(bool)]


def _text(row: pd.Series) -> Any:
    message = row.get("message")
    return message if message is not None and not pd.isna(message) else row.get("error")


# --- comparison -------------------------------------------------------------------------------

CHANGES = ("newly_failing", "fixed", "still_failing", "still_ok", "unknown")


def compare(before: pd.DataFrame, after: pd.DataFrame, *, how: str = "after") -> pd.DataFrame:
    """Per tenant (and flow): did it get better or worse between two frames (results,
    history or latest, in any mix)? ``change`` is one of newly_failing, fixed,
    still_failing, still_ok, unknown; records and duration before/after and their change.
    ``how="after"`` keeps the tenants of ``after`` (a rerun), ``"outer"`` all of both.
    ``attrs["summary"]`` counts each change."""
    if how not in ("after", "outer"):
        raise ConfigError(f"how= is 'after' or 'outer', not {how!r}.")
    joined = _state(before).merge(
        _state(after),
        left_index=True,
        right_index=True,
        how="outer",
        suffixes=("_before", "_after"),
    )
    if how == "after":
        joined = joined[joined["ok_after"].notna() | joined["seen_after"].fillna(False)]
    pairs = zip(joined["ok_before"], joined["ok_after"], strict=True)
    joined["change"] = [_change(b, a) for b, a in pairs]
    for name in ("records", "duration_s"):
        joined[f"{name}_change"] = joined[f"{name}_after"] - joined[f"{name}_before"]
    out = joined.reset_index().drop(columns=["seen_before", "seen_after"])
    out = out.astype({"ok_before": "boolean", "ok_after": "boolean", "change": "string"})
    out.attrs["summary"] = {c: int((out["change"] == c).sum()) for c in CHANGES}
    return out


def _state(frame: pd.DataFrame) -> pd.DataFrame:
    """(tenant, flow_id) -> ok, records, duration_s of the latest finished job in ``frame``."""
    _need(frame, ("tenant", "flow_id"), "a results, history or latest frame")
    data = pd.DataFrame(
        {
            "tenant": frame["tenant"].astype("string"),
            "flow_id": frame["flow_id"].astype("string"),
            "ok": frame["succeeded"] if "succeeded" in frame else pd.NA,
            "records": frame["records"].map(_total) if "records" in frame
            else frame.get("processed_rows"),
            "duration_s": frame.get("duration_s"),
            "at": frame["start_time"] if "start_time" in frame else frame.get("launched_at"),
            "seen": True,
        }
    )  # fmt: skip
    data = data.sort_values("at", kind="stable", na_position="first")
    done = data[data["ok"].notna()]
    last = done.groupby(["tenant", "flow_id"]).tail(1).set_index(["tenant", "flow_id"])
    seen = data.groupby(["tenant", "flow_id"])["seen"].any()
    last = last.drop(columns=["seen", "at"]).reindex(seen.index)
    return last.assign(seen=seen).astype({"records": "Float64", "duration_s": "Float64"})


def _change(before: Any, after: Any) -> str:
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return "unknown"
    return {
        (True, True): "still_ok", (True, False): "newly_failing",
        (False, True): "fixed", (False, False): "still_failing",
    }[(bool(before), bool(after))]  # fmt: skip


def _need(frame: Any, columns: tuple[str, ...], what: str) -> None:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        raise ConfigError(f"Expected {what} (columns {', '.join(columns)}).")


# --- plots ---------------------------------------------------------------------------------


def plot_history(history: pd.DataFrame, *, worst: int = 25) -> Any:
    """Jobs per day stacked by outcome (failed stage), and a tenant x day grid of the
    ``worst`` tenants (most failures). Needs matplotlib (``hotglue_nb[plot]``)."""
    _need(history, ("tenant", "start_time", "succeeded"), "a job_history frame")
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
