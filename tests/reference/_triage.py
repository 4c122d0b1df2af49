"""Failure triage: one cause, one group. ``signature`` masks what varies between tenants
and runs in a failure text; ``failure_signatures`` (fleet frames) and ``failures`` (a run's
results) group by it.

Usage:
    >>> hg.failure_signatures(history)   # stage x tap x signature, count, tenants, first/last
    >>> hg.failures(results)             # failed / unknown / rejected rows by message
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from hotglue_nb._frames import require, require_results

__all__ = ["PROBLEM_KINDS", "failure_signatures", "failures", "problem_kind", "row_text",
           "signature"]  # fmt: skip

PROBLEM_KINDS = ("failed", "unknown", "rejected", "skipped")
EXAMPLES = 5  # tenants named per group of ``failures``

_HEX = "[0-9a-fA-F]"
#: what varies, masked as whole tokens, most specific first (a UUID before its groups look
#: like numbers, a URL before its path looks like ids)
_MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b(?:https?|wss?|s3|ftp)://[^\s'\"<>]*[^\s'\"<>.,;:)\]]"), "<url>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (re.compile(rf"\b{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b"), "<id>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"), "<host>"),
    (re.compile(r"\b[\w-]+(?:\.[\w-]+)+:\d{2,5}\b"), "<host>"),
    (
        re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b"),
        "<duration>",
    ),  # fmt: skip
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<value>"),
    (re.compile(r"(\b(?i:job)\s+)(?=\S*[A-Z0-9])[\w-]{5,9}\b"), r"\1<id>"),  # job tdqmb9
    (re.compile(rf"\b{_HEX}{{8,}}\b"), "<id>"),  # hex ids (and numbers of 8+ digits)
    (re.compile(r"\b(?=\w*\d)(?=\w*[A-Za-z_])\w{5,}\b"), "<id>"),  # ids mix; words don't
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def signature(text: Any, tenant: Any = None) -> str:
    """A failure text with what varies between tenants and runs masked: the tenant's own id,
    timestamps, URLs, emails, UUIDs and other ids (hex, Salesforce, anything with digits),
    IPs and host:port, durations, quoted values and numbers — each as a whole token — so one
    cause is one signature."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return "(no message)"
    out = str(text)
    if tenant is not None and not pd.isna(tenant) and str(tenant):
        out = out.replace(str(tenant), "<tenant>")
    for pattern, repl in _MASKS:
        out = pattern.sub(repl, out)
    return out.strip()


def failure_signatures(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures of a history, latest or results frame, grouped by stage x tap x signature.

    Each group has ``count``, ``tenants`` (all of them, comma-separated), ``first_seen`` and
    ``last_seen``. A signature is the failure text with what varies between tenants and runs
    masked (the tenant's id, times, URLs, ids, numbers, quoted values), so one cause is one
    group.

    Parameters
    ----------
    frame : DataFrame
        A ``job_history`` / ``latest_jobs`` frame, or results (failed, unknown, rejected).

    Returns
    -------
    DataFrame
        ``stage``, ``tap``, ``signature``, ``count``, ``tenants``, ``first_seen``,
        ``last_seen``, most frequent first.

    Raises
    ------
    ConfigError
        A frame without ``tenant``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=30) as sb:
    ...     history = hg.job_history(sb.flow_id, since="30d", **sb.credentials)
    >>> hg.failure_signatures(history).head()
    """
    failed = _failed_rows(frame)
    columns = ["stage", "tap", "signature", "count", "tenants", "first_seen", "last_seen"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    when = failed["start_time"] if "start_time" in failed else failed.get("launched_at")
    table = failed.assign(
        stage=failed.get("failed_stage", pd.Series("", index=failed.index)).fillna(""),
        tap=(failed["tap"] if "tap" in failed else pd.Series("", index=failed.index)).fillna(""),
        signature=[signature(row_text(r), r.get("tenant")) for _, r in failed.iterrows()],
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
    require(frame, ("tenant",), "a history, latest or results frame")
    if "outcome" in frame:
        kind = problem_kind(frame)
        return frame[kind.isin(["failed", "unknown", "rejected"]).fillna(False).astype(bool)]
    return frame[frame["succeeded"].eq(False).fillna(False).astype(bool)]


def row_text(row: pd.Series) -> Any:
    """What a row says went wrong: a failed job's ``error`` (real jobs put the cause there
    and a generic text in ``message`` [C]), else its message, else its error."""
    error, message, succeeded = row.get("error"), row.get("message"), row.get("succeeded")
    if _known(succeeded) and not bool(succeeded) and _known(error):
        return error
    return message if _known(message) else error


def _known(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def problem_kind(results: pd.DataFrame) -> pd.Series:
    """Per row: failed / unknown / rejected / skipped, else <NA>."""
    kind = results["outcome"].where(results["outcome"].isin(["unknown", "rejected", "skipped"]))
    if "succeeded" in results:
        failed = results["succeeded"].eq(False).fillna(False).astype(bool)
        kind = kind.mask(failed, "failed")
    return kind.astype("string")


def failures(results: pd.DataFrame, *, include_skipped: bool = False) -> pd.DataFrame:
    """Failed, unknown and rejected rows grouped by message, most frequent first.

    Columns: ``kind``, ``message`` (its signature: ids, numbers, quoted values and times
    masked, as in ``failure_signatures``), ``count``,
    ``tenants`` (up to five examples, comma-separated), ``stage``.

    Parameters
    ----------
    results : DataFrame
        The results of ``launch_jobs`` or ``wait_for_jobs``.
    include_skipped : bool
        Also group the ``skipped`` rows (default False).

    Returns
    -------
    DataFrame
        ``kind``, ``message``, ``count``, ``tenants``, ``stage``.

    Raises
    ------
    ConfigError
        Not a results frame.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> hg.failures(hg.last_run(), include_skipped=True)
    """
    require_results(results)
    kind = problem_kind(results)
    if not include_skipped:
        kind = kind.mask(kind == "skipped")
    rows = results.assign(kind=kind)[kind.notna()]
    if rows.empty:
        return pd.DataFrame(columns=["kind", "message", "count", "tenants", "stage"])
    text = _failure_text(rows)
    stage = rows["failed_stage"] if "failed_stage" in rows else pd.Series(pd.NA, index=rows.index)
    grouped = rows.assign(message=text, stage=stage.fillna("")).groupby(
        ["kind", "message"], sort=False
    )
    out = grouped.agg(
        count=("tenant", "size"),
        tenants=("tenant", lambda s: ", ".join(map(str, s.head(EXAMPLES)))),
        stage=("stage", "first"),
    ).reset_index()
    return out.sort_values(["count", "kind"], ascending=[False, True], ignore_index=True)


def _failure_text(rows: pd.DataFrame) -> pd.Series:
    """The API's message (else the error) as a signature (hg.failure_signatures' masking),
    so that the same failure of many tenants lands in one group in both views."""
    error = rows["error"].astype("string")
    text = rows["message"].astype("string").fillna(error)
    if "succeeded" in rows:  # a failed job's cause is its error [C]
        failed = rows["succeeded"].eq(False).fillna(False).astype(bool) & error.notna()
        text = text.mask(failed, error)
    generic = [signature(t, tenant) for t, tenant in zip(text, rows["tenant"], strict=True)]
    return pd.Series(generic, index=rows.index, dtype="string")
