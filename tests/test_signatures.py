"""Public signatures that help a notebook user: every keyword shown with its default (help(),
Jupyter's completion through jedi), named types instead of ``Any``."""

from __future__ import annotations

import inspect
import pydoc
from collections.abc import Callable, Iterator
from typing import Any, get_type_hints

import jedi
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import aio
from hotglue_nb._options import (
    LaunchOptions,
    ReadOptions,
    WaitOptions,
    launch_config,
    wait_config,
)

FAN_OUTS = {
    "launch_jobs": LaunchOptions,
    "write_records": LaunchOptions,
    "wait_for_jobs": WaitOptions,
    "job_history": ReadOptions,
    "latest_jobs": ReadOptions,
    "check_tenants": ReadOptions,
}


def fan_outs() -> Iterator[tuple[str, Callable[..., Any], type]]:
    for name, options in FAN_OUTS.items():
        yield f"hg.{name}", getattr(hg, name), options
        yield f"hg.aio.{name}", getattr(aio, name), options


@pytest.mark.parametrize(("label", "function", "options"), list(fan_outs()))
def test_every_option_is_a_keyword_of_the_signature(
    label: str, function: Callable[..., Any], options: type
) -> None:
    parameters = inspect.signature(function).parameters
    assert not [p for p in parameters.values() if p.kind is p.VAR_KEYWORD], label
    assert set(get_type_hints(options)) <= set(parameters), label
    keywords = [p for p in parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert {p.name for p in keywords} >= set(get_type_hints(options))


def test_the_defaults_shown_are_the_ones_used() -> None:
    launch = inspect.signature(hg.launch_jobs).parameters
    config, display, waiting = launch_config({})
    assert launch["concurrency"].default == config.concurrency == 8
    assert launch["max_attempts"].default == config.max_attempts
    assert launch["on_invalid"].default == "raise" and launch["progress"].default is True
    assert launch["poll_interval"].default == waiting.poll_interval
    assert launch["max_poll_interval"].default == waiting.max_poll_interval
    assert launch["override_start_date"].default is None  # a body field: not sent
    wait = inspect.signature(hg.wait_for_jobs).parameters
    waited, progress = wait_config({})
    assert wait["concurrency"].default == waited.concurrency == 16
    assert wait["poll_interval"].default == waited.poll_interval and progress is True
    assert inspect.signature(hg.job_history).parameters["concurrency"].default == 16


def test_help_shows_the_keywords_and_their_defaults() -> None:
    text = pydoc.render_doc(hg.launch_jobs, renderer=pydoc.plaintext)
    assert "concurrency: 'int' = 8" in text and "preflight: 'bool' = False" in text
    assert "**options" not in text
    text = pydoc.render_doc(hg.Hotglue.__init__, renderer=pydoc.plaintext)
    assert "max_retries: 'int' = 2" in text and "**options" not in text


@pytest.mark.parametrize(
    ("source", "offered"),
    [
        ("hg.launch_jobs(df, conc", "concurrency="),
        ("hg.launch_jobs(df, overr", "override_start_date="),
        ("hg.wait_for_jobs(df, poll_", "poll_interval="),
        ("hg.aio.launch_jobs(df, conc", "concurrency="),
        ("hg.job_history('flow', conn", "connector_id="),
        ("hg.write_records(df, object='Contact', batch", "batch_size="),
        ("hg.Hotglue(max_r", "max_retries="),
    ],
)
def test_jupyter_completion_offers_the_keywords(source: str, offered: str) -> None:
    """What IPython's completer asks jedi, with the live objects of a notebook."""
    namespace = {"hg": hg, "df": pd.DataFrame({"tenant": ["acme"]})}
    names = [c.name for c in jedi.Interpreter(source, [namespace]).complete()]
    assert offered in names, names


def public_callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    for name in hg.__all__:
        obj = getattr(hg, name)
        if inspect.isfunction(obj):
            yield f"hg.{name}", obj
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member, value in vars(obj).items():
                if callable(value) and (not member.startswith("_") or member == "__init__"):
                    yield f"hg.{name}.{member}", value
    for name in aio.__all__:
        yield f"hg.aio.{name}", getattr(aio, name)
    from hotglue_nb.widgets import OverridesForm

    for member in ("from_catalog", "from_frame", "from_api", "afrom_api"):
        yield f"OverridesForm.{member}", getattr(OverridesForm, member)


def test_no_public_signature_says_any() -> None:
    """Named types (``Tenants``, ``When``, ``Figure``...) tell a reader what to pass."""
    bare = []
    for label, function in public_callables():
        function = getattr(function, "__func__", function)
        for name, hint in getattr(function, "__annotations__", {}).items():
            if hint in ("Any", Any):
                bare.append(f"{label}: {name}")
    assert not bare, bare
