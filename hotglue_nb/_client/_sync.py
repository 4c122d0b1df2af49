"""Hotglue: AsyncHotglue's methods made blocking, for scripts and Jupyter cells alike."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, Unpack

from .._config import MASK, Credentials
from ._async import AsyncHotglue, ClientOptions, SiblingOptions
from ._runner import run_sync

__all__ = ["Hotglue"]

T = TypeVar("T")
P = ParamSpec("P")


def _blocking(
    method: Callable[Concatenate[AsyncHotglue, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Hotglue, P], T]:
    """The blocking twin of an AsyncHotglue method (same signature and docstring)."""

    def call(self: Hotglue, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(method(self.aio, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


class Hotglue:
    """Blocking client with the same methods and parameters as AsyncHotglue.

    Works in scripts and inside Jupyter's running event loop: calls run on a dedicated
    event-loop thread, not by patching asyncio. Use as a context manager or call close().
    """

    def __init__(
        self,
        api_key: str | None = None,
        env_id: str | None = None,
        base_url: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.aio = AsyncHotglue(api_key, env_id, base_url, **options)

    @property
    def credentials(self) -> Credentials:
        return self.aio.credentials

    @property
    def env_id(self) -> str:
        return self.aio.env_id

    @property
    def base_url(self) -> str:
        return self.aio.base_url

    def __repr__(self) -> str:
        return f"Hotglue(env_id={self.env_id!r}, base_url={self.base_url!r}, api_key={MASK!r})"

    def __enter__(self) -> Hotglue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def with_options(self, **options: Unpack[SiblingOptions]) -> Hotglue:
        """A sibling sharing the connection pool (see AsyncHotglue.with_options)."""
        twin = copy.copy(self)
        twin.aio = self.aio.with_options(**options)
        return twin

    close = _blocking(AsyncHotglue.aclose)
    run_job = _blocking(AsyncHotglue.run_job)
    get_job_status = _blocking(AsyncHotglue.get_job_status)
    list_jobs = _blocking(AsyncHotglue.list_jobs)
    latest_job = _blocking(AsyncHotglue.latest_job)
    list_tenants = _blocking(AsyncHotglue.list_tenants)
    supported_flows = _blocking(AsyncHotglue.supported_flows)
    linked_sources = _blocking(AsyncHotglue.linked_sources)
    linked_connectors = _blocking(AsyncHotglue.linked_connectors)
    get_schedule = _blocking(AsyncHotglue.get_schedule)
    put_schedule = _blocking(AsyncHotglue.put_schedule)
    delete_schedule = _blocking(AsyncHotglue.delete_schedule)
    tenant_config = _blocking(AsyncHotglue.tenant_config)
    put_metadata = _blocking(AsyncHotglue.put_metadata)
    get_state = _blocking(AsyncHotglue.get_state)
    put_state = _blocking(AsyncHotglue.put_state)


# help() and Jupyter show the keywords themselves (the same as AsyncHotglue's), not **options
for _name in ("__init__", "with_options"):
    _method: Any = getattr(Hotglue, _name)
    _method.__signature__ = inspect.signature(getattr(AsyncHotglue, _name)).replace(
        return_annotation=inspect.signature(_method).return_annotation
    )
