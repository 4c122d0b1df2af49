"""The sandbox's own command line: ``python -m hotglue_nb.sandbox`` (``hotglue-nb sandbox``
hands its arguments here). Runs the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

from ._faults import FaultPlan
from ._jobs import DEFAULT_TIME_SCALE
from ._serve import serve
from ._wire import DEFAULT_LIST_CAP, Wire
from ._world import World, demo_world

__all__ = ["build_parser", "main"]


def build_parser(prog: str = "python -m hotglue_nb.sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run the local hotglue emulator in the foreground.",
        allow_abbrev=False,
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the demo world and faults")
    parser.add_argument("--world", help="a world JSON file instead of the demo world")
    parser.add_argument("--tenants", type=int, default=240, help="tenants in the demo world")
    parser.add_argument(
        "--faults", default="",
        help="e.g. 'rate_limit=50,server_error=0.05,latency=0.25' (see sandbox.Faults), or "
        'JSON with per-tenant entries: \'{"*": {...}, "acme": {"throttle_first": 2}}\'',
    )  # fmt: skip
    parser.add_argument("--time-scale", type=float, help="job duration scale (1 = ~3 minutes)")
    parser.add_argument(
        "--history-days", type=int, default=0, help="a seeded past of daily jobs (e.g. 30)"
    )
    parser.add_argument(
        "--list-cap", default=str(DEFAULT_LIST_CAP), metavar="N|none",
        help=f"jobs a job list returns at most, newest first (default {DEFAULT_LIST_CAP}, "
        "as hotglue's widget shows; 'none': the whole history)",
    )  # fmt: skip
    return parser


def _list_cap(parser: argparse.ArgumentParser, text: str) -> int | None:
    if text.strip().lower() == "none":
        return None
    if not text.strip().isdigit() or int(text) < 1:
        parser.error(f"--list-cap: give a whole number >= 1 or 'none', got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Serve until Ctrl-C (exit 0); a bad argument exits 2 with one line naming it."""
    parser = build_parser(prog) if prog else build_parser()
    args = parser.parse_args(argv)
    try:
        text = args.faults.strip()
        faults = FaultPlan.build(json.loads(text) if text.startswith("{") else text, args.seed)
    except (ValueError, TypeError) as exc:
        parser.error(f"--faults: {exc}")
    try:
        world = (
            World.load(args.world) if args.world else demo_world(args.seed, tenants=args.tenants)
        )
    except (OSError, ValueError, TypeError, KeyError) as exc:
        parser.error(f"--world: cannot read {args.world}: {exc}")
    scale = DEFAULT_TIME_SCALE if args.time_scale is None else args.time_scale
    options = {"seed": args.seed, "faults": faults, "port": args.port, "time_scale": scale,
               "history_days": args.history_days,
               "wire": Wire(list_cap=_list_cap(parser, args.list_cap))}  # fmt: skip
    with serve(world, **options) as sb:
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
