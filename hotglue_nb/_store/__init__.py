"""The outcome store: job history kept between reads (``_sqlite``: ``Store`` on a SQLite
file), so it outlives the API's short job list."""

from ._keep import keeps_runs
from ._sqlite import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store", "keeps_runs"]
