"""The tenant-operation commands: ``schedules list|set|pause|restore``, ``metadata
list|set`` and ``state backup|restore``. Every write takes ``--dry-run`` (the plan, nothing
written); schedule and metadata writes keep a journal (``--journal``, else one in
``hotglue-runs/``, its path printed for ``restore``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import ConfigError
from .._files import read_results
from .._ops import (
    backup_state,
    label,
    pause_schedules,
    restore_schedules,
    restore_state,
    schedules,
    set_schedules,
    tenant_metadata,
    update_tenant_metadata,
)
from .._tenants import read_tenants
from ._common import (
    JSON_HELP,
    add_connection_flags,
    credentials,
    emit_json,
    stderr_bar,
    write_frame,
)
from ._terms import in_cli_terms

__all__ = ["add_tenant_commands", "labelled"]

OK = {"changed", "unchanged", "planned"}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


def add_tenant_commands(commands: Any) -> None:
    group = commands.add_parser("schedules", help="read, set, pause and restore schedules")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="each tenant's schedule of a flow")
    _flow_and_tenants(listing)
    listing.set_defaults(run=_run_list)
    setting = actions.add_parser("set", help="set schedules from a file (tenant, flow_id, "
                                 "schedule_expression and/or state, or delete)")  # fmt: skip
    setting.add_argument("file", type=Path, help="a .csv, .xlsx or .parquet file")
    setting.set_defaults(run=_run_set)
    pause = actions.add_parser("pause", help="disable a flow's enabled schedules")
    _flow_and_tenants(pause)
    pause.set_defaults(run=_run_pause)
    restore = actions.add_parser("restore", help="put back what pause or set changed")
    restore.add_argument("source", type=Path, help="the journal (.jsonl) or the --out of "
                         "pause / set")  # fmt: skip
    restore.add_argument(
        "--overwrite",
        action="store_true",
        help="also restore schedules changed by someone else meanwhile",
    )
    restore.set_defaults(run=_run_restore)
    meta = commands.add_parser("metadata", help="tenant metadata: list, or set from a file")
    meta_actions = meta.add_subparsers(dest="action", metavar="ACTION", required=True)
    meta_list = meta_actions.add_parser("list", help="every tenant's metadata")
    meta_list.add_argument("--tenants", type=Path, help="a file with a tenant column")
    meta_list.set_defaults(run=_run_meta_list)
    meta_set = meta_actions.add_parser("set", help="set keys from a file (tenant + a column "
                                       "per key; '(delete)' removes a key)")  # fmt: skip
    meta_set.add_argument("file", type=Path, help="a .csv, .xlsx or .parquet file")
    meta_set.set_defaults(run=_run_meta_set)
    state = commands.add_parser("state", help="back up sync state; restore a V2 one")
    state_actions = state.add_subparsers(dest="action", metavar="ACTION", required=True)
    backup = state_actions.add_parser("backup", help="save each tenant's state, a file each")
    _flow_and_tenants(backup)
    backup.add_argument("--folder", type=Path, help="where (default: hotglue-state/<flow>-<time>)")
    backup.set_defaults(run=_run_backup)
    put_back = state_actions.add_parser("restore", help="write backed-up V2 connector states back "
                                        "(a call known from third parties [I])")  # fmt: skip
    put_back.add_argument("folder", type=Path, help="the backup's folder (or one file)")
    put_back.add_argument(
        "--third-party",
        action="store_true",
        help="use the third-party-documented V2 state write (required)",
    )
    put_back.add_argument("--dry-run", action="store_true", help="show the plan; write nothing")
    put_back.set_defaults(run=_run_state_restore)
    for cmd in (listing, setting, pause, restore, meta_list, meta_set, backup, put_back):
        _common_flags(cmd, write=cmd in (setting, pause, restore, meta_set))


def _flow_and_tenants(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--flow", required=True, help="flow id")
    cmd.add_argument("--connector", help="a two-way (V2) flow: the connector (or a "
                     "connector_id column in --tenants)")  # fmt: skip
    cmd.add_argument("--tenants", type=Path, help="a file with a tenant column (default: every "
                     "tenant)")  # fmt: skip


def _common_flags(cmd: argparse.ArgumentParser, *, write: bool) -> None:
    cmd.add_argument("--concurrency", type=int, default=16)
    cmd.add_argument("--out", type=Path, help="write the frame (.csv, .parquet, .xlsx; - for "
                     "CSV on stdout)")  # fmt: skip
    cmd.add_argument("--json", action="store_true", help=JSON_HELP)
    if write:
        cmd.add_argument("--dry-run", action="store_true", help="show the plan; write nothing")
        cmd.add_argument("--journal", type=Path, help="the journal (default: a new one in "
                         "hotglue-runs/)")  # fmt: skip
    add_connection_flags(cmd)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options = {"concurrency": args.concurrency, "progress": stderr_bar(args), **credentials(args)}
    if getattr(args, "connector", None):
        options["connector_id"] = args.connector
    return options


def _tenants(path: Path | None) -> pd.DataFrame | None:
    """``--tenants``: the file's tenants (and, two-way, their ``connector_id``)."""
    if path is None:
        return None
    frame = read_tenants(path)
    return frame[[c for c in ("tenant", "connector_id") if c in frame]]


