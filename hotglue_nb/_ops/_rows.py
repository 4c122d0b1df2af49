"""The rows of a schedule run, from what the user gives: a frame to set (checked whole before
anything is sent), a result or a journal to restore, a journal to resume."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._client._schedules import Schedule
from .._endpoints import segment
from .._exceptions import ConfigError, HotglueError
from .._journal import read_journal
from .._values import is_blank, to_python
from ._schedules import Change, check_expression

__all__ = ["changes_from_frame", "changes_to_restore", "resumed_befores"]

STATES = ("ENABLED", "DISABLED")
SHOWN = 10  # bad rows named in one error


def changes_from_frame(frame: Any) -> list[Change]:
    """One change per row of ``set_schedules``' frame; every bad row named at once."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"set_schedules takes a DataFrame, got {type(frame).__name__}.")
    missing = [name for name in ("tenant", "flow_id") if name not in frame]
    if missing:
        raise ConfigError(f"set_schedules needs the columns tenant and flow_id (missing: "
                          f"{', '.join(missing)}).")  # fmt: skip
    if not {"schedule_expression", "state", "delete"} & set(frame.columns):
        raise ConfigError("set_schedules needs a schedule_expression, state or delete column.")
    _near_misses(frame)
    changes: list[Change] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], Any] = {}
    for row, (label, cells) in enumerate(zip(frame.index, frame.to_dict("records"), strict=True)):
        where = f"row {label!r} (tenant {cells['tenant']!r})"
        key = (str(cells["tenant"]), str(cells["flow_id"]))
        if key in seen:
            problems.append(f"{where}: the tenant and flow of row {seen[key]!r} again")
            continue
        seen[key] = label
        try:
            changes.append(_change(row, cells))
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise ConfigError(f"set_schedules: {len(problems)} row(s) cannot be set, nothing was "
                          "sent:\n  " + "\n  ".join(problems[:SHOWN]) + more)  # fmt: skip
    return changes


COLUMNS = ("tenant", "flow_id", "connector_id", "schedule_expression", "state", "delete")


def _near_misses(frame: pd.DataFrame) -> None:
    """A column that looks like one of ``COLUMNS`` but is not (``Schedule_Expression``,
    ``schedule_expresion``) would be ignored without a word: refused, naming the right one."""
    for column in frame.columns:
        name = str(column)
        if name in COLUMNS:
            continue
        near = difflib.get_close_matches(name.strip().lower(), COLUMNS, n=1, cutoff=0.8)
        if near:
            raise ConfigError(f"set_schedules: column {name!r} is not one it reads; did you "
                              f"mean {near[0]!r}?")  # fmt: skip


def _change(row: int, cells: dict[Any, Any]) -> Change:
    tenant, flow_id = cells["tenant"], cells["flow_id"]
    for name, value in (("tenant", tenant), ("flow_id", flow_id)):
        if is_blank(value):
            raise ConfigError(f"no {name}")
        segment(to_python(value), name)  # an id the API cannot take, before anything is sent
    expression = (
        None if is_blank(cells.get("schedule_expression")) else cells["schedule_expression"]
    )
    state = None if is_blank(cells.get("state")) else str(cells["state"]).strip().upper()
    delete = cells.get("delete")
    delete = False if is_blank(delete) else delete
    if not isinstance(delete, bool):
        raise ConfigError(f"delete is True or False, got {delete!r}")
    if delete and (expression is not None or state is not None):
        raise ConfigError("delete=True with an expression or state: choose one")
    if expression is not None and (problem := check_expression(expression)):
        raise ConfigError(problem)
    if state is not None and state not in STATES:
        raise ConfigError(f"state is ENABLED or DISABLED, got {cells['state']!r}")
    if not delete and expression is None and state is None:
        raise ConfigError("nothing to set: give schedule_expression, state or delete")
    connector = None if is_blank(cells.get("connector_id")) else str(cells["connector_id"])

    def wanted(before: Schedule) -> Schedule:
        if delete:
            return Schedule()
        found = expression or before.expression
        if found is None:
            raise HotglueError("no schedule to set the state of: give schedule_expression")
        return Schedule(found, state or before.state or "ENABLED")

    return Change(row, str(tenant), str(flow_id), connector, wanted)


def changes_to_restore(given: Any) -> list[Change]:
    """The changes that put back a schedule run: from its result frame or its journal."""
    if isinstance(given, pd.DataFrame):
        return _from_frame(given)
    if isinstance(given, (str, os.PathLike)):
        return _from_journal(Path(given))
    raise ConfigError("restore_schedules takes the result of pause_schedules / set_schedules, "
                      f"or its journal's path; got {type(given).__name__}.")  # fmt: skip


