"""Every code block of the README does what it says: the Python blocks run as pasted, in order,
in a fresh folder with no HOTGLUE_* variables, and print the ``text`` blocks shown after them;
the shell blocks are the demo (run), the test command (.ci/run's, verbatim) and installs of
extras that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [body for lang, body in BLOCK.findall(text) if lang == kind]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HOTGLUE_")}


def test_the_python_blocks_run_as_pasted_and_print_what_the_readme_shows(tmp_path: Path) -> None:
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks("python")), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
        env=_clean_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    shown = [line.rstrip() for body in blocks("text") for line in body.splitlines() if line]
    assert shown, "the README shows what its examples print"
    at = 0
    for line in shown:  # each shown line is printed, in the order shown
        assert line in printed[at:], f"README shows {line!r}; the code printed:\n{done.stdout}"
        at = printed.index(line, at) + 1
    assert "hg_live_wrong" not in done.stdout + done.stderr  # a wrong key is not shown either
    assert "Unclosed" not in done.stderr  # clients left open, as the blocks leave them


def test_the_test_command_is_what_ci_runs() -> None:
    command = next(b.strip() for b in blocks("bash") if "pytest" in b)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_extra_the_readme_installs_exists() -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"])  # fmt: skip
    named = {e for b in blocks("bash") for group in re.findall(r'"\.\[([\w,]+)\]"', b)
             for e in group.split(",")}  # fmt: skip
    assert named and named <= extras, named - extras


def test_the_demo_command_runs(tmp_path: Path) -> None:
    line = next(b for b in blocks("bash") if "hotglue-nb demo" in b)
    command = line.split("&&", 1)[1].split()  # the install part is this checkout's own
    assert command == ["hotglue-nb", "demo"]
    done = subprocess.run(
        [sys.executable, "-m", "hotglue_nb", *command[1:]], capture_output=True, text=True,
        cwd=tmp_path, env=_clean_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