def _sheet(path: Path, *, typed: bool = False) -> pd.DataFrame:
    """A user's sheet: as text cells (a blank cell is empty text: left alone), or ``typed``
    (numbers and true/false as such); an export of this package is read back as written."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet" or _is_export(path):
            return read_results(path)
        if suffix == ".csv":
            if typed:
                return pd.read_csv(path)
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".xlsx", ".xls", ".ods"):
            return pd.read_excel(path) if typed else pd.read_excel(path, dtype=str).fillna("")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(f"{path}: cannot be read as a sheet ({exc}).") from None
    raise ConfigError(f"{path}: a .csv, .xlsx, .ods or .parquet file, please.")


def _is_export(path: Path) -> bool:
    """A file ``--out`` wrote: its first column is the frame's index, named ``row``."""
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8", errors="replace") as file:
        return file.readline().split(",", 1)[0].strip() == "row"


def _run_list(args: argparse.Namespace) -> int:
    table = schedules(args.flow, _tenants(args.tenants), **_options(args))
    if args.json:
        return emit_json(table, args.out)
    print(table["state"].fillna("(none)").value_counts().to_string())
    write_frame(table, args.out)
    return 0


def _run_set(args: argparse.Namespace) -> int:
    frame = _sheet(args.file)
    if "delete" in frame:
        frame["delete"] = [_flag(v, n) for n, v in enumerate(frame["delete"], 2)]
    return _report(args, set_schedules(frame, **_write_options(args)))


def _flag(value: Any, line: int) -> bool:
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if text.strip().lower() in TRUE | FALSE:
        return text.strip().lower() in TRUE
    raise ConfigError(f"line {line}: delete is true or false, got {value!r}.")


def _run_pause(args: argparse.Namespace) -> int:
    return _report(args, pause_schedules(args.flow, _tenants(args.tenants), **_write_options(args)))


def _run_restore(args: argparse.Namespace) -> int:
    if not args.source.exists():
        raise ConfigError(f"{args.source}: no such file.")
    source: Any = args.source if args.source.suffix == ".jsonl" else read_results(args.source)
    restored = restore_schedules(source, overwrite=args.overwrite, **_write_options(args))
    return _report(args, restored)


def _run_meta_list(args: argparse.Namespace) -> int:
    table = tenant_metadata(_tenants(args.tenants), **_options(args))
    if args.json:
        return emit_json(table.drop(columns="metadata"), args.out)
    shown = table.drop(columns="metadata")
    print(shown.head(25).to_string(index=False, max_colwidth=40))
    write_frame(shown, args.out)
    return 0


def _run_meta_set(args: argparse.Namespace) -> int:
    sheet = _sheet(args.file, typed=True)
    return _report(args, update_tenant_metadata(sheet, **_write_options(args)))


def _run_backup(args: argparse.Namespace) -> int:
    index = backup_state(args.flow, _tenants(args.tenants), out=args.folder, **_options(args))
    if args.json:
        return emit_json(index, args.out)
    failed = index[index["error"].notna()]
    print(f"{len(index) - len(failed)} of {len(index)} states saved in {index.attrs['folder']}")
    if len(failed):
        print(failed[["tenant", "error"]].head(25).to_string(max_colwidth=90))
    write_frame(index, args.out)
    return 0 if failed.empty else 1


def _run_state_restore(args: argparse.Namespace) -> int:
    options = {"third_party": args.third_party, "dry_run": args.dry_run, **_options(args)}
    return _report(args, restore_state(args.folder, **options))


def _write_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"dry_run": args.dry_run, "journal": args.journal, **_options(args)}


def _report(args: argparse.Namespace, frame: pd.DataFrame) -> int:
    """The outcome counts, the rows that went wrong, the journal; 1 when any did."""
    bad = frame[~frame["outcome"].isin(OK)]
    if args.json:
        emit_json(frame, args.out)
        return 0 if bad.empty else 1
    print(frame["outcome"].value_counts().to_string())
    if len(bad):
        shown = bad[["tenant", "outcome", "error"]].head(25)
        shown = shown.assign(
            error=shown["error"].map(lambda e: in_cli_terms(e) if isinstance(e, str) else e)
        )
        print("\n" + shown.to_string(max_colwidth=120))  # in the CLI's terms (--overwrite)
    if frame.attrs.get("journal"):
        undo = " (hotglue-nb schedules restore it to undo)" if "after_state" in frame else ""
        print(f"\nJournal: {frame.attrs['journal']}{undo}")
    write_frame(frame, args.out)
    return 0 if bad.empty else 1


def labelled(frame: pd.DataFrame, keys: list[str], options: dict[str, Any]) -> pd.DataFrame:
    """``--label KEY``: the frame with those metadata keys as columns."""
    if not keys or frame.empty:
        return frame
    chosen = [k.strip() for item in keys for k in item.split(",") if k.strip()]
    meta = tenant_metadata(sorted(set(frame["tenant"].astype(str))), **options)
    missing = [k for k in chosen if k not in meta]
    if missing:
        raise ConfigError(f"--label {', '.join(missing)}: no tenant has that metadata key.")
    return label(frame, meta, chosen)
