"""How strictly the sandbox plays hotglue's wire where nobody outside hotglue knows for sure.

Each switch names one open question of ``wire-evidence.md``; the defaults are the stricter
stage, the behaviour the evidence points to. The client is tested under both settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DEFAULT_LIST_CAP", "Wire"]

#: hotglue's widget shows the job list under "Showing last 5 jobs" [C-code]; the cap is [I]
DEFAULT_LIST_CAP = 5


@dataclass(frozen=True)
class Wire:
    """The sandbox's answers to the wire's open questions.

    Attributes
    ----------
    list_cap : int or None
        How many jobs ``GET .../jobs`` returns at most [I] (None: the whole history).
    list_order : {"newest", "oldest"}
        The job list's order [I: the widget draws it as it comes, newest on top].
    honour_count : bool
        Whether ``?count=N`` raises the cap to N [I: the CLI has ``--count``].
    v2_job_reads : {"unprefixed", "both"}
        Where V2 job status / list / latest are served: only on the un-prefixed paths, as
        hotglue's widget reads them [C-code], or also under ``/v2`` [I].
    undefined_route : {"gateway", "404"}
        A route hotglue does not have: API Gateway's 403 ``{"message": "Missing
        Authentication Token"}`` [I: AWS's convention], or a Chalice-style 404.
    supported_flows : {"all", "one_way"}
        Whether ``GET /{env}/flows/supported`` lists the two-way flows too [I].
    no_schedule : {"empty", "404"}
        ``GET .../jobs/schedule`` of a tenant without a schedule: 200 ``{}`` (what hotglue's
        schedule editor, which fails on any non-2xx, can show) or a 404 [I].
    metadata_put : {"replace", "merge"}
        ``PUT /tenant/{env}/{tenant}/metadata``: the body replaces the whole metadata (as
        hotglue's widget treats it, the strong inference) or is merged into it [I].
    """

    list_cap: int | None = DEFAULT_LIST_CAP
    list_order: Literal["newest", "oldest"] = "newest"
    honour_count: bool = False
    v2_job_reads: Literal["unprefixed", "both"] = "unprefixed"
    undefined_route: Literal["gateway", "404"] = "gateway"
    supported_flows: Literal["all", "one_way"] = "all"
    no_schedule: Literal["empty", "404"] = "empty"
    metadata_put: Literal["replace", "merge"] = "replace"

    def __post_init__(self) -> None:
        cap = self.list_cap
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"list_cap must be a whole number >= 1 or None, got {cap!r}")
        for name, allowed in (("list_order", ("newest", "oldest")),
                              ("v2_job_reads", ("unprefixed", "both")),
                              ("undefined_route", ("gateway", "404")),
                              ("supported_flows", ("all", "one_way")),
                              ("no_schedule", ("empty", "404")),
                              ("metadata_put", ("replace", "merge"))):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def build(cls, value: Wire | Mapping[str, Any] | None) -> Wire:
        """A Wire from a Wire, a dict of its fields, or None (the strict defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Wire):
            return value
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise ValueError(f"unknown wire switch {unknown[0]!r}; known: {sorted(names)}")
        return cls(**dict(value))

    def listed(self, jobs: list[Any], count: str | None) -> list[Any]:
        """The jobs a list answer shows: ordered, then capped (``count`` when honoured)."""
        ordered = list(reversed(jobs)) if self.list_order == "newest" else list(jobs)
        cap = self.list_cap
        if self.honour_count and count is not None and count.isdigit() and int(count) > 0:
            cap = int(count)
        if cap is None:
            return ordered
        return ordered[:cap] if self.list_order == "newest" else ordered[-cap:]
