"""The ``hotglue-nb`` command line, thin over the public API.

Credentials come from ``HOTGLUE_API_KEY`` / ``HOTGLUE_ENV_ID`` / ``HOTGLUE_BASE_URL`` (or
``--api-key-file``), never from a plain argument. Progress goes to stderr, summaries to
stdout. Bad input prints one clear line and exits 2, without a traceback. ``launch`` and
``wait`` exit 0 only when every row was created/queued (with ``--wait``: succeeded).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._exceptions import ConfigError, HotglueError, LaunchInterrupted
from ._version import __version__

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotglue-nb", description="Launch and follow hotglue jobs across many tenants."
    )
    parser.add_argument("--version", action="version", version=f"hotglue-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_launch(commands)
    _add_wait(commands)
    _add_status(commands)
    _add_tenants(commands)
    _add_sandbox(commands)
    _add_demo(commands)
    from ._cli_fleet import add_fleet_commands

    add_fleet_commands(commands, _connection, _stderr_bar)
    return parser


def _connection(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--env", help="env id (else HOTGLUE_ENV_ID)")
    cmd.add_argument("--base-url", help="API base URL (else HOTGLUE_BASE_URL or the default)")
    cmd.add_argument(
        "--api-key-file", type=Path, help="a file holding the key (else HOTGLUE_API_KEY)"
    )


def _add_launch(commands: Any) -> None:
    cmd = commands.add_parser("launch", help="launch a job for every row of a tenants file")
    cmd.add_argument("file", type=Path, help="tenants file (.csv, .xlsx, .ods)")
    cmd.add_argument("--flow", help="flow id (unless the file has a flow column)")
    cmd.add_argument("--sheet", help="sheet name of a workbook")
    cmd.add_argument("--concurrency", type=int, default=8)
    cmd.add_argument("--rate-limit", type=float, help="requests per second")
    cmd.add_argument("--max-attempts", type=int, default=4)
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    cmd.add_argument("--wait", action="store_true", help="then follow the jobs to their end")
    cmd.add_argument("--wait-timeout", type=float, help="stop following after this many s")
    cmd.add_argument("--poll-interval", type=float, default=5.0)
    cmd.add_argument("--dry-run", action="store_true", help="send nothing; show what would be")
    cmd.add_argument("--journal", type=Path, help="durable run record (enables --resume)")
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
    cmd.add_argument("--out", type=Path, help="results file (.csv, .parquet, .xlsx)")
    cmd.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="a body field for every row, e.g. --set override_start_date=2024-01-01",
    )  # fmt: skip
    _connection(cmd)
    cmd.set_defaults(run=_run_launch)


def _add_wait(commands: Any) -> None:
    cmd = commands.add_parser("wait", help="follow the jobs of a results file to their end")
    cmd.add_argument("results", type=Path, help="results file written by launch --out")
    cmd.add_argument("--out", type=Path, help="where to write (default: overwrite RESULTS)")
    cmd.add_argument("--timeout", type=float, help="stop following after this many seconds")
    cmd.add_argument("--poll-interval", type=float, default=5.0)
    _connection(cmd)
    cmd.set_defaults(run=_run_wait)


def _add_status(commands: Any) -> None:
    cmd = commands.add_parser("status", help="summarise a results file or journal (offline)")
    cmd.add_argument("file", help="results file, journal path or run id")
    cmd.set_defaults(run=_run_status)


def _add_tenants(commands: Any) -> None:
    cmd = commands.add_parser("tenants", help="list the tenants of the environment")
    _connection(cmd)
    cmd.set_defaults(run=_run_tenants)


def _add_sandbox(commands: Any) -> None:
    cmd = commands.add_parser("sandbox", help="run the local hotglue emulator in the foreground")
    cmd.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the demo world and faults")
    cmd.add_argument("--world", help="a world JSON file instead of the demo world")
    cmd.add_argument("--tenants", type=int, default=240, help="tenants in the demo world")
    cmd.add_argument(
        "--faults", default="",
        help="e.g. 'rate_limit=50,server_error=0.05,latency=0.25' (see sandbox.Faults), or "
        'JSON with per-tenant entries: \'{"*": {...}, "acme": {"throttle_first": 2}}\'',
    )  # fmt: skip
    cmd.add_argument("--time-scale", type=float, help="job duration scale (1 = ~3 minutes)")
    cmd.add_argument(
        "--history-days", type=int, default=0, help="a seeded past of daily jobs (e.g. 30)"
    )
    cmd.set_defaults(run=_run_sandbox)


def _add_demo(commands: Any) -> None:
    cmd = commands.add_parser("demo", help="rehearse a bulk rerun on the embedded sandbox")
    cmd.add_argument("--out", type=Path, default=Path("hotglue-demo-results.csv"))
    cmd.add_argument("--concurrency", type=int, default=16)
    cmd.set_defaults(run=_run_demo)


# --- commands ---------------------------------------------------------------------------


def credentials(args: argparse.Namespace) -> dict[str, Any]:
    creds: dict[str, Any] = {}
    if args.env:
        creds["env_id"] = args.env
    if args.base_url:
        creds["base_url"] = args.base_url
    if args.api_key_file:
        try:
            creds["api_key"] = args.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            message = f"--api-key-file: cannot read {args.api_key_file}: {exc.strerror}"
            raise ConfigError(message) from None
    return creds


def _body_sets(items: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for item in items:
        field, sep, raw = item.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--set {item!r}: write FIELD=VALUE, e.g. reset_source_state=true")
        try:
            body[field.strip()] = json.loads(raw)
        except ValueError:
            body[field.strip()] = raw
    return body


def _run_launch(args: argparse.Namespace) -> int:
    from ._api import launch_jobs
    from ._tenants import read_tenants

    on_invalid = "skip" if args.skip_invalid else "raise"
    tenants = read_tenants(args.file, sheet=args.sheet, on_invalid=on_invalid)
    options: dict[str, Any] = {
        "concurrency": args.concurrency, "rate_limit": args.rate_limit,
        "max_attempts": args.max_attempts, "timeout": args.timeout, "dry_run": args.dry_run,
        "journal": args.journal, "resume": args.resume, "on_invalid": on_invalid,
        "wait": args.wait, "poll_interval": args.poll_interval,
        "wait_timeout": args.wait_timeout, "progress": _stderr_bar(), "preflight": args.check,
        "preflight_allow": [r.strip() for r in args.check_allow.split(",") if r.strip()],
    }  # fmt: skip
    if args.flow:
        options["flow_id"] = args.flow
    try:
        results = launch_jobs(tenants, **options, **credentials(args), **_body_sets(args.set))
    except LaunchInterrupted as exc:
        return _interrupted(exc, args.out, "launch")
    return _report(results, args.out, waited=args.wait, dry_run=args.dry_run)


def _run_wait(args: argparse.Namespace) -> int:
    from ._api import wait_for_jobs
    from ._files import read_results

    results = read_results(args.results)
    try:
        waited = wait_for_jobs(
            results, poll_interval=args.poll_interval, timeout=args.timeout,
            progress=_stderr_bar(), **credentials(args),
        )  # fmt: skip
    except LaunchInterrupted as exc:
        return _interrupted(exc, args.out or args.results, "wait")
    return _report(waited, args.out or args.results, waited=True, dry_run=False)


def _run_status(args: argparse.Namespace) -> int:
    from ._files import load_run, read_results

    path = Path(args.file)
    is_results = path.suffix.lower() in (".csv", ".parquet", ".xlsx")
    results = read_results(path) if is_results else load_run(args.file)
    waited = "finished" in results and bool(results["finished"].notna().any())
    return _report(results, None, waited=waited, dry_run=False)


def _run_tenants(args: argparse.Namespace) -> int:
    from ._client import Hotglue

    with Hotglue(**credentials(args)) as client:
        for tenant in client.list_tenants():
            print(tenant)
    return 0


def _run_sandbox(args: argparse.Namespace) -> int:
    from . import sandbox

    try:
        text = args.faults.strip()
        spec = json.loads(text) if text.startswith("{") else text
        faults = sandbox.FaultPlan.build(spec, args.seed)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--faults: {exc}") from None
    scale = sandbox.DEFAULT_TIME_SCALE if args.time_scale is None else args.time_scale
    world = args.world or sandbox.demo_world(args.seed, tenants=args.tenants)
    options = {"seed": args.seed, "faults": faults, "port": args.port, "time_scale": scale,
               "history_days": args.history_days}  # fmt: skip
    with sandbox.serve(world, **options) as sb:
        print(f"hotglue sandbox on {sb.base_url}  (Ctrl-C to stop)", flush=True)
        print(f"export HOTGLUE_BASE_URL={sb.base_url}")
        print(f"export HOTGLUE_ENV_ID={sb.env_id}")
        print(f"export HOTGLUE_API_KEY={sb.api_key}   # the sandbox's own key, not a secret")
        print(f"# flows: {', '.join(sb.flows)}; {len(sb.tenants)} tenants", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def _run_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(args.out, concurrency=args.concurrency)


# --- output ------------------------------------------------------------------------------


def _stderr_bar() -> Any:
    from functools import partial

    from tqdm import tqdm

    return partial(tqdm, file=sys.stderr, mininterval=0.5)


def _interrupted(exc: LaunchInterrupted, out: Path | None, command: str) -> int:
    """Ctrl-C: the partial results go to a file (``--out``, else one named after the run)."""
    from ._files import export_results
    from ._report import summarize

    frame = exc.results
    run_ids = frame["run_id"].dropna().unique() if "run_id" in frame else []
    target = out or Path(f"hotglue-interrupted-{run_ids[0] if len(run_ids) else 'run'}.csv")
    export_results(frame, target)
    print(summarize(frame))
    journal = frame.attrs.get("journal")
    print(f"hotglue-nb {command}: interrupted during the {exc.phase}; partial results (every "
          f"row) written to {target}", file=sys.stderr)  # fmt: skip
    if journal and exc.phase == "launch":
        print(f"continue with: hotglue-nb launch FILE --resume {journal}", file=sys.stderr)
    elif exc.phase == "wait":
        print(f"follow the jobs again with: hotglue-nb wait {target}", file=sys.stderr)
    return 130


def _report(results: pd.DataFrame, out: Path | None, *, waited: bool, dry_run: bool) -> int:
    from ._files import export_results
    from ._report import failures, summarize

    if out is not None:
        export_results(results, out)
    print(summarize(results))
    problems = failures(results)
    if len(problems):
        print("\nProblems, grouped by message:")
        print(problems.to_string(index=False, max_colwidth=80))
    if out is not None:
        print(f"\nResults: {out}")
    if dry_run:
        return 0
    ok = bool(results["outcome"].isin(["created", "queued"]).all())
    if waited and "succeeded" in results:
        ok = ok and bool(results["succeeded"].fillna(False).all())
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return run(args)
    except HotglueError as exc:
        print(f"hotglue-nb {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hotglue-nb {args.command}: interrupted", file=sys.stderr)
        return 130
