"""Signatures a notebook user can read: the keys of an options TypedDict shown as
keyword-only parameters with their defaults, in ``help()`` and in Jupyter's completion
(both read ``__signature__``), while mypy keeps checking ``**options: Unpack[...]``."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_type_hints

from ._endpoints import LAUNCH_FIELDS
from ._options import (
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    Display,
    LaunchConfig,
    WaitConfig,
)

__all__ = ["LAUNCH_DEFAULTS", "READ_DEFAULTS", "WAIT_DEFAULTS", "with_keywords"]


def _defaults(*configs: type) -> dict[str, Any]:
    return {f.name: f.default for c in configs for f in dataclasses.fields(c)
            if f.default is not dataclasses.MISSING}  # fmt: skip


#: what each option means when it is left out, as help() and Jupyter show it (read off the
#: configs, so they cannot drift); an option not named here (a body field, a connection
#: keyword) is None: not sent / from HOTGLUE_*
LAUNCH_DEFAULTS: dict[str, Any] = {
    **_defaults(LaunchConfig, Display), "poll_interval": DEFAULT_POLL_INTERVAL,
    "max_poll_interval": DEFAULT_MAX_POLL_INTERVAL,
}  # fmt: skip
WAIT_DEFAULTS: dict[str, Any] = {**_defaults(WaitConfig), "progress": True}
READ_DEFAULTS: dict[str, Any] = {
    k: WAIT_DEFAULTS[k] for k in ("concurrency", "rate_limit", "progress", "clock", "sleep")
}
F = TypeVar("F", bound=Callable[..., Any])


def with_keywords(options: type, defaults: Mapping[str, Any]) -> Callable[[F], F]:
    """Show the keys of ``options`` (a TypedDict) as keyword-only parameters with their
    defaults, in ``help()`` and in Jupyter's completion (both read ``__signature__``); the
    static ``**options: Unpack[...]`` stays what mypy checks."""
    hints = get_type_hints(options)

    def show(function: F) -> F:
        signature = inspect.signature(function)
        given = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        names = {p.name for p in given}
        keywords = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(name),
                annotation=_shown(name, hint),
            )  # fmt: skip
            for name, hint in hints.items()
            if name not in names
        ]
        keywords.sort(key=lambda p: (p.name in LAUNCH_FIELDS, p.name != "flow_id"))  # body last
        function.__signature__ = signature.replace(parameters=[*given, *keywords])  # type: ignore[attr-defined]
        return function

    return show


#: a body field as a user may give it (see _endpoints.coerce_field)
_FIELD_TYPES = {"object": "dict | str", "date-time": "datetime | date | str", "boolean": "bool",
                "string": "str"}  # fmt: skip


def _shown(name: str, hint: Any) -> str:
    """A type as a reader would write it: short names, body fields by what they accept."""
    if name in LAUNCH_FIELDS:
        return _FIELD_TYPES[LAUNCH_FIELDS[name]]
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", inspect.formatannotation(hint))
