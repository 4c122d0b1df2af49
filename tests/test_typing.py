"""After the README's ``pip install -e .``, a user's ``mypy --strict`` sees the package (an
import-hook editable install is invisible to static tools), from outside the clone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "typing" / "user_script.py"


def test_a_users_typed_script_checks_clean_from_outside_the_clone(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    shutil.copy(SCRIPT, script)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_a_type_mistake_in_that_script_is_caught(tmp_path: Path) -> None:
    """The check above is not vacuous: with the package seen, a wrong type is an error."""
    script = tmp_path / "analysis.py"
    text = SCRIPT.read_text().replace("tenants: list[str]", "tenants: list[int]")
    script.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1 and "list[int]" in done.stdout, done.stdout
