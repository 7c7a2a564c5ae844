"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when dead."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ledgerbridge.store import db

pytestmark = pytest.mark.db


@pytest.fixture
def engine(postgres_url):
    engine = db.make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    """How often the pool pinged a connection before handing it out."""
    count = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        count.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return count


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, pings):
    first = _backend(engine)
    assert [_backend(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    engine, pings, monkeypatch, postgres_url
):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    first = _backend(engine)
    administrator = create_engine(postgres_url, poolclass=NullPool)
    with administrator.begin() as other:  # the server closes the pooled connection
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    administrator.dispose()
    # Checked out again: the ping finds the first connection dead and the pool replaces it;
    # the statement runs on a new backend instead of failing.
    assert _backend(engine) != first
    assert len(pings) == 1
