"""The fleet commands: ``tenants`` of the environment, ``history`` and ``health`` of a flow's
tenants, the pre-launch ``check`` of a tenants file.

``health --out F`` writes a valid tenants file: ``hotglue-nb launch F`` reruns those tenants.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .._analysis import PROBLEMS, failure_signatures, fleet_health
from .._api import check_tenants, job_history
from .._client import Hotglue
from .._exceptions import ConfigError, HotglueWarning
from .._frames import HEALTH_COLUMNS
from .._tenants import read_tenants
from ._common import (
    JSON_HELP,
    add_connection_flags,
    credentials,
    emit_json,
    stderr_bar,
    tenants_file,
    write_frame,
)
from ._store import add_store_flag, store_location
from ._tenantops import labelled

__all__ = ["add_fleet_commands"]


def add_fleet_commands(commands: Any) -> None:
    tenants = commands.add_parser("tenants", help="list the tenants of the environment")
    tenants.set_defaults(run=_run_tenants)
    history = commands.add_parser("history", help="every job of a flow's tenants (fleet view)")
    _reads(history)
    history.add_argument("--until", help="until this date/time (default: now)")
    history.set_defaults(run=_run_history)
    health = commands.add_parser("health", help="one row per tenant with a problem label")
    _reads(health, since="90d")  # longer than the 30-day window: dormant tenants show
    health.add_argument("--problem", action="append", default=[],
                        help="keep these problems only (failing, flaky, dormant, records_drop, "
                        "slow, ok); the output is a tenants file for `launch`")  # fmt: skip
    health.set_defaults(run=_run_health)
    check = commands.add_parser("check", help="pre-launch check of a tenants file")
    check.add_argument("file", type=Path, help="tenants file (.csv, .xlsx, .ods; - for stdin)")
    check.add_argument("--flow", required=True, help="flow id")
    check.add_argument("--sheet", help="sheet name of a workbook")
    check.add_argument("--tenant-column", help="the column of tenant ids (default: tenant)")
    check.add_argument("--out", type=Path, help="write the check (.csv, .parquet, .xlsx; - for "
                       "CSV on stdout)")  # fmt: skip
    check.add_argument("--json", action="store_true", help=JSON_HELP)
    check.set_defaults(run=_run_check)
    for cmd in (tenants, history, health, check):
        add_connection_flags(cmd)


def _run_tenants(args: argparse.Namespace) -> int:
    with Hotglue(**credentials(args)) as client:
        for tenant in client.list_tenants():
            print(tenant)
    return 0


def _reads(cmd: argparse.ArgumentParser, since: str = "30d") -> None:
    cmd.add_argument("--flow", required=True, help="flow id")
    cmd.add_argument("--since", default=since, help=f"e.g. 7d, 2024-05-01 (default {since})")
    cmd.add_argument("--tenants", type=Path, help="a tenants file (default: every tenant)")
    cmd.add_argument("--concurrency", type=int, default=16)
    cmd.add_argument("--count", type=int, help="ask the API for this many jobs per tenant "
                     "(its list looks capped at 5 [I])")  # fmt: skip
    cmd.add_argument("--out", type=Path, help="write the frame (.csv, .parquet, .xlsx; - for "
                     "CSV on stdout)")  # fmt: skip
    cmd.add_argument("--json", action="store_true", help=JSON_HELP)
    cmd.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY",
        help="add these tenant metadata keys as columns (e.g. company,plan)",
    )
    add_store_flag(cmd, "keep the jobs in this store and read the long history from it")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"concurrency": getattr(args, "concurrency", 16), "progress": stderr_bar(args),
            **credentials(args)}  # fmt: skip


def _tenants(path: Path | None) -> list[str] | None:
    return None if path is None else [str(t) for t in read_tenants(path)["tenant"]]


def _history(args: argparse.Namespace) -> pd.DataFrame:
    """The history; the library's warning about cut-short lists said in the CLI's terms."""
    until = getattr(args, "until", None)
    if args.count is not None and args.count < 1:
        raise ConfigError(f"--count must be a whole number >= 1, got {args.count}.")
    stored: dict[str, Any] = {"store": where} if (where := store_location(args)) else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotglueWarning)
        history = job_history(args.flow, _tenants(args.tenants), since=args.since, until=until,
                              count=args.count, **stored, **_options(args))  # fmt: skip
    cut = history.loc[history["history_complete"].eq(False).fillna(False), "tenant"].nunique()
    if cut and stored:
        print(f"note: the store has not seen the oldest jobs of {cut} tenant(s) (they had "
              "left the API's list before its first sync; history_complete=False): their "
              "streaks and 'failing since' may be lower bounds.", file=sys.stderr)  # fmt: skip
    elif cut:
        print(f"note: the job lists of {cut} tenant(s) came back {history.attrs['list_limit']} "
              "long and may be cut short by the API (history_complete=False; their streaks "
              "and 'failing since' are lower bounds); --count N asks for more.",
              file=sys.stderr)  # fmt: skip
    return history


def _run_history(args: argparse.Namespace) -> int:
    history = labelled(_history(args), args.label, _options(args))
    if args.json:
        return emit_json(history, args.out)
    errors = history.attrs["errors"]  # plain dicts
    print(f"{len(history)} jobs of {history['tenant'].nunique()} tenants in flow {args.flow} "
          f"since {args.since}; {len(errors)} tenant(s) could not be read.")  # fmt: skip
    signatures = failure_signatures(history)
    if len(signatures):
        print("\nFailures by signature:")
        print(signatures.head(10).to_string(index=False, max_colwidth=70))
    write_frame(history, args.out)
    return 0


def _run_health(args: argparse.Namespace) -> int:
    problems = _problems(args.problem)  # before reading: a typo must not cost a fleet read
    health = fleet_health(_history(args))
    if problems:
        health = health[health["problem"].isin(problems)]
    health = labelled(health, args.label, _options(args))
    if args.json:
        return emit_json(health, args.out)
    if health.empty:
        print(f"No tenant with a job since {args.since}{' and that problem' if problems else ''}"
              ": nothing to judge (read further back with --since).")  # fmt: skip
        write_frame(health, args.out)
        return 0
    print(health["problem"].value_counts().to_string())
    keys = [c for c in health.columns if c not in HEALTH_COLUMNS]  # --label's columns
    columns = ["tenant", *keys, "problem", "last_status", "failure_streak", "last_message"]
    print("\n" + health[columns].head(25).to_string(index=False, max_colwidth=60))
    write_frame(health, args.out, "  (a tenants file: hotglue-nb launch it to rerun these)")
    return 0


def _problems(items: list[str]) -> set[str]:
    chosen = {p.strip() for item in items for p in item.split(",") if p.strip()}
    for name in sorted(chosen - set(PROBLEMS)):
        near = difflib.get_close_matches(name, PROBLEMS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ConfigError(f"--problem {name!r} is not a problem{hint}; choose from "
                          f"{', '.join(PROBLEMS)}.")  # fmt: skip
    return chosen


def _run_check(args: argparse.Namespace) -> int:
    tenants = tenants_file(args)
    check = check_tenants(tenants, args.flow, **_options(args))
    check.index = tenants.index
    bad = check[~check["ready"].fillna(False).astype(bool)]
    if args.json:
        emit_json(check, args.out)
        return 0 if bad.empty else 1
    print(f"{len(check) - len(bad)} of {len(check)} rows ready for flow {args.flow}.")
    if len(bad):
        print(bad[["tenant", "reason"]].to_string(max_colwidth=90))
    write_frame(check, args.out)
    return 0 if bad.empty else 1
