"""The ``hotglue-nb`` command line, thin over the public API.

Credentials come from ``HOTGLUE_API_KEY`` / ``HOTGLUE_ENV_ID`` / ``HOTGLUE_BASE_URL`` (or
``--api-key-file``), never from a plain argument. Progress goes to stderr, summaries to
stdout. Bad input prints one clear line and exits 2, without a traceback; ``--out`` is
checked (format, folder) before anything is sent. Exit codes: 0 done, 1 some rows failed, 2
bad input (also a flow or env found missing after its first 404s), 3 the API refused the key
(the run stopped; what it did is in ``--out``), 130 interrupted. ``-`` as the tenants file
reads stdin; ``--out -`` writes the frame as CSV to stdout (the summary then goes to stderr).
Messages name the CLI's flags, never Python keywords. Ctrl-C writes what was done so far
(``--out``, else a file named after the run) and exits 130, in every command. ``launch`` and
``wait`` exit 0 only when every row was created/queued (with ``--wait``: succeeded).

One module per command group: ``_runs`` (launch, wait, status), ``_fleet`` (tenants,
history, health, check), ``_tenantops`` (schedules, metadata, state), ``_store`` (store sync,
runs, info), ``_local`` (sandbox, demo); ``_common`` holds what they share.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .._exceptions import HotglueError, LaunchInterrupted
from .._version import __version__
from ._common import check_out, cli_warnings, data_on_stdout, write_interrupted, write_stopped
from ._fleet import add_fleet_commands
from ._local import add_local_commands
from ._runs import add_run_commands
from ._store import add_store_commands
from ._tenantops import add_tenant_commands

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """Every parser: no abbreviated options (``--api-key`` must never be taken for
    ``--api-key-file``), defaults shown in help, and ``--api-key`` refused without its
    value ever being echoed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(**kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("help") is None and _meaningful(kwargs.get("default")):
            kwargs["help"] = "(default: %(default)s)"
        return super().add_argument(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        if any(a == "--api-key" or a.startswith("--api-key=") for a in given):
            self.exit(2, f"{self.prog}: error: the key is never a plain argument (it would be "
                      "in the shell's history and the process list): set HOTGLUE_API_KEY, or "
                      "pass --api-key-file FILE.\n")  # fmt: skip
        return super().parse_known_args(given, namespace)


def _meaningful(default: Any) -> bool:
    return default not in (None, False, "", [], argparse.SUPPRESS)


class _Help(argparse.HelpFormatter):
    """Help that says each option's default, when it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "%(default)" not in text and _meaningful(action.default) and action.option_strings:
            text += " (default: %(default)s)"
        return text


def _shown(rest: list[str]) -> str:
    """Unrecognized arguments, options by name only: a value may be a secret."""
    options = [a.split("=", 1)[0] for a in rest if a.startswith("-")]
    values = len(rest) - len(options)
    return " ".join(options) + (f" (and {values} value(s), not shown)" if values else "")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="hotglue-nb", description="Launch and follow hotglue jobs across many tenants."
    )
    parser.add_argument("--version", action="version", version=f"hotglue-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    add_run_commands(commands)
    add_fleet_commands(commands)
    add_tenant_commands(commands)
    add_store_commands(commands)
    add_local_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passes_on", False):
        parser.error(f"unrecognized arguments: {_shown(rest)}")
    args.passed_on = rest  # a command that hands its arguments on (sandbox) reads them here
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    out = getattr(args, "out", None)
    try:
        check_out(out)
        with cli_warnings(str(args.command)), data_on_stdout(out):
            code = run(args)
        sys.stdout.flush()  # here, so a reader that left (| head) is caught below
        return code
    except LaunchInterrupted as exc:  # a reading command (launch / wait handle their own)
        return write_interrupted(exc, out, str(args.command))
    except HotglueError as exc:  # bad input (2), or a run-wide stop (a refused key: 3)
        return write_stopped(exc, out, str(args.command))
    except BrokenPipeError:  # `hotglue-nb status run.jsonl | head`: the reader is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"hotglue-nb {args.command}: interrupted", file=sys.stderr)
        return 130
