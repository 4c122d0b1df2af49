"""The fleet view's reads: every tenant's jobs, latest job or link health, on the fan-out
engine, and the frames they make (``_reads`` -> ``_tables`` / ``_preflight``; ``_calls``
bundles each public read for the blocking and async front ends)."""

from ._calls import Call, check_call, history_call, latest_call
from ._preflight import check_reads, preflight_reasons
from ._reads import Read, execute_reads
from ._tables import warn_cut_short

__all__ = [
    "Call",
    "Read",
    "check_call",
    "check_reads",
    "execute_reads",
    "history_call",
    "latest_call",
    "preflight_reasons",
    "warn_cut_short",
]
