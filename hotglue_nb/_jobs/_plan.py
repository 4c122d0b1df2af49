"""Turn a tenants DataFrame plus keyword defaults into validated per-row launch plans.

Every problem in every row is collected before anything is sent (ARCHITECTURE §4).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from .._endpoints import (
    BODY_FIELDS,
    LAUNCH_FIELDS,
    V2_BODY_FIELDS,
    coerce_field,
    segment,
    unknown_field_message,
    version_problems,
)
from .._exceptions import ConfigError
from .._tenants import ALIASES, normal_header
from .._types import Tenants
from .._values import is_blank, to_python

__all__ = [
    "Plan",
    "RowPlan",
    "as_frame",
    "coerce_defaults",
    "job_name_for",
    "plan_rows",
    "row_of_job_name",
]

ID_COLUMNS = ("tenant", "flow_id", "env_id")
V2_ONLY = set(V2_BODY_FIELDS) - set(BODY_FIELDS)  # connector_id, job_type, ...
MAX_LISTED_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class RowPlan:
    """One row to launch: where, what body, under which unique job name.

    The body is kept only as its JSON text, serialised once: it is what is POSTed, journaled
    and shown in the ``request`` column (and no dict per row is held for 100,000 rows).
    """

    row: int
    label: Hashable
    tenant: str
    flow_id: str
    env_id: str
    request_json: str
    job_name: str
    path: str  # the POST path, ids already percent-encoded (/v2/... for a two-way job)
    key: int  # the row's number in its run (its journal records, its job name)
    connector_id: str | None = None  # two-way (V2) jobs only
    job_type: str | None = None

    @classmethod
    def make(
        cls, where: tuple[int, Hashable, int], ids: tuple[str, str, str], body: dict[str, Any],
        path: str,
    ) -> RowPlan:  # fmt: skip
        """``where`` is (position, label, key); ``ids`` (tenant, flow_id, env_id)."""
        row, label, key = where
        try:
            text = json.dumps(body, sort_keys=True, default=str, allow_nan=False)
        except ValueError:
            raise ConfigError(
                "a value is NaN or Infinity, which JSON cannot carry; use a number or text"
            ) from None
        name, connector, kind = (
            str(body["job_name"]),
            body.get("connector_id"),
            body.get("job_type"),
        )
        return cls(row, label, *ids, text, name, path, key, connector, kind)

    @property
    def v2(self) -> bool:
        return self.connector_id is not None

    @property
    def body(self) -> dict[str, Any]:
        """The body as a dict (read back from its JSON: for the rare reads that need it)."""
        return cast(dict[str, Any], json.loads(self.request_json))

    @property
    def payload(self) -> bytes:
        return self.request_json.encode()


@dataclass
class Plan:
    """Valid rows, and the problems of the others (row label -> messages)."""

    rows: list[RowPlan]
    problems: dict[int, list[str]]
    labels: list[Hashable]
    skipped: dict[int, tuple[str, str, str]]  # row -> (tenant, flow_id, env_id) best effort

    def problem_text(self) -> str:
        lines = [
            f"  row {self.labels[row]!r}: {msg}"
            for row, msgs in sorted(self.problems.items())
            for msg in msgs
        ]
        extra = len(lines) - MAX_LISTED_PROBLEMS
        shown = lines[:MAX_LISTED_PROBLEMS] + ([f"  ... and {extra} more"] if extra > 0 else [])
        return "\n".join(shown)


def as_frame(tenants: Tenants) -> pd.DataFrame:
    """Accept a DataFrame with a ``tenant`` column (or one ``read_tenants`` would take for
    it: ``Tenant ID``, ``tenant_id``...), or tenant ids as a list, tuple, set (sorted),
    Series, Index, numpy or pandas array (``df.tenant.unique()``)."""
    if isinstance(tenants, pd.DataFrame):
        frame = _canonical(tenants)
    elif isinstance(tenants, (str, bytes, dict)) or not pd.api.types.is_list_like(tenants):
        raise ConfigError(
            "tenants must be a DataFrame with a 'tenant' column, or tenant ids (a list, "
            f"Series, Index or array), got {type(tenants).__name__}."
        )
    else:
        index = tenants.index if isinstance(tenants, pd.Series) else None
        ids = sorted(tenants, key=str) if isinstance(tenants, set | frozenset) else list(tenants)
        frame = pd.DataFrame({"tenant": ids}, index=index)
    if "tenant" not in frame.columns:
        raise ConfigError(
            "The tenants frame has no 'tenant' column "
            f"(columns: {list(map(str, frame.columns))}); rename the id column to 'tenant'."
        )
    if not frame.index.is_unique:
        raise ConfigError("The tenants frame's index has duplicate labels; reset_index() first.")
    return frame


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The column names ``read_tenants`` maps (one rule for files and frames): ``Tenant ID``
    -> ``tenant``, ``Flow`` -> ``flow_id``..., unless the canonical name is there already."""
    renames: dict[Any, str] = {}
    for column in frame.columns:
        target = ALIASES.get(normal_header(column))
        if target and target != column and target not in frame.columns:
            if target in renames.values():
                raise ConfigError(f"Columns {[c for c, t in renames.items() if t == target]} "
                                  f"and {column!r} all mean {target!r}: keep one.")  # fmt: skip
            renames[column] = target
    return frame.rename(columns=renames) if renames else frame


