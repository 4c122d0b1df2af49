"""The local commands: ``sandbox`` (the emulator, whose own command line takes the arguments)
and ``demo`` (a bulk rerun rehearsed on the embedded sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._demo import run_demo

__all__ = ["SANDBOX_PROG", "add_local_commands", "run_sandbox"]

SANDBOX_PROG = "hotglue-nb sandbox"


def add_local_commands(commands: Any) -> None:
    sandbox = commands.add_parser(
        "sandbox", help="run the local hotglue emulator in the foreground", add_help=False
    )
    sandbox.set_defaults(run=lambda args: run_sandbox(args.passed_on), passes_on=True)
    demo = commands.add_parser("demo", help="rehearse a bulk rerun on the embedded sandbox")
    demo.add_argument("--out", type=Path, default=Path("hotglue-demo-results.csv"))
    demo.add_argument("--concurrency", type=int, default=16)
    demo.set_defaults(run=lambda args: run_demo(args.out, concurrency=args.concurrency))


def run_sandbox(arguments: list[str]) -> int:
    """``hotglue-nb sandbox ...`` is ``python -m hotglue_nb.sandbox ...`` (its own parser, its
    own help); loaded only when asked for, since the sandbox needs the [sandbox] extra."""
    from ..sandbox._main import main

    return main(arguments, prog=SANDBOX_PROG)
