"""Defaults, environment-variable names and credential resolution.

Environment variables are read only here, when a client is constructed.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._exceptions import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DORMANT_DAYS",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_ENV_ID",
    "ENV_TRANSPORT",
    "MASK",
    "Credentials",
    "resolve_credentials",
    "resolve_target",
]

ENV_API_KEY = "HOTGLUE_API_KEY"
ENV_ENV_ID = "HOTGLUE_ENV_ID"
ENV_BASE_URL = "HOTGLUE_BASE_URL"
ENV_TRANSPORT = "HOTGLUE_TRANSPORT"  # "aiohttp" (default) or "httpx"

DEFAULT_BASE_URL = "https://api.hotglue.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_MAX_RETRIES = 2
DORMANT_DAYS = 30  # hotglue bills a tenant that ran a sync in the last 30 days as active [C]
MASK = "********"
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: what an x-api-key can carry


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to call the API. The key never shows in the repr."""

    api_key: str = field(repr=False)
    env_id: str
    base_url: str

    def __repr__(self) -> str:
        return f"Credentials(env_id={self.env_id!r}, base_url={self.base_url!r}, api_key={MASK!r})"


def resolve_credentials(
    api_key: str | None = None,
    env_id: str | None = None,
    base_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Arguments first, then ``HOTGLUE_*`` variables, else a ConfigError naming the variable."""
    env = os.environ if environ is None else environ
    key = _pick(api_key, env, ENV_API_KEY, "api_key")
    if not _HEADER_SAFE.match(key):
        raise ConfigError(
            "api_key contains a line break, a space or a character an HTTP header cannot carry "
            "(a key file with two lines?): fix the key (it is not shown here)."
        )
    env_id_value, url = resolve_target(env_id, base_url, environ=env)
    return Credentials(api_key=key, env_id=env_id_value, base_url=url)


def resolve_target(
    env_id: str | None = None,
    base_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The env id and base URL alone (a dry run needs no key)."""
    env = os.environ if environ is None else environ
    url = base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return _pick(env_id, env, ENV_ENV_ID, "env_id"), check_base_url(url)


def _pick(value: str | None, env: Mapping[str, str], var: str, arg: str) -> str:
    chosen = value if value is not None else env.get(var)
    if chosen is None or not str(chosen).strip():
        raise ConfigError(f"Missing {arg}: pass {arg}=... or set the {var} environment variable.")
    if not isinstance(chosen, str):
        raise ConfigError(f"{arg} must be a string, got {type(chosen).__name__}.")
    return chosen.strip()


def check_base_url(url: str) -> str:
    """Refuse anything but https, except plain http to a loopback host (the sandbox)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base_url {url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL!r}.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"base_url {url!r} uses plain http: the API key would travel unencrypted. "
            "Use https (plain http is allowed only for 127.0.0.1/localhost)."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"base_url {url!r} must not carry a query or fragment.")
    return url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
