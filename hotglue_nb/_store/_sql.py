"""What the store's engines share: the ``Database`` and ``Writer`` they offer, and the one
upsert statement both SQLite (>= 3.24) and PostgreSQL speak."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Database", "Query", "Rows", "Writer", "upsert"]

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Query:
    """A ``SELECT`` read a column at a time: each of ``names`` comes back as one list (the
    engine aggregates each column into one JSON array, which Python parses in C: no tuple
    per row). ``floats`` are sent as exact text; ``jsons`` hold JSON text, parsed."""

    sql: str
    names: tuple[str, ...]
    floats: frozenset[str] = frozenset()
    jsons: frozenset[str] = frozenset()


class Writer(Protocol):
    """The statements of one write transaction."""

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows: ...

    def run(self, sql: str, args: Sequence[Any] = ()) -> None: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    """A store's engine (``SqliteDatabase`` or ``_postgres.PostgresDatabase``)."""

    where: str  # the location as shown to the user (never a password)
    engine: str  # "sqlite" or "postgresql"

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows: ...

    def columns(self, query: Query, args: Sequence[Any] = ()) -> dict[str, list[Any]]: ...

    def write(self) -> Any: ...  # a context manager giving a Writer

    def tables(self) -> set[str]: ...

    def size(self) -> int: ...

    def close(self) -> None: ...


def upsert(table: str, columns: Sequence[str], keys: Sequence[str]) -> str:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` (SQLite >= 3.24 and PostgreSQL)."""
    marks = ", ".join("?" * len(columns))
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}")  # fmt: skip
