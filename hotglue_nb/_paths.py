"""Build API paths so that every id travels as exactly one path segment."""

from __future__ import annotations

from urllib.parse import quote

from ._exceptions import ConfigError

__all__ = ["api_path", "segment"]

_REFUSED = {"", ".", ".."}


def segment(value: object, what: str) -> str:
    """Percent-encode one id as a single path segment; refuse ids that cannot be one."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__} {value!r}.")
    text = str(value)
    if text.strip() in _REFUSED or text != text.strip():
        raise ConfigError(
            f"{what} {text!r} cannot be used: ids must be non-empty, without surrounding "
            "spaces, and not '.' or '..'."
        )
    return quote(text, safe="")


def api_path(*parts: tuple[object, str] | str) -> str:
    """Join literal parts and ``(value, what)`` ids into an absolute path."""
    out = [p if isinstance(p, str) else segment(*p) for p in parts]
    return "/" + "/".join(out)
