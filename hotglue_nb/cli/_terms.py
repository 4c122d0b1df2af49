"""The library's messages in the CLI's terms: a keyword the message names (``flow_id=``)
becomes the flag that sets it (``--flow``), so no error names an argument the CLI lacks."""

from __future__ import annotations

import re

__all__ = ["FLAGS", "in_cli_terms"]

#: Python keyword -> the CLI flag (or environment variable) that sets it
FLAGS = {
    "flow_id": "--flow", "env_id": "--env", "api_key": "--api-key-file",
    "base_url": "--base-url", "concurrency": "--concurrency", "rate_limit": "--rate-limit",
    "max_attempts": "--max-attempts", "timeout": "--timeout", "wait_timeout": "--wait-timeout",
    "poll_interval": "--poll-interval", "journal": "--journal", "resume": "--resume",
    "dry_run": "--dry-run", "on_invalid": "--skip-invalid", "sheet": "--sheet",
    "tenant_column": "--tenant-column", "preflight_allow": "--check-allow",
    "preflight": "--check", "count": "--count", "since": "--since", "until": "--until",
    "backup_state": "--backup-state", "store": "--store", "overwrite": "--overwrite",
    "third_party": "--third-party",
}  # fmt: skip
_KEYWORD = re.compile(r"(?<![\w.-])(" + "|".join(FLAGS) + r")=(?!=)(\S?)")


def in_cli_terms(text: str) -> str:
    """``text`` with each ``keyword=`` it names replaced by its flag (``flow_id='x'`` reads
    ``--flow 'x'``); body fields (``--set FIELD=VALUE``) and other text are left alone."""

    def flag(match: re.Match[str]) -> str:
        value = match.group(2)
        shown = FLAGS[match.group(1)]
        return f"{shown} {value}" if value and value not in " ,;)/" else shown + value

    return _KEYWORD.sub(flag, text)
