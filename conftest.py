"""Fixtures shared by every test folder: a real database and a real Redis, isolated per test.

``LEDGERBRIDGE_TEST_DATABASE`` picks the database the ``database_url`` fixture gives:
``postgres`` (default: a fresh database created and dropped per test on the server at
``LEDGERBRIDGE_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``)
or ``sqlite`` (a file in the test's temporary folder).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.databases import temporary_postgres_database

REDIS_URL = os.environ.get("LEDGERBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_database_kind() -> str:
    """``postgres`` or ``sqlite``, from the environment."""
    return os.environ.get("LEDGERBRIDGE_TEST_DATABASE", "postgres").strip().lower()


test_database_kind.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An SQLite database file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'ledgerbridge.db'}"


@pytest.fixture
def database_url(request) -> str:
    """A fresh database of the kind ``LEDGERBRIDGE_TEST_DATABASE`` names."""
    kind = test_database_kind()
    if kind == "sqlite":
        return request.getfixturevalue("sqlite_url")
    if kind == "postgres":
        return request.getfixturevalue("postgres_url")
    raise pytest.UsageError(f"LEDGERBRIDGE_TEST_DATABASE={kind!r}: use postgres or sqlite")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix on the real Redis; every key containing it is deleted afterwards."""
    import redis

    prefix = f"lbtest-{uuid.uuid4().hex[:10]}"
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        yield prefix
    finally:
        for key in connection.scan_iter(match=f"*{prefix}*", count=1000):
            connection.delete(key)
        connection.close()


@pytest.fixture
def redis_url() -> str:
    """The real Redis server's URL."""
    return REDIS_URL
