"""The API client: ``AsyncHotglue`` (``_async``, one method per endpoint) and its blocking
twin ``Hotglue`` (``_sync``); the pool (``_pool``) and the default transport
(``_transport``: httpx's API over aiohttp); what a failure proves and the one back-off rule
(``_retry``); a run's shared pace (``_pacing``); running coroutines from blocking code
(``_runner``, and the opt-in ``_nest``).

Usage:
    >>> Hotglue().list_tenants()                       # blocking; also inside Jupyter
"""

from ._async import AsyncHotglue
from ._nest import run_nested
from ._runner import run_sync
from ._sync import Hotglue

__all__ = ["AsyncHotglue", "Hotglue", "run_nested", "run_sync"]
