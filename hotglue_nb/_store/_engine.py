"""Where a store lives: a SQLite file (stdlib ``sqlite3``, WAL mode) or, through
``_postgres``, a PostgreSQL database (SQLAlchemy Core, the ``[postgres]`` extra).

The store's SQL is written once, with ``?`` marks and ``ON CONFLICT`` upserts, which both
engines speak. A ``Database`` runs it: ``rows`` for reads (readers never wait for a writer),
``write`` for one transaction at a time (a second writer waits ``timeout`` seconds, then is
told who holds the store). Each engine's failures become one ``ConfigError`` naming the fix.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from ._sql import Database, Query, Rows, Writer

__all__ = ["open_database"]


def open_database(location: str | os.PathLike[str], timeout: float) -> Database:
    """The engine of a location: a ``postgresql://`` URL, or a SQLite file's path."""
    text = str(os.fspath(location))
    if "://" in text:
        scheme = text.split("://", 1)[0]
        if scheme.startswith("postgresql"):
            from ._postgres import PostgresDatabase

            return PostgresDatabase(text, timeout)
        if scheme != "sqlite":
            raise ConfigError(f"A store lives in a SQLite file or PostgreSQL, not {scheme}://: "
                              "pass a file's path or a postgresql+psycopg:// URL.")  # fmt: skip
        text = text.split("://", 1)[1].removeprefix("/")  # sqlite:///rel, sqlite:////abs
        if not text or "?" in text:
            raise ConfigError(
                "A sqlite:// store names one file and no options: "
                "sqlite:///relative.sqlite or sqlite:////abs/olute.sqlite."
            )
    if not text.strip():
        raise ConfigError("Name the store's file: Store('hotglue.sqlite').")
    return SqliteDatabase(Path(text).expanduser().absolute(), timeout)


class SqliteDatabase:
    """A store in a SQLite file: WAL mode, so readers go on while one process writes."""

    engine = "sqlite"

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.where, self.timeout = path, str(path), timeout
        self._writer = Path(f"{path}-writer")  # who holds the write lock, for a busy error
        self._lock = threading.RLock()  # one connection, used by one thread at a time
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                                              check_same_thread=False)  # fmt: skip
            self.connection.execute("PRAGMA journal_mode=WAL").fetchall()
        except (sqlite3.Error, OSError) as exc:
            raise self.failure(exc) from None

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        try:
            with self._lock:
                return self.connection.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self.failure(exc) from None

    def columns(self, query: Query, args: Sequence[Any] = ()) -> dict[str, list[Any]]:
        def each(name: str) -> str:
            if name in query.floats:  # (as a number SQLite would write 15 digits, not 17)
                return f"json_group_array(printf('%!.17g', q.{name}))"
            return f"json_group_array({'json' if name in query.jsons else ''}(q.{name}))"

        found = self.rows(f"SELECT {', '.join(each(n) for n in query.names)} FROM ({query.sql}) q",
                          args)[0]  # fmt: skip
        out = {name: json.loads(text) for name, text in zip(query.names, found, strict=True)}
        for name in query.floats:
            out[name] = [None if v is None else float(v) for v in out[name]]
        return out

    @contextmanager
    def write(self) -> Iterator[Writer]:
        if not self._lock.acquire(timeout=self.timeout):
            raise self.failure(sqlite3.OperationalError("database is locked"))
        try:
            with self._transaction() as writer:
                yield writer
        finally:
            self._lock.release()

    @contextmanager
    def _transaction(self) -> Iterator[Writer]:
        with closing(self.connection.cursor()) as cursor:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.failure(exc) from None
            try:
                self._claim()
                yield _SqliteWriter(cursor, self)
                cursor.execute("COMMIT")
            except BaseException:
                if self.connection.in_transaction:  # (SQLite ends it itself on a full disk)
                    cursor.execute("ROLLBACK")
                raise
            finally:
                self._writer.unlink(missing_ok=True)

    def tables(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        self.connection.close()

    def _claim(self) -> None:
        """Say who writes (read only by a writer that finds the store busy)."""
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
        try:
            self._writer.write_text(json.dumps(holder))
        except OSError:
            pass  # only a busy error's wording depends on it

    def _holder(self) -> str:
        try:
            held = json.loads(self._writer.read_text())
            return f"pid {held['pid']} on {held['host']} (writing since {held['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def failure(self, exc: BaseException) -> ConfigError:
        """One error naming the fix, in the user's terms."""
        text = str(exc)
        where = self.where
        if "locked" in text or "busy" in text:
            return ConfigError(f"The store {where} is being written by {self._holder()}; this "
                               f"one waited {self.timeout:g} s: try again when it is done, or "
                               "give Store a longer timeout (seconds).")  # fmt: skip
        if "disk is full" in text or getattr(exc, "errno", None) == 28:
            return ConfigError(f"The disk holding the store {where} is full ({text}): free "
                               "space there, or move the store to another disk.")  # fmt: skip
        if (
            "readonly" in text
            or "read-only" in text
            or "unable to open" in text
            or (isinstance(exc, OSError))
        ):
            return ConfigError(f"Cannot write the store {where} ({text}): choose a location "
                               "you can write, or fix its folder's permissions.")  # fmt: skip
        return ConfigError(f"{where} is not a hotglue_nb store, or it is damaged ({text}): "
                           "pass a new file, or the store's own.")  # fmt: skip


class _SqliteWriter:
    def __init__(self, cursor: sqlite3.Cursor, database: SqliteDatabase) -> None:
        self._cursor, self._database = cursor, database

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        try:
            return self._cursor.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._database.failure(exc) from None

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.rows(sql, args)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cursor.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._database.failure(exc) from None