def job_name_for(base: str | None, run_id: str, row: int) -> str:
    """Unique per (run, row), so a lost answer can be found again by name."""
    return f"{base or 'hotglue-nb'}~{run_id}-{row:06d}"


_RUN_ROW = re.compile(r"~(?P<run>[^~]+)-(?P<row>\d{6,})(?::[^:]*)?$")


def row_of_job_name(name: str | None) -> tuple[str, int] | None:
    """(run id, row number) of a job name made by ``job_name_for`` (server suffix allowed)."""
    match = _RUN_ROW.search(name or "")
    return (match["run"], int(match["row"])) if match else None


def coerce_defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword body defaults -> their JSON values (blank ones dropped); unknown names refused."""
    for name in defaults:
        if name not in LAUNCH_FIELDS:
            raise ConfigError(unknown_field_message(name))
    return {k: coerce_field(k, LAUNCH_FIELDS[k], v) for k, v in defaults.items() if not is_blank(v)}


def plan_rows(
    frame: pd.DataFrame,
    *,
    defaults: Mapping[str, Any],
    flow_id: str | None,
    env_id: str,
    run_id: str,
    keys: Sequence[int] | None = None,
) -> Plan:
    """Validate every row; the caller decides whether problems raise or skip.

    ``keys`` are the rows' numbers in their run (by default their positions).
    """
    base = coerce_defaults(defaults)
    body_cols = [str(c) for c in frame.columns if c in LAUNCH_FIELDS]
    suspicious = _suspicious_columns(frame.columns)
    if suspicious:
        raise ConfigError("; ".join(suspicious) + ".")
    if flow_id is None and "flow_id" not in frame.columns:
        raise ConfigError("No flow: pass flow_id=... or add a 'flow_id' column.")
    plan = Plan(rows=[], problems={}, labels=list(frame.index), skipped={})
    used = [c for c in (*ID_COLUMNS, *body_cols) if c in frame.columns]
    columns = {c: frame[c].tolist() for c in used}  # column lists: no dict per row
    for row in range(len(frame)):
        record = {c: values[row] for c, values in columns.items()}
        key = row if keys is None else keys[row]
        _plan_one(plan, (row, key), record, base, body_cols, flow_id, env_id, run_id)
    return plan


def _plan_one(
    plan: Plan,
    where: tuple[int, int],
    record: dict[str, Any],
    base: dict[str, Any],
    body_cols: list[str],
    flow_id: str | None,
    env_id: str,
    run_id: str,
) -> None:
    row, key = where
    problems: list[str] = []
    ids: dict[str, str] = {}
    encoded: dict[str, str] = {}
    for col, default in (("tenant", None), ("flow_id", flow_id), ("env_id", env_id)):
        value, problem = _id_value(record.get(col), default, col)
        ids[col] = value
        if problem:
            problems.append(problem)
        else:
            encoded[col] = segment(value, col)
    body = dict(base)
    cells = set()
    for col in body_cols:
        value = to_python(record[col])
        if is_blank(value):
            continue
        cells.add(col)
        try:
            body[col] = coerce_field(col, LAUNCH_FIELDS[col], value)
        except ConfigError as exc:
            problems.append(f"column {col!r}: {exc}")
    # one set of defaults serves a mixed frame: V2-only ones go to V2 rows, tap to V1 rows
    unused = V2_ONLY if body.get("connector_id") is None else {"tap"}
    for name in unused - cells:
        body.pop(name, None)
    body["job_name"] = job_name_for(body.get("job_name"), run_id, key)
    endpoint, misfits = version_problems(body)
    problems.extend(misfits)
    if not problems:
        path = f"/{encoded['env_id']}/{encoded['flow_id']}/{encoded['tenant']}/jobs"
        path = "/v2" + path if endpoint == "run_job_v2" else path
        names = (ids["tenant"], ids["flow_id"], ids["env_id"])
        try:
            plan.rows.append(RowPlan.make((row, plan.labels[row], key), names, body, path))
            return
        except ConfigError as exc:
            problems.append(f"the request body: {exc}")
    plan.problems[row] = problems
    plan.skipped[row] = (ids["tenant"] or "", ids["flow_id"] or "", ids["env_id"] or "")


def _id_value(value: Any, default: str | None, col: str) -> tuple[str, str | None]:
    value = to_python(value)
    if is_blank(value):
        if default is None:
            return "", f"column {col!r}: blank {col}"
        value = default
    if isinstance(value, float):
        return str(value), (
            f"column {col!r}: {value!r} is a number, not an id; read ids as text "
            "(hg.read_tenants does) so leading zeros and digits survive"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return str(value), f"column {col!r}: {value!r} is not a text id"
    text = str(value)
    try:
        segment(text, col)
    except ConfigError as exc:
        return text, f"column {col!r}: {exc}"
    return text, None


def _suspicious_columns(columns: Iterable[Hashable]) -> list[str]:
    known = set(LAUNCH_FIELDS) | set(ID_COLUMNS)
    out = []
    for col in columns:
        if not isinstance(col, str) or col in known:
            continue
        close = difflib.get_close_matches(col, list(known), n=1, cutoff=0.85)
        if close:
            out.append(f"column {col!r} looks like a misspelt {close[0]!r}; rename it")
    return out
