"""The ``hotglue-nb`` command line, thin over the public API.

Credentials come from ``HOTGLUE_API_KEY`` / ``HOTGLUE_ENV_ID`` / ``HOTGLUE_BASE_URL`` (or
``--api-key-file``), never from a plain argument. Progress goes to stderr, summaries to
stdout. Bad input prints one clear line and exits 2, without a traceback; ``--out`` is
checked (format, folder) before anything is sent. Ctrl-C writes what was done so far
(``--out``, else a file named after the run) and exits 130, in every command. ``launch`` and
``wait`` exit 0 only when every row was created/queued (with ``--wait``: succeeded).

One module per command group: ``_runs`` (launch, wait, status), ``_fleet`` (tenants,
history, health, check), ``_local`` (sandbox, demo); ``_common`` holds what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .._exceptions import HotglueError, LaunchInterrupted
from .._version import __version__
from ._common import check_out, write_interrupted
from ._fleet import add_fleet_commands
from ._local import add_local_commands
from ._runs import add_run_commands

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotglue-nb", description="Launch and follow hotglue jobs across many tenants."
    )
    parser.add_argument("--version", action="version", version=f"hotglue-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_commands(commands)
    add_fleet_commands(commands)
    add_local_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passes_on", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.passed_on = rest  # a command that hands its arguments on (sandbox) reads them here
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        check_out(getattr(args, "out", None))
        return run(args)
    except LaunchInterrupted as exc:  # a reading command (launch / wait handle their own)
        return write_interrupted(exc, getattr(args, "out", None), str(args.command))
    except HotglueError as exc:
        print(f"hotglue-nb {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hotglue-nb {args.command}: interrupted", file=sys.stderr)
        return 130
