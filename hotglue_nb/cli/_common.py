"""What every ``hotglue-nb`` command shares: the connection flags and the credentials they
give, the progress bar on stderr, the run report, writing a frame, and Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from .._analysis import failures, summarize
from .._exceptions import AuthenticationError, ConfigError, HotglueError, LaunchInterrupted
from .._files import FORMATS, export_results
from .._tenants import read_tenants
from .._types import ProgressChoice
from ._terms import in_cli_terms

__all__ = [
    "JSON_HELP",
    "add_connection_flags",
    "body_sets",
    "check_out",
    "cli_warnings",
    "credentials",
    "data_on_stdout",
    "emit_json",
    "report",
    "stderr_bar",
    "tenants_file",
    "write_frame",
    "write_interrupted",
    "write_stopped",
]


def add_connection_flags(cmd: argparse.ArgumentParser) -> None:
    """``--env``, ``--base-url`` and ``--api-key-file`` (the key never as a plain argument)."""
    cmd.add_argument("--env", help="env id (else HOTGLUE_ENV_ID)")
    cmd.add_argument("--base-url", help="API base URL (else HOTGLUE_BASE_URL or the default)")
    cmd.add_argument(
        "--api-key-file", type=Path, help="a file holding the key (else HOTGLUE_API_KEY)"
    )
    shown = cmd.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="no progress bar")
    shown.add_argument("--progress", action="store_true",
                       help="a progress bar even when stderr is not a terminal")  # fmt: skip


def credentials(args: argparse.Namespace) -> dict[str, Any]:
    """The connection keywords the flags give (the rest falls back to HOTGLUE_*)."""
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


def body_sets(items: list[str]) -> dict[str, Any]:
    """``--set FIELD=VALUE`` items as body defaults (a value is JSON when it parses)."""
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


def stderr_bar(args: argparse.Namespace | None = None) -> ProgressChoice:
    """A text progress bar on stderr (stdout is for summaries) — only when stderr is a
    terminal, so logs get no carriage-return frames; ``--quiet`` turns it off, ``--progress``
    on even in a log."""
    from functools import partial

    from tqdm import tqdm

    if getattr(args, "quiet", False):
        return False
    forced = bool(getattr(args, "progress", False))  # else None: tqdm asks isatty()
    return partial(tqdm, file=sys.stderr, mininterval=0.5, disable=False if forced else None)


def check_out(out: Path | None) -> None:
    """Every command's ``--out``, checked before anything is sent: a format ``export_results``
    writes, in a folder that exists (made when missing)."""
    if out is None or is_stdout(out):
        return
    if out.suffix.lower() not in FORMATS:
        raise ConfigError(f"--out {out}: save as one of {', '.join(FORMATS)} "
                          f"(e.g. --out {out.with_suffix('.csv')}).")  # fmt: skip
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot make its folder: {exc.strerror}.") from None
    if out.is_dir() or not os.access(out.parent, os.W_OK):
        raise ConfigError(f"--out {out}: cannot write there (a folder, or no permission); "
                          "choose another file.")  # fmt: skip


def write_interrupted(exc: LaunchInterrupted, out: Path | None, command: str) -> int:
    """Ctrl-C, in every command: what was done so far goes to a file (``--out``, else one
    named after the run or the command), and the exit code is 130."""
    frame = exc.results
    if not isinstance(frame, pd.DataFrame) or "outcome" not in frame:
        return _read_interrupted(frame, out, command)
    run_ids: Any = frame["run_id"].dropna().unique() if "run_id" in frame else []
    target = out or Path(f"hotglue-interrupted-{run_ids[0] if len(run_ids) else 'run'}.csv")
    save(frame, target)
    print(summarize(frame), file=_talk(target))
    journal = frame.attrs.get("journal")
    print(f"hotglue-nb {command}: interrupted during the {exc.phase}; partial results (every "
          f"row) written to {target}", file=sys.stderr)  # fmt: skip
    if journal and exc.phase == "launch":
        print(f"continue with: hotglue-nb launch FILE --resume {journal}", file=sys.stderr)
    elif exc.phase == "wait":
        print(f"follow the jobs again with: hotglue-nb wait {target}", file=sys.stderr)
    return 130


def write_stopped(exc: HotglueError, out: Path | None, command: str) -> int:
    """An error in the CLI's terms (its flags, not Python keywords) and its exit code: 3 when
    the API refused the key, else 2. A run it stopped (``exc.results``) is written to
    ``--out`` first, so nothing done before it is lost."""
    print(f"hotglue-nb {command}: error: {in_cli_terms(str(exc))}", file=sys.stderr)
    refused = isinstance(exc, AuthenticationError)
    if refused:
        print("the API refused the key: check HOTGLUE_API_KEY / --api-key-file and the key's "
              "access to this env (--env)", file=sys.stderr)  # fmt: skip
    frame = getattr(exc, "results", None)
    if isinstance(frame, pd.DataFrame) and out is not None:
        save(frame, out)
        print(f"what was done before it stopped ({len(frame)} rows) written to {out}",
              file=sys.stderr)  # fmt: skip
    return 3 if refused else 2


def _read_interrupted(frame: Any, out: Path | None, command: str) -> int:
    """A reading command interrupted: the rows read so far are written, the rest is not."""
    if not isinstance(frame, pd.DataFrame):
        print(f"hotglue-nb {command}: interrupted", file=sys.stderr)
        return 130
    target = out or Path(f"hotglue-interrupted-{command}.csv")
    save(frame, target)
    tenants = frame["tenant"].nunique() if "tenant" in frame else len(frame)
    print(f"hotglue-nb {command}: interrupted; what was read so far ({len(frame)} rows, "
          f"{tenants} tenants) written to {target}; run the command again for all of it.",
          file=sys.stderr)  # fmt: skip
    return 130


def report(results: pd.DataFrame, out: Path | None, *, waited: bool, dry_run: bool) -> int:
    """Write (``--out``) and summarise a run; the exit code: 0 when every row was created or
    queued (and, waited for, succeeded)."""
    talk = _talk(out)
    if out is not None:
        save(results, out)
    print(summarize(results), file=talk)
    problems = failures(results)
    if len(problems):
        print("\nProblems, grouped by message:", file=talk)
        print(problems.to_string(index=False, max_colwidth=80), file=talk)
    if out is not None and not is_stdout(out):
        print(f"\nResults: {out}", file=talk)
    if dry_run:
        return 0
    ok = bool(results["outcome"].isin(["created", "queued"]).all())
    if waited and "succeeded" in results:
        ok = ok and bool(results["succeeded"].fillna(False).all())
    return 0 if ok else 1


JSON_HELP = "print the frame as JSON lines on stdout (one object per row), no tables"


def emit_json(frame: pd.DataFrame, out: Path | None) -> int:
    """``--json``: one JSON object per row on stdout (times ISO-8601 UTC, missing values
    null), for ``jq`` and scripts; ``--out`` is still written."""
    if out is not None:
        save(frame, out)
    if len(frame) and not is_stdout(out):
        text = frame.reset_index(drop=True).to_json(orient="records", lines=True,
                                                    date_format="iso", date_unit="s")  # fmt: skip
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def write_frame(frame: pd.DataFrame, out: Path | None, note: str = "") -> None:
    """``--out`` of a reading command."""
    if out is not None:
        save(frame, out)
    if out is not None and not is_stdout(out):
        print(f"\nWritten: {out}{note}")


def is_stdout(out: Path | None) -> bool:
    return out is not None and str(out) == "-"


_DATA: list[TextIO] = []  # the real stdout while ``--out -`` sends the human text to stderr


@contextlib.contextmanager
def data_on_stdout(out: Path | None) -> Iterator[None]:
    """``--out -``: stdout carries the frame (CSV) only; what is said to people goes to
    stderr meanwhile, so ``hotglue-nb health ... --out - | hotglue-nb launch -`` works."""
    if not is_stdout(out):
        yield
        return
    _DATA.append(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _DATA.pop()


def _talk(out: Path | None) -> TextIO:
    return sys.stderr if is_stdout(out) else sys.stdout


def save(frame: pd.DataFrame, out: Path) -> None:
    """``export_results`` to ``out``; ``-`` is stdout, as the CSV it would write."""
    if not is_stdout(out):
        export_results(frame, out)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.csv"
        export_results(frame, path)
        stream = _DATA[-1] if _DATA else sys.stdout
        stream.write(path.read_bytes().decode("utf-8"))
        stream.flush()


def tenants_file(args: argparse.Namespace, **options: Any) -> pd.DataFrame:
    """The command's tenants file (``-``: CSV on stdin) with ``--sheet`` / ``--tenant-column``."""
    source: Any = args.file
    if str(args.file) == "-":
        source = io.BytesIO(sys.stdin.buffer.read())
    return read_tenants(source, sheet=getattr(args, "sheet", None),
                        tenant_column=getattr(args, "tenant_column", None), **options)  # fmt: skip


@contextlib.contextmanager
def cli_warnings(command: str) -> Iterator[None]:
    """The library's warnings as one line each, in the CLI's terms (no Python source line)."""

    def show(message: Any, category: Any, *_: Any, **__: Any) -> None:
        print(f"hotglue-nb {command}: warning: {in_cli_terms(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
