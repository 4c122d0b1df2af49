"""Analysis, pure pandas: frame -> frame (or figure). Health, triage, comparison, a run's
report and plots; imports nothing but the vocabulary, so it works on any frame of the right
columns (a read, an export read back, a store)."""

from ._compare import compare
from ._health import PROBLEMS, fleet_health
from ._plots import plot_history, plot_outcomes
from ._report import Summary, retry_frame, summarize
from ._triage import failure_signatures, failures, problem_kind, signature

__all__ = [
    "PROBLEMS",
    "Summary",
    "compare",
    "failure_signatures",
    "failures",
    "fleet_health",
    "plot_history",
    "plot_outcomes",
    "problem_kind",
    "retry_frame",
    "signature",
    "summarize",
]
