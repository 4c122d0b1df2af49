"""Every public function has a complete numpydoc docstring: a one-line summary, Parameters
naming every parameter of its real signature, Returns, Raises (hotglue_nb's own exceptions),
and Examples that are Python for the real API (names and keywords that exist).

The keyword options that ``with_keywords`` shows in ``__signature__`` are documented under
"Other Parameters" (numpydoc's section for many keyword parameters): the docs site reads
the source, where they are ``**options``, and a Parameters entry for a name it cannot see in
the signature fails ``mkdocs build --strict``. The parameters written in the ``def`` must be
under Parameters itself. One ``**body_fields`` entry may stand for all request-body fields.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

import hotglue_nb as hg
from hotglue_nb._endpoints import LAUNCH_FIELDS

FUNCTIONS = sorted(name for name in hg.__all__ if inspect.isfunction(getattr(hg, name)))
EXCEPTIONS = {
    name for name in hg.__all__
    if isinstance(getattr(hg, name), type) and issubclass(getattr(hg, name), BaseException)
}  # fmt: skip
#: functions that raise nothing of hotglue_nb's own
RAISE_NOTHING = {"is_failed", "is_terminal", "last_run"}
#: what some functions must at least say they raise (read off their code)
MUST_RAISE = {
    "launch_jobs": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "write_records": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "wait_for_jobs": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "job_history": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "latest_jobs": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "check_tenants": {"ConfigError", "AuthenticationError", "LaunchInterrupted"},
    "read_tenants": {"TenantsFileError"},
}
BODY_ENTRY = "body_fields"
UNDERLINE = re.compile(r"-{3,}")


def sections(doc: str) -> tuple[list[str], dict[str, list[str]]]:
    """The lines before the first section, and each section's lines (numpydoc: a header
    underlined with as many dashes)."""
    lines = inspect.cleandoc(doc).splitlines()
    head: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] = head
    for n, line in enumerate(lines):
        if UNDERLINE.fullmatch(line.strip()) and n and lines[n - 1].strip() in found:
            continue
        below = lines[n + 1].strip() if n + 1 < len(lines) else ""
        if line.strip() and UNDERLINE.fullmatch(below):
            assert len(below) == len(line.strip()), f"underline of {line.strip()!r}"
            assert line.strip() not in found, f"section {line.strip()!r} twice"
            current = found[line.strip()] = []
            continue
        current.append(line)
    return head, found


def entries(lines: list[str]) -> dict[str, list[str]]:
    """``name, other : type`` entries of a section -> their description lines."""
    out: dict[str, list[str]] = {}
    description: list[str] = []
    for line in lines:
        if line.strip() and not line.startswith(" "):
            names = line.split(" : ", 1)[0]
            description = []
            for name in names.split(", "):
                out[name.strip().lstrip("*")] = description
        elif line.strip():
            description.append(line.strip())
    return out


def real_parameters(function: Callable[..., Any]) -> tuple[list[str], list[str]]:
    """The parameters of the ``def`` itself, and those ``with_keywords`` adds."""
    code = function.__code__
    written = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    shown = [name for name in inspect.signature(function).parameters if name not in written]
    return written, shown


def doc_of(name: str) -> tuple[list[str], dict[str, list[str]]]:
    function = getattr(hg, name)
    assert function.__doc__, f"hg.{name} has no docstring"
    return sections(function.__doc__)


def test_every_public_function_is_checked() -> None:
    assert {"launch_jobs", "read_tenants", "is_failed", "last_run"} <= set(FUNCTIONS)
    assert len(FUNCTIONS) == 33, FUNCTIONS


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_summary_is_one_line(name: str) -> None:
    head, _ = doc_of(name)
    assert head and head[0].strip(), f"hg.{name}: no summary"
    assert len(head) == 1 or not head[1].strip(), f"hg.{name}: the summary is not one line"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_parameter_is_documented(name: str) -> None:
    function = getattr(hg, name)
    _, found = doc_of(name)
    written, shown = real_parameters(function)
    documented = entries(found.get("Parameters", []))
    others = entries(found.get("Other Parameters", []))
    if written or shown:
        assert documented, f"hg.{name}: no Parameters"
    assert all(documented.values()), f"hg.{name}: a parameter without a description"
    assert all(others.values()), f"hg.{name}: an option without a description"
    missing = [p for p in written if p not in documented]
    assert not missing, f"hg.{name}: not under Parameters: {missing}"
    both = documented | others
    body = BODY_ENTRY in both
    missing = [p for p in shown if p not in both and not (body and p in LAUNCH_FIELDS)]
    assert not missing, f"hg.{name}: keyword options not documented: {missing}"
    stale = set(both) - set(written) - set(shown) - {BODY_ENTRY}
    assert not stale, f"hg.{name}: documents parameters it does not take: {stale}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_returns_are_documented(name: str) -> None:
    _, found = doc_of(name)
    returns = inspect.signature(getattr(hg, name)).return_annotation
    if returns in (None, "None"):
        return
    lines = [line for line in found.get("Returns", []) if line.strip()]
    assert len(lines) >= 2, f"hg.{name}: Returns needs a type and what it holds"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_raises_names_hotglue_exceptions(name: str) -> None:
    _, found = doc_of(name)
    raised = entries(found.get("Raises", []))
    if name in RAISE_NOTHING:
        assert not raised, f"hg.{name} raises nothing of its own"
        return
    assert raised, f"hg.{name}: no Raises section"
    assert all(raised.values()), f"hg.{name}: an exception without a reason"
    assert set(raised) <= EXCEPTIONS, f"hg.{name}: not hotglue_nb's: {set(raised) - EXCEPTIONS}"
    missing = MUST_RAISE.get(name, set()) - set(raised)
    assert not missing, f"hg.{name}: Raises leaves out {missing}"


def example_code(lines: list[str]) -> str:
    code = [line.strip()[4:] for line in lines if line.strip().startswith((">>> ", "... "))]
    code += [""] if code else []
    return "\n".join(code)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_examples_are_python_for_the_real_api(name: str) -> None:
    _, found = doc_of(name)
    code = example_code(found.get("Examples", []))
    assert code, f"hg.{name}: no Examples (>>> lines)"
    tree = ast.parse(code)  # a SyntaxError fails the test
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = _owner(node.value.id)
            if owner is not None and not hasattr(owner, node.attr):
                wrong.append(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            owner = _owner(target.id) if isinstance(target, ast.Name) else None
            function = getattr(owner, node.func.attr, None) if owner is not None else None
            if callable(function) and not isinstance(function, type):
                accepted = inspect.signature(function).parameters
                wrong += [f"{node.func.attr}({kw.arg}=)" for kw in node.keywords
                          if kw.arg is not None and kw.arg not in accepted]  # fmt: skip
    assert not wrong, f"hg.{name}'s examples use what does not exist: {wrong}"


def _owner(name: str) -> Any:
    """What a name in the examples stands for, when it is one of the package's."""
    if name == "hg":
        return hg
    if name in ("sandbox", "sb"):
        sandbox = pytest.importorskip("hotglue_nb.sandbox")
        return sandbox if name == "sandbox" else sandbox.Sandbox
    return None


def test_the_checks_catch_a_prose_docstring() -> None:
    """The parser is not fooled by prose: a docstring without sections has none."""

    def prose(tenants: Any, *, flow_id: str) -> int:
        """Launch the jobs.

        ``tenants`` is a frame; ``flow_id`` the flow. Raises ConfigError.
        """
        return 0

    head, found = sections(prose.__doc__ or "")
    assert head[0] == "Launch the jobs." and found == {}
    assert real_parameters(prose) == (["tenants", "flow_id"], [])
