"""The store commands: ``store sync`` (keep a flow's history), ``store runs`` and ``store
info``; ``--store`` on ``history`` / ``health`` reads the long history from it."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import HotglueWarning
from .._store import Store
from .._tenants import read_tenants
from ._common import JSON_HELP, add_connection_flags, credentials, emit_json, stderr_bar
from ._common import write_frame as write

__all__ = ["add_store_commands", "stored_history"]


def add_store_commands(commands: Any) -> None:
    group = commands.add_parser("store", help="keep job history and runs in a SQLite file")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    sync = actions.add_parser("sync", help="read a flow's history and keep every job")
    sync.add_argument("--flow", required=True, help="flow id")
    sync.add_argument("--tenants", type=Path, help="a tenants file (default: every tenant)")
    sync.add_argument("--concurrency", type=int, default=16)
    sync.set_defaults(run=_run_sync)
    add_connection_flags(sync)
    runs = actions.add_parser("runs", help="the runs kept")
    runs.set_defaults(run=_run_runs)
    info = actions.add_parser("info", help="what the store holds")
    info.set_defaults(run=_run_info)
    for cmd in (sync, runs, info):
        cmd.add_argument("--store", type=Path, required=True, help="the store's SQLite file")
        cmd.add_argument("--out", type=Path, help="write the frame (.csv, .parquet, .xlsx)")
        cmd.add_argument("--json", action="store_true", help=JSON_HELP)


def _run_sync(args: argparse.Namespace) -> int:
    tenants = None if args.tenants is None else list(read_tenants(args.tenants)["tenant"])
    options = {"concurrency": args.concurrency, "progress": stderr_bar(args), **credentials(args)}
    with warnings.catch_warnings():  # the store is the answer to cut-short lists
        warnings.simplefilter("ignore", HotglueWarning)
        changed = Store(args.store).sync_history(args.flow, tenants, **options)
    if args.json:
        return emit_json(changed, args.out)
    counts = changed["change"].value_counts().to_dict() if len(changed) else {}
    print(f"{counts.get('new', 0)} new and {counts.get('changed', 0)} changed jobs kept in "
          f"{args.store}.")  # fmt: skip
    write(changed, args.out)
    return 0


def _run_runs(args: argparse.Namespace) -> int:
    runs = Store(args.store).runs()
    if args.json:
        return emit_json(runs, args.out)
    print(runs.to_string(index=False) if len(runs) else f"No run kept in {args.store}.")
    write(runs, args.out)
    return 0


def _run_info(args: argparse.Namespace) -> int:
    info = Store(args.store).info()
    frame = pd.DataFrame([info])
    if args.json:
        return emit_json(frame, args.out)
    print("\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0


def stored_history(
    store: Path, flow: str, tenants: Any, since: Any, options: dict[str, Any]
) -> pd.DataFrame:
    """``--store`` on ``history`` / ``health``: sync, then the store's long history."""
    kept = Store(store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotglueWarning)
        kept.sync_history(flow, tenants, **options)
    return kept.history(flow, tenants, since=since)