def _from_frame(frame: pd.DataFrame) -> list[Change]:
    needed = ["tenant", "flow_id", "outcome", "changed", "had_schedule", "before_expression",
              "before_state", "has_schedule", "after_expression", "after_state"]  # fmt: skip
    missing = [name for name in needed if name not in frame]
    if missing:
        raise ConfigError("restore_schedules needs the result of pause_schedules / "
                          f"set_schedules (missing columns: {', '.join(missing)}).")  # fmt: skip
    out = []
    for row, cells in enumerate(frame.to_dict("records")):
        touched = _truth(cells["changed"]) or cells["outcome"] == "unknown"
        if not touched or cells["outcome"] == "planned":
            continue
        before = _schedule(cells, "before", "had_schedule")
        after = _schedule(cells, "after", "has_schedule")
        connector = None if is_blank(cells.get("connector_id")) else str(cells["connector_id"])
        out.append(_restore(row, str(cells["tenant"]), str(cells["flow_id"]), connector,
                            before, after))  # fmt: skip
    return out


def _truth(value: Any) -> bool:
    """A flag as an export or a text-only read gives it back (True, "True", "true", 1)."""
    value = to_python(value)
    if is_blank(value):
        return False
    if isinstance(value, bool | int):
        return bool(value)
    return str(value).strip().lower() in ("true", "yes", "1")


def _schedule(cells: dict[Any, Any], side: str, flag: str) -> Schedule:
    if not _truth(cells[flag]):
        return Schedule()
    return Schedule(str(cells[f"{side}_expression"]), str(cells[f"{side}_state"]))


def _restore(
    row: int, tenant: str, flow_id: str, connector: str | None, before: Schedule, left: Schedule
) -> Change:
    return Change(row, tenant, flow_id, connector, lambda _: before, expect=left)


def _from_journal(path: Path) -> list[Change]:
    out = []
    for row, (key, (before, left)) in enumerate(_journaled_rows(path).items()):
        tenant, flow_id, connector = key
        out.append(_restore(row, tenant, flow_id, connector, before, left))
    return out


Key = tuple[str, str, str | None]


def _journaled_rows(path: Path, *, checked: bool = False) -> dict[Key, tuple[Schedule, Schedule]]:
    """Per tenant x flow a run touched: its schedule before the first write, and what the
    last write left (rows are matched by tenant and flow, never by position: a resume may
    list them in another order). A write refused at its last try left nothing."""
    if not checked:
        _schedule_journal(path)  # the header, a torn line, a foreign journal
    out: dict[Key, tuple[Schedule, Schedule]] = {}
    for number, record in _records(path):
        where = f"{path}:{number}"
        kind = record.get("kind")
        if kind not in ("intent", "outcome"):
            continue
        tenant, flow_id = record.get("tenant"), record.get("flow_id")
        if not isinstance(tenant, str) or not isinstance(flow_id, str):
            raise ConfigError(f"{where}: a {kind} record without its tenant and flow_id.")
        connector = record.get("connector_id")
        key = (tenant, flow_id, connector if isinstance(connector, str) else None)
        if kind == "intent":
            before = _journaled(record.get("before"), where)
            first = out.get(key, (before, before))[0]
            out[key] = (first, _journaled(record.get("after"), where))
        elif record.get("outcome") == "failed":
            match = next((k for k in out if k[:2] == key[:2]), None)
            if match is not None:
                out[match] = (out[match][0], out[match][0])
    return {k: v for k, v in out.items() if v[0] != v[1]}


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            continue  # read_journal refused any but a torn last line already
        if isinstance(record, dict):
            out.append((number, record))
    return out


def _schedule_journal(path: Path) -> Any:
    if not path.exists():
        raise ConfigError(f"No journal at {str(path)!r}: pass the journal path of the run.")
    state = read_journal(path)
    if not str(state.run.get("operation", "")).endswith("_schedules"):
        raise ConfigError(f"{path} is the journal of a {state.run.get('operation', 'launch')} "
                          "run, not of a schedule change.")  # fmt: skip
    return state


def _journaled(value: Any, where: str) -> Schedule:
    """A schedule as a journal holds it; anything else is a damaged journal, refused."""
    if not isinstance(value, dict) or set(value) != {"schedule_expression", "state"}:
        raise ConfigError(f"{where}: not a schedule as this package journals it: {value!r}.")
    expression, state = value["schedule_expression"], value["state"]
    if expression is None and state is None:
        return Schedule()
    if check_expression(expression) or state not in STATES:
        raise ConfigError(f"{where}: a damaged schedule record: {value!r}.")
    return Schedule(str(expression), str(state))


def resumed_befores(
    path: Path | None, kind: str, flow_id: str | None = None
) -> dict[tuple[str, str], tuple[Schedule, Schedule]]:
    """A resumed run's rows: their schedule before its first run, and what it left."""
    if path is None or not path.exists() or path.stat().st_size == 0:
        return {}
    state = _schedule_journal(path)
    if state.run.get("operation") != f"{kind}_schedules":
        raise ConfigError(f"{path} is the journal of {state.run.get('operation')}, not "
                          f"{kind}_schedules: pass a new journal= or the right one.")  # fmt: skip
    if flow_id is not None and state.run.get("flow_id") != flow_id:
        raise ConfigError(f"{path} is the journal of flow {state.run.get('flow_id')!r}, not "
                          f"{flow_id!r}.")  # fmt: skip
    rows = _journaled_rows(path, checked=True)
    return {(k[0], k[1]): pair for k, pair in rows.items()}
