"""A keyword nobody takes: one message for every public function, in Python's own words
(``launch_jobs() got an unexpected keyword argument ...``), with the nearest names among the
function's options *and* the request-body fields, and the usual mix-ups named."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ._endpoints import LAUNCH_FIELDS

__all__ = ["CONNECTION_KEYS", "unexpected_keyword"]

CONNECTION_KEYS = ("api_key", "env_id", "base_url", "client")

#: names people reach for, and the one this package uses
_ALIASES = {
    "flow": "flow_id", "env": "env_id", "environment": "env_id", "key": "api_key",
    "apikey": "api_key", "url": "base_url", "tenant_column": "tenants (a frame with 'tenant')",
    "workers": "concurrency", "parallel": "concurrency", "rate": "rate_limit",
    "retries": "max_attempts", "poll": "poll_interval",
}  # fmt: skip


def unexpected_keyword(function: str, name: str, options: Iterable[str], body: bool = False) -> str:
    """The message for ``function(name=...)``: did-you-mean over ``options`` (and, when the
    function sends a request body, its fields), then every name it takes."""
    names = sorted({*options, *CONNECTION_KEYS})
    if name == "wait_timeout" and "wait_timeout" not in names:
        return (f"{function}() takes timeout= (overall seconds); wait_timeout= is "
                "launch_jobs(wait=True)'s name for it.")  # fmt: skip
    fields = list(LAUNCH_FIELDS) if body else []
    near = _ALIASES.get(name.lower())
    if near is None:
        close = difflib.get_close_matches(name, [*names, *fields], n=1, cutoff=0.6)
        near = close[0] if close else None
    text = f"{function}() got an unexpected keyword argument {name!r}"
    text += (
        f" — did you mean {near}=?"
        if near and "(" not in near
        else (f" — did you mean {near}?" if near else ".")
    )
    text += f"\nIts options: {', '.join(names)}."
    if fields:
        text += f"\nRequest-body fields (sent as given to every row): {', '.join(fields)}."
    return text
