"""The one error tree of hotglue_nb.

```
HotglueError                      base; never raised directly
├── LaunchInterrupted             Ctrl-C during a run; ``.results`` holds the partial frame
├── JournalError                  the run journal could not be written (disk full...)
├── ConfigError (ValueError)      bad argument, missing credentials or unsafe id; raised early
│   └── TenantsFileError          a tenants spreadsheet has problems (all listed at once)
└── APIError                      the API or the network said no
    ├── APIConnectionError        no usable answer (connection refused, dropped, ...)
    │   └── APITimeoutError       the request timed out
    ├── APIResponseError          a success status with a body that could not be read
    └── APIStatusError            the API answered with an error status
        ├── BadRequestError       400
        ├── AuthenticationError   401, 403 (the key)
        ├── RouteError            403 for a route hotglue does not have (not the key)
        ├── NotFoundError         404
        ├── ConflictError         409
        ├── LockedError           423
        ├── RateLimitError        429
        └── ServerError           >= 500
```

Status codes map to classes in exactly one place: `make_status_error`. No message ever
contains the API key.
"""

from __future__ import annotations

import email.utils
import json
import os
import sysconfig
import time
import traceback
from collections.abc import Collection
from typing import Any

import httpx

from ._masking import mask, scrub, scrubbed

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "HotglueError",
    "HotglueWarning",
    "JournalError",
    "LaunchInterrupted",
    "LockedError",
    "NotFoundError",
    "RateLimitError",
    "RouteError",
    "ServerError",
    "TenantsFileError",
    "make_status_error",
    "mask",
    "parse_error_body",
    "scrub",
]

AUTH_HINT = "check the API key: api_key= or HOTGLUE_API_KEY, and its access to this env"
WRITE_HINT = (
    "reads with this key worked, so it may lack write permission (a read-only Viewer key "
    "cannot start jobs): use an Admin or Developer key, or the environment's secret key"
)
ROUTE_HINT = (
    "this is API Gateway's answer for a route it does not have, not a key problem: the "
    "path or method is not one hotglue serves; please report it to hotglue_nb"
)
OTHER_ROUTES_HINT = (
    "other calls with this key were answered, so this route was refused, not the key"
)
#: API Gateway's body for an undefined method + path [I: AWS's documented convention]
GATEWAY_NO_ROUTE = "Missing Authentication Token"
# certainly never sent: the connection was never made (refused, DNS, TLS), or no
# connection was free in time; the aiohttp transport maps its errors to these too
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


