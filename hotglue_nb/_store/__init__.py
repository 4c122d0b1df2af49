"""The outcome store: job history and runs kept between reads (``_store``: ``Store``;
``_engine``: a SQLite file, or PostgreSQL through ``_postgres``), so history outlives the
API's short job list."""

from ._keep import keeps_runs
from ._store import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store", "keeps_runs"]
