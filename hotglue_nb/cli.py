"""The ``hotglue-nb`` command line, thin over the public API.

Credentials come from ``HOTGLUE_API_KEY`` / ``HOTGLUE_ENV_ID`` / ``HOTGLUE_BASE_URL`` (or
``--api-key-file``), never from a plain argument. Bad input prints one clear line and exits
non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from ._exceptions import HotglueError
from ._version import __version__

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotglue-nb", description="Launch and follow hotglue jobs across many tenants."
    )
    parser.add_argument("--version", action="version", version=f"hotglue-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sandbox(commands)
    return parser


def _add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = commands.add_parser("sandbox", help="run the local hotglue emulator in the foreground")
    cmd.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the demo world and faults")
    cmd.add_argument("--world", help="a world JSON file instead of the demo world")
    cmd.add_argument("--tenants", type=int, default=240, help="tenants in the demo world")
    cmd.add_argument(
        "--faults",
        default="",
        help="e.g. 'rate_limit=50,server_error=0.05,latency=0.25' (see sandbox.Faults)",
    )
    cmd.add_argument(
        "--time-scale", type=float, default=None, help="job duration scale (1 = ~3 minutes)"
    )
    cmd.set_defaults(run=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    from . import sandbox

    try:
        faults = sandbox.parse_faults(args.faults)
    except ValueError as exc:
        raise HotglueError(f"--faults: {exc}") from None
    scale = sandbox.DEFAULT_TIME_SCALE if args.time_scale is None else args.time_scale
    world = args.world or sandbox.demo_world(args.seed, tenants=args.tenants)
    with sandbox.serve(
        world, seed=args.seed, faults=faults, port=args.port, time_scale=scale
    ) as sb:
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
