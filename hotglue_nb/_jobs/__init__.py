"""A job's life: plan the rows (``_plan``), prepare the run (``_prepare``, ``_resume``), send
it (``_send``: reconcile by name with ``_reconcile``), make its frame (``_rows``), follow the
jobs to their end (``_wait``, predicting with ``_eta``), and write records in batches
(``_write``, values as JSON by ``_records``; what became of each record: ``_refused``)."""

from ._prepare import prepare_launch
from ._refused import failed_records, record_fates
from ._send import execute_launch
from ._wait import execute_wait, prepare_wait
from ._write import DEFAULT_MAX_BYTES, interrupted_write, with_batches, write_plan

__all__ = [
    "DEFAULT_MAX_BYTES",
    "execute_launch",
    "execute_wait",
    "failed_records",
    "interrupted_write",
    "prepare_launch",
    "prepare_wait",
    "record_fates",
    "with_batches",
    "write_plan",
]
