"""A store in PostgreSQL, through SQLAlchemy Core (the ``[postgres]`` extra), so a team keeps
one history. The store's SQL runs as written for SQLite: ``?`` marks become the driver's,
text columns compare byte by byte (``COLLATE "C"``, as SQLite does) so ISO times and tenant
order match. One writer at a time holds a transaction-scoped advisory lock; readers never
wait. The password is never shown: locations render with ``***``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._exceptions import ConfigError
from ._sql import Query, Rows, Writer

try:
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    INSTALLED = True
except ImportError:  # the [postgres] extra is not installed: said when a store is opened
    INSTALLED = False

__all__ = ["PostgresDatabase"]

_LOCK = 7_268_112_043  # the store's advisory lock (one writer per database)
_HOLDER = ("SELECT a.pid, a.application_name, a.usename, a.client_addr, a.xact_start "
           "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE "
           "l.locktype = 'advisory' AND l.granted AND l.objid = %s")  # fmt: skip


class PostgresDatabase:
    """A store in the PostgreSQL database of a ``postgresql+psycopg://`` URL."""

    engine = "postgresql"

    def __init__(self, url: str, timeout: float) -> None:
        if not INSTALLED:
            raise ConfigError("A PostgreSQL store needs SQLAlchemy and psycopg: pip install "
                              "'hotglue_nb[postgres]'.")  # fmt: skip
        parsed = _parsed(url)
        self.where = parsed.render_as_string(hide_password=True)
        self._password = parsed.password
        self.timeout = timeout
        try:
            self._engine = sa.create_engine(
                parsed, pool_pre_ping=True,
                connect_args={"application_name": f"hotglue-nb (pid {os.getpid()})",
                              "connect_timeout": max(1, round(timeout)),
                              # a server gone without a word (crash, cut cable) ends a read
                              "keepalives": 1, "keepalives_idle": 30,
                              "keepalives_interval": 10, "keepalives_count": 3},
            )  # fmt: skip
            with self._engine.connect() as probe:
                probe.exec_driver_sql("SELECT 1")
        except (sa_exc.SQLAlchemyError, ImportError) as exc:
            raise self.failure(exc) from None

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        try:
            with self._engine.connect() as connection:
                return [tuple(r) for r in connection.exec_driver_sql(_marks(sql), tuple(args))]
        except sa_exc.SQLAlchemyError as exc:
            raise self.failure(exc) from None

    def columns(self, query: Query, args: Sequence[Any] = ()) -> dict[str, list[Any]]:
        def each(name: str) -> str:  # (PostgreSQL writes a float8 exactly in JSON)
            return f"json_agg(q.{name}{'::json' if name in query.jsons else ''})"

        found = self.rows(f"SELECT {', '.join(each(n) for n in query.names)} FROM ({query.sql}) q",
                          args)[0]  # fmt: skip
        return {name: list(v or []) for name, v in zip(query.names, found, strict=True)}

    @contextmanager
    def write(self) -> Iterator[Writer]:
        try:
            connection = self._engine.connect()
            transaction = connection.begin()
        except sa_exc.SQLAlchemyError as exc:
            raise self.failure(exc) from None
        try:
            self._lock(connection)
            yield _PostgresWriter(connection, self)
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        finally:
            connection.close()

    def tables(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = current_schema()")}  # fmt: skip

    def size(self) -> int:
        mine = self.tables() & {"meta", "jobs", "spans", "runs", "results", "events"}
        if not mine:
            return 0
        sizes = " + ".join(f"pg_total_relation_size('{t}')" for t in sorted(mine))
        return int(self.rows(f"SELECT {sizes}")[0][0])

    def close(self) -> None:
        self._engine.dispose()

    def _lock(self, connection: Any) -> None:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(self.timeout * 1000)}ms'")
        try:
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        except sa_exc.OperationalError as exc:
            if _code(exc) != "55P03":  # lock_not_available: another writer
                raise self.failure(exc) from None
            raise ConfigError(
                f"The store {self.where} is being written by {self._holder()}; "
                f"this one waited {self.timeout:g} s: try again when it is done, "
                "or give Store a longer timeout (seconds)."
            ) from None
        connection.exec_driver_sql("SET LOCAL lock_timeout = 0")

    def _holder(self) -> str:
        key = _LOCK & 0xFFFFFFFF  # pg_locks splits a bigint key into classid and objid
        try:
            found = self.rows(_HOLDER.replace("%s", "?"), (key,))
        except ConfigError:
            found = []
        if not found:
            return "another session"
        pid, app, user, address, since = found[0]
        return (f"{app or 'a session'} (backend pid {pid}, user {user}, from "
                f"{address or 'a local socket'}, since {since:%Y-%m-%d %H:%M:%S})")  # fmt: skip

    def failure(self, exc: BaseException) -> ConfigError:
        """One error naming the fix; the password never in it."""
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if self._password and len(self._password) >= 4:  # (libpq never echoes it: a belt)
            text = text.replace(self._password, "***")
        where, code = self.where, _code(exc)
        if code == "28P01" or "authentication failed" in text or code == "28000":
            return ConfigError(f"PostgreSQL refused the login to {where} ({text}): check the "
                               "user and password in the store's URL.")  # fmt: skip
        if code == "3D000" or ("database" in text and "does not exist" in text):
            return ConfigError(f"{where}: {text}: create it (createdb), or name a database "
                               "that exists in the URL.")  # fmt: skip
        if code == "53100":
            return ConfigError(f"The disk of the PostgreSQL server of {where} is full ({text})"
                               ": free space there.")  # fmt: skip
        if code in ("25006", "42501"):
            return ConfigError(f"Cannot write the store {where} ({text}): use a user allowed "
                               "to create and write tables there.")  # fmt: skip
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) and code is None:
            return ConfigError(f"Cannot reach PostgreSQL at {where} ({text}): start the server"
                               ", or check the host and port in the store's URL.")  # fmt: skip
        return ConfigError(f"The store {where} failed ({text}).")


class _PostgresWriter:
    def __init__(self, connection: Any, database: PostgresDatabase) -> None:
        self._connection, self._database = connection, database

    def rows(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        try:
            result = self._connection.exec_driver_sql(_marks(sql), tuple(args))
            return [tuple(r) for r in result] if result.returns_rows else []
        except sa_exc.SQLAlchemyError as exc:
            raise self._database.failure(exc) from None

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.rows(sql, args)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            self._connection.exec_driver_sql(_marks(sql), [tuple(r) for r in rows])
        except sa_exc.SQLAlchemyError as exc:
            raise self._database.failure(exc) from None


def _parsed(url: str) -> Any:
    """The URL, parsed; a malformed one refused without echoing it (it holds a password)."""
    fix = (
        "write postgresql+psycopg://user:password@host:5432/database, with special "
        "characters of the password percent-encoded (@ as %40, / as %2F, : as %3A)"
    )
    try:
        parsed = sa.make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here
    except (sa_exc.ArgumentError, ValueError):
        raise ConfigError(f"Not a PostgreSQL URL: {fix}.") from None
    if "@" in (parsed.host or "") + (parsed.database or ""):
        raise ConfigError(f"The PostgreSQL URL's host or database holds an '@' (a password "
                          f"with an '@' or '/' in it?): {fix}.")  # fmt: skip
    return parsed


def _marks(sql: str) -> str:
    """The store's ``?`` marks as psycopg's ``%s``; its DDL's text columns byte-ordered."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    if sql.lstrip().startswith("CREATE"):
        sql = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)
    return sql


def _code(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, if it has one."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) if orig is not None else None