#: where frames are not the user's: this package, the standard library, installed packages
_NOT_USERS = tuple(
    {os.path.dirname(os.path.abspath(__file__))}
    | {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


class HotglueWarning(UserWarning):
    """Warned when hotglue_nb drops or changes something it was given (e.g. skipped rows)."""


class HotglueError(Exception):
    """Base class of every error raised by hotglue_nb."""

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only constructors: pickle the state, not the call
        return _restore, (type(self), self.args, self.__dict__)

    def _render_traceback_(self) -> list[str]:
        """In IPython/Jupyter: the caller's own line and the message, not a traceback
        through hotglue_nb's internals (plain Python keeps its usual traceback; so does
        IPython with ``HOTGLUE_TRACEBACK=1``)."""
        if os.environ.get("HOTGLUE_TRACEBACK"):
            return traceback.format_exception(self)
        lines = []
        for frame in traceback.extract_tb(self.__traceback__):
            if not frame.filename.startswith(_NOT_USERS):  # the user's code (a cell)
                where = f"  {frame.filename}, line {frame.lineno}, in {frame.name}"
                lines = [where + (f"\n    {frame.line}" if frame.line else "")]
        return [*lines, f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


def _restore(cls: type[HotglueError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class ConfigError(HotglueError, ValueError):
    """Raised for a bad argument or missing configuration: before anything is sent, or (a
    flow or environment that does not exist) after its first 404, carrying ``.results``."""


class TenantsFileError(ConfigError):
    """Raised when a tenants file has problems; ``.problems`` lists every one of them."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class LaunchInterrupted(HotglueError):
    """Raised when a run is interrupted (Ctrl-C, kernel interrupt, cancellation), in its
    launch or its wait phase (``phase``).

    ``results`` is the complete partial results frame: one row per input row; unsent rows
    are ``skipped``, rows in flight were reconciled or are ``unknown``; in the wait phase,
    every launched row with its job id and the last status seen. (The frame is also kept
    for ``hg.last_run()``, by the run that raises this.)
    """

    def __init__(self, results: Any, *, phase: str = "launch") -> None:
        super().__init__(_interrupted_message(results, phase))
        self.results = results
        self.phase = phase


def _interrupted_message(results: Any, phase: str) -> str:
    """What happened, where the partial results are, and how to go on."""
    try:
        counts = results["outcome"].value_counts().to_dict() if "outcome" in results else {}
        run_ids = list(results["run_id"].dropna().unique()) if "run_id" in results else []
        journal = results.attrs.get("journal")
    except (AttributeError, TypeError, KeyError):
        counts, run_ids, journal = {}, [], None
    done = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "nothing"
    run = f" of run {run_ids[0]}" if len(run_ids) == 1 else ""
    lines = [
        f"{phase} interrupted{run}: {done}.",
        "All rows (with every job id known): hg.last_run(), or this exception's .results.",
    ]
    if journal and phase == "launch":
        lines.append(f"Journal: {journal}; to send the rest: "
                     f"hg.launch_jobs(tenants, resume={str(journal)!r})")  # fmt: skip
    elif journal:
        lines.append(f"Journal: {journal}; hg.load_run({str(journal)!r}) rebuilds the run.")
    if phase == "wait":
        lines.append("To follow the jobs again: hg.wait_for_jobs(hg.last_run())")
    return "\n".join(lines)


class JournalError(HotglueError):
    """A run journal could not be written (disk full, quota, I/O error). A run that meets it
    stops sending and returns its results with ``attrs["journal_error"]``."""


class APIError(HotglueError):
    """Raised when a call to the API did not succeed.

    ``results``: when the error stopped a whole run (a refused key in ``launch_jobs`` /
    ``wait_for_jobs``), the run's frame as far as it got — every row, also kept for
    ``hg.last_run()``; else None.
    """

    def __init__(self, message: str, *, method: str, path: str, tenant: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.tenant = tenant
        self.results: Any = None


class APIConnectionError(APIError):
    """Raised when no usable answer came back (refused, reset, dropped, DNS...).

    ``maybe_sent`` is False only when the request certainly never reached the server
    (connect error, connect or pool timeout): the one case where re-sending a POST is safe.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        tenant: str | None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, tenant=tenant)
        self.maybe_sent = not isinstance(cause, _NOT_SENT)


class APITimeoutError(APIConnectionError):
    """Raised when the request timed out."""


class APIResponseError(APIError):
    """Raised when the API answered a success status with a body that cannot be read;
    ``empty`` when the body held nothing at all (empty, ``null`` or ``{}``)."""

    def __init__(
        self, message: str, *, method: str, path: str, tenant: str | None, status_code: int,
        empty: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(message, method=method, path=path, tenant=tenant)
        self.status_code = status_code
        self.empty = empty


class APIStatusError(APIError):
    """Raised when the API answered with an error status (4xx/5xx)."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        tenant: str | None,
        response: httpx.Response,
        body: Any,
        code: str | None,
        api_message: str,
    ) -> None:
        super().__init__(message, method=method, path=path, tenant=tenant)
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.code = code
        self.api_message = api_message
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


class BadRequestError(APIStatusError):
    """Raised on 400: the API refused the request (bad body, a job already running...)."""


class AuthenticationError(APIStatusError):
    """Raised on 401/403: the API key is wrong or lacks permission for this environment."""


class RouteError(APIStatusError):
    """Raised on a 403 that refuses a route, not the key: API Gateway's ``Missing
    Authentication Token`` (its answer for an undefined method and path [I]), or a 403
    without hotglue's own error body on a read while other calls with the key were answered.
    Never stops a run: the other rows' calls may well work."""


class NotFoundError(APIStatusError):
    """Raised on 404: unknown environment, flow, tenant or job."""


class ConflictError(APIStatusError):
    """Raised on 409."""


class LockedError(APIStatusError):
    """Raised on 423: the resource is locked; retried by hotglue's own SDK."""


class RateLimitError(APIStatusError):
    """Raised on 429: too many requests; see ``retry_after``."""


class ServerError(APIStatusError):
    """Raised on a 5xx answer."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    423: LockedError,
    429: RateLimitError,
}


def make_status_error(
    response: httpx.Response,
    *,
    method: str,
    path: str,
    tenant: str | None,
    secret: str = "",
    answered: Collection[str] = (),
) -> APIStatusError:
    """Map an error response (any status but 2xx) to its exception class: the one place
    that does it. ``secret`` (the API key) is masked wherever the answer echoes it;
    ``answered`` holds the methods that have already succeeded with this key (a 403 on one
    route while others answer is not the key's fault)."""
    response = scrubbed(response, secret)
    status = response.status_code
    body, code, api_message = parse_error_body(response)
    cls, hint = _classify(status, method, code, api_message, answered)
    where = f" (tenant={tenant!r})" if tenant is not None else ""
    reason = response.reason_phrase or ""
    text = f"{method} {path} -> {status} {reason}{where}: {api_message or '(no message)'}"
    if hint:
        text += f" ({hint})"
    return cls(
        text,
        method=method,
        path=path,
        tenant=tenant,
        response=response,
        body=body,
        code=code,
        api_message=api_message,
    )


def _classify(
    status: int, method: str, code: str | None, api_message: str, answered: Collection[str]
) -> tuple[type[APIStatusError], str]:
    """The class and hint of an error status. A 401, or a 403 with hotglue's own (Chalice)
    body, is the key; a 403 naming no route, or refusing a read while other calls worked,
    is the route; a refused write while reads worked hints at a read-only key."""
    if status == 403 and code is None:
        if api_message == GATEWAY_NO_ROUTE:
            return RouteError, ROUTE_HINT
        if method == "GET" and answered:
            return RouteError, OTHER_ROUTES_HINT
    if status in (401, 403):
        writes = method != "GET" and "GET" in answered
        return AuthenticationError, WRITE_HINT if writes else AUTH_HINT
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls, ""


def parse_error_body(response: httpx.Response) -> tuple[Any, str | None, str]:
    """Read a Chalice ``{"Code", "Message"}`` body, an API Gateway ``{"message"}`` or text."""
    text = response.text
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return text, None, text.strip()[:500]
    if not isinstance(body, dict):
        return body, None, "" if body is None else str(body)[:500]
    code = body.get("Code")
    message = body.get("Message", body.get("message", body.get("error", "")))
    message = str(message or "").removeprefix("ChaliceViewError:").strip()
    return body, (str(code) if code else None), message


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110)."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
