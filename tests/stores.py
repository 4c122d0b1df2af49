"""Store locations for tests, one per engine: a SQLite file in the test's folder, or a new
PostgreSQL database on the server named by ``HOTGLUE_NB_TEST_POSTGRES`` (a URL whose user
may create databases; ``.ci/run`` starts one). Without it the PostgreSQL cases skip, unless
``HOTGLUE_NB_REQUIRE_POSTGRES=1`` (set by ``.ci/run``): then they fail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENGINES = ["sqlite", "postgresql"]


def server_url() -> str:
    url = os.environ.get("HOTGLUE_NB_TEST_POSTGRES")
    if not url:
        if os.environ.get("HOTGLUE_NB_REQUIRE_POSTGRES") == "1":
            pytest.fail("HOTGLUE_NB_TEST_POSTGRES is not set: the PostgreSQL store tests must run")
        pytest.skip("no PostgreSQL server (set HOTGLUE_NB_TEST_POSTGRES to a URL)")
    return url


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def new_location(engine: str, folder: Path, name: str = "h") -> Iterator[str]:
    """A fresh, empty store location of ``engine`` (the database is dropped afterwards)."""
    if engine == "sqlite":
        yield str(folder / f"{name}.sqlite")
        return
    import psycopg

    url = server_url()
    database = f"hg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(url), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + database
    finally:
        with psycopg.connect(_admin(url), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def raw_rows(location: str, sql: str) -> list[tuple[object, ...]]:
    """Rows read past the store, straight from its file or database."""
    if "://" not in location:
        import sqlite3

        with sqlite3.connect(location) as db:
            return db.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(_admin(location)) as db:
        return [tuple(r) for r in db.execute(sql).fetchall()]
