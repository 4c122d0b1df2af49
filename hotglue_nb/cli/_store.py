"""The store commands: ``store sync`` (keep a flow's history), ``store runs`` and ``store
info``; ``--store`` on ``history`` / ``health`` reads the long history from it, on
``launch`` / ``wait`` keeps the run there. ``--store`` is a SQLite file or a PostgreSQL
URL, by default ``$HOTGLUE_NB_STORE`` (so a password need not be on the command line)."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import ConfigError, HotglueWarning
from .._store import Store
from .._tenants import read_tenants
from ._common import JSON_HELP, add_connection_flags, credentials, emit_json, stderr_bar
from ._common import write_frame as write

__all__ = ["STORE_VARIABLE", "add_store_commands", "add_store_flag", "store_location"]

STORE_VARIABLE = "HOTGLUE_NB_STORE"


def add_store_flag(cmd: argparse.ArgumentParser, what: str) -> None:
    cmd.add_argument("--store", metavar="LOCATION", default=None,
                     help=f"{what}: a SQLite file or a postgresql+psycopg:// URL (default: "
                     f"${STORE_VARIABLE}, if set)")  # fmt: skip


def store_location(args: argparse.Namespace, required: bool = False) -> str | None:
    """``--store``, else ``$HOTGLUE_NB_STORE``; None when neither (unless required)."""
    given = getattr(args, "store", None) or os.environ.get(STORE_VARIABLE) or None
    if given is None and required:
        raise ConfigError(f"Name the store: --store LOCATION (a SQLite file or a "
                          f"postgresql+psycopg:// URL), or set {STORE_VARIABLE}.")  # fmt: skip
    return given


def add_store_commands(commands: Any) -> None:
    group = commands.add_parser("store", help="keep job history and runs (SQLite or PostgreSQL)")
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
        add_store_flag(cmd, "the store")
        cmd.add_argument("--out", type=Path, help="write the frame (.csv, .parquet, .xlsx)")
        cmd.add_argument("--json", action="store_true", help=JSON_HELP)


def _run_sync(args: argparse.Namespace) -> int:
    tenants = None if args.tenants is None else list(read_tenants(args.tenants)["tenant"])
    options = {"concurrency": args.concurrency, "progress": stderr_bar(args), **credentials(args)}
    with warnings.catch_warnings():  # the store is the answer to cut-short lists
        warnings.simplefilter("ignore", HotglueWarning)
        store = Store(str(store_location(args, required=True)))
        changed = store.sync_history(args.flow, tenants, **options)
    if args.json:
        return emit_json(changed, args.out)
    counts = changed["change"].value_counts().to_dict() if len(changed) else {}
    print(f"{counts.get('new', 0)} new and {counts.get('changed', 0)} changed jobs kept in "
          f"{store.location}.")  # fmt: skip
    write(changed, args.out)
    return 0


def _run_runs(args: argparse.Namespace) -> int:
    store = Store(str(store_location(args, required=True)))
    runs = store.runs()
    if args.json:
        return emit_json(runs, args.out)
    print(runs.to_string(index=False) if len(runs) else f"No run kept in {store.location}.")
    write(runs, args.out)
    return 0


def _run_info(args: argparse.Namespace) -> int:
    info = Store(str(store_location(args, required=True))).info()
    frame = pd.DataFrame([info])
    if args.json:
        return emit_json(frame, args.out)
    print("\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0
