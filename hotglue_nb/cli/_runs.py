"""The run commands: ``launch`` a tenants file, ``wait`` for a results file, ``status`` of a
results file or journal (offline)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._api import launch_jobs, wait_for_jobs
from .._exceptions import LaunchInterrupted
from .._files import load_run, read_results
from ._common import (
    JSON_HELP,
    add_connection_flags,
    body_sets,
    credentials,
    emit_json,
    report,
    stderr_bar,
    tenants_file,
    write_interrupted,
)
from ._store import add_store_flag, store_location

__all__ = ["add_run_commands"]


def add_run_commands(commands: Any) -> None:
    _add_launch(commands)
    _add_wait(commands)
    status = commands.add_parser("status", help="summarise a results file or journal (offline)")
    status.add_argument("file", help="results file, journal path or run id")
    status.add_argument("--json", action="store_true", help=JSON_HELP)
    status.set_defaults(run=_run_status)


def _add_launch(commands: Any) -> None:
    cmd = commands.add_parser("launch", help="launch a job for every row of a tenants file")
    cmd.add_argument("file", type=Path, help="tenants file (.csv, .xlsx, .ods; - for CSV on stdin)")
    cmd.add_argument("--flow", help="flow id (unless the file has a flow column)")
    cmd.add_argument("--sheet", help="sheet name of a workbook")
    cmd.add_argument("--tenant-column", help="the column of tenant ids (default: tenant, or a "
                     "header like 'Tenant ID')")  # fmt: skip
    cmd.add_argument("--concurrency", type=int, default=8)
    cmd.add_argument("--rate-limit", type=float, help="requests per second")
    cmd.add_argument("--max-attempts", type=int, default=4)
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds per request, whole")
    cmd.add_argument("--wait", action="store_true", help="then follow the jobs to their end")
    cmd.add_argument("--wait-timeout", type=float, help="stop following after this many s")
    cmd.add_argument("--poll-interval", type=float, default=5.0)
    cmd.add_argument("--dry-run", action="store_true", help="send nothing; show what would be")
    cmd.add_argument("--journal", type=Path, help="durable run record (enables --resume); "
                     "without --out and --journal: hotglue-runs/<run id>.jsonl")  # fmt: skip
    cmd.add_argument("--resume", help="journal path or run id of an interrupted run")
    cmd.add_argument("--skip-invalid", action="store_true", help="launch the valid rows only")
    cmd.add_argument("--check", action="store_true",
                     help="pre-launch check: skip rows not linked, disconnected, running or "
                     "dormant (see --check-allow)")  # fmt: skip
    cmd.add_argument(
        "--check-allow",
        default="",
        help="comma-separated reasons to launch anyway, e.g. dormant,running",
    )
    cmd.add_argument("--backup-state", nargs="?", const=True, default=False, metavar="FOLDER",
                     help="save the state of each row that resets it (reset_source_state) "
                     "before it is sent (default folder: hotglue-state/<run id>)")  # fmt: skip
    cmd.add_argument("--out", type=Path, help="results file (.csv, .parquet, .xlsx; - for CSV "
                     "on stdout)")  # fmt: skip
    cmd.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="a body field for every row, e.g. --set override_start_date=2024-01-01",
    )  # fmt: skip
    add_store_flag(cmd, "keep the run there too (its rows as they happen)")
    add_connection_flags(cmd)
    cmd.set_defaults(run=_run_launch)


def _add_wait(commands: Any) -> None:
    cmd = commands.add_parser("wait", help="follow the jobs of a results file to their end")
    cmd.add_argument("results", type=Path, help="results file written by launch --out")
    cmd.add_argument("--out", type=Path, help="where to write (default: overwrite RESULTS)")
    cmd.add_argument("--timeout", type=float, help="stop following after this many seconds")
    cmd.add_argument("--poll-interval", type=float, default=5.0)
    add_store_flag(cmd, "keep the waited run there too")
    add_connection_flags(cmd)
    cmd.set_defaults(run=_run_wait)


def _run_launch(args: argparse.Namespace) -> int:
    on_invalid = "skip" if args.skip_invalid else "raise"
    tenants = tenants_file(args, on_invalid=on_invalid)
    options: dict[str, Any] = {
        "concurrency": args.concurrency, "rate_limit": args.rate_limit,
        "max_attempts": args.max_attempts, "timeout": args.timeout, "dry_run": args.dry_run,
        "journal": _journal(args), "resume": args.resume, "on_invalid": on_invalid,
        "wait": args.wait, "poll_interval": args.poll_interval,
        "wait_timeout": args.wait_timeout, "progress": stderr_bar(args), "preflight": args.check,
        "preflight_allow": [r.strip() for r in args.check_allow.split(",") if r.strip()],
        "backup_state": args.backup_state, "store": store_location(args),
    }  # fmt: skip
    if args.flow:
        options["flow_id"] = args.flow
    try:
        results = launch_jobs(tenants, **options, **credentials(args), **body_sets(args.set))
    except LaunchInterrupted as exc:
        return write_interrupted(exc, args.out, "launch")
    journal = results.attrs.get("journal")
    if journal and args.journal is None and args.resume is None:
        print(f"journal: {journal} (no --out: every job id is here; `hotglue-nb status "
              f"{journal}` shows the run)", file=sys.stderr)  # fmt: skip
    return report(results, args.out, waited=args.wait, dry_run=args.dry_run)


def _journal(args: argparse.Namespace) -> Path | bool | None:
    """``--journal``; without it, and without ``--out`` or with ``--store``, the run is
    journaled anyway (under hotglue-runs/): no job id is ever only on the screen, and a
    stored run's rows reach the store as they happen."""
    given: Path | None = args.journal
    if given is not None or args.resume is not None or args.dry_run:
        return given
    return True if args.out is None or store_location(args) else None


def _run_wait(args: argparse.Namespace) -> int:
    results = read_results(args.results)
    try:
        waited = wait_for_jobs(
            results, poll_interval=args.poll_interval, timeout=args.timeout,
            progress=stderr_bar(args), store=store_location(args), **credentials(args),
        )  # fmt: skip
    except LaunchInterrupted as exc:
        return write_interrupted(exc, args.out or args.results, "wait")
    return report(waited, args.out or args.results, waited=True, dry_run=False)


def _run_status(args: argparse.Namespace) -> int:
    path = Path(args.file)
    is_results = path.suffix.lower() in (".csv", ".parquet", ".xlsx")
    results = read_results(path) if is_results else load_run(args.file)
    waited = "finished" in results and bool(results["finished"].notna().any())
    if args.json:
        emit_json(results, None)
        return 0
    return report(results, None, waited=waited, dry_run=False)
