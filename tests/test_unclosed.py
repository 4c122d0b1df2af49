"""No "Unclosed client session" from aiohttp on any path a user takes: a client collected
after a request that worked or raised, or still open when the process ends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "clients_left_open.py"


def run(*flags: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, str(SCRIPT)], capture_output=True, text=True, cwd=cwd,
        timeout=120,
    )  # fmt: skip


def test_clients_left_open_or_dropped_say_nothing_at_exit(tmp_path: Path) -> None:
    done = run(cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "end\n", done.stderr


def test_not_even_with_resource_warnings_on(tmp_path: Path) -> None:
    """aiohttp's own warnings stay silent; a socket of an async client whose loop ended
    with it open is Python's usual ResourceWarning (shown only with -W default)."""
    done = run("-W", "default", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Unclosed client session" not in done.stderr, done.stderr
    assert "Unclosed connector" not in done.stderr, done.stderr
