"""A job's life: plan the rows (``_plan``), prepare the run (``_prepare``, ``_resume``), send
it (``_send``: reconcile by name with ``_reconcile``), make its frame (``_rows``), follow the
jobs to their end (``_wait``, predicting with ``_eta``), and write records in batches
(``_write``)."""

from ._prepare import prepare_launch
from ._refused import failed_records
from ._send import execute_launch
from ._wait import execute_wait, prepare_wait
from ._write import DEFAULT_MAX_BYTES, with_batches, write_plan

__all__ = [
    "DEFAULT_MAX_BYTES",
    "execute_launch",
    "execute_wait",
    "failed_records",
    "prepare_launch",
    "prepare_wait",
    "with_batches",
    "write_plan",
]
