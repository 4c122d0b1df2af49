"""The outcome store: job history and runs kept between reads (``_store``: ``Store``;
``_engine``: a SQLite file, or PostgreSQL through ``_postgres``), so history outlives the
API's short job list."""

from .._fleet._public import job_history as _read_history
from ._keep import keeps_runs, reads_store
from ._store import SCHEMA_VERSION, Store

#: ``hg.job_history``: the fleet read, with ``store=``
job_history = reads_store(_read_history)

__all__ = ["SCHEMA_VERSION", "Store", "job_history", "keeps_runs", "reads_store"]
