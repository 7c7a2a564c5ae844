"""Migrations go up and down on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from ledgerbridge.store import migrate
from ledgerbridge.store.db import make_engine
from ledgerbridge.store.models import Base

pytestmark = pytest.mark.db

HEAD = "0002"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    url = request.getfixturevalue(f"{request.param}_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_upgrade_matches_the_models_and_downgrade_empties(engine):
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == HEAD
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        plans = connection.execute(
            text("SELECT name, monthly_quota FROM plans ORDER BY position")
        ).all()
    assert [tuple(row) for row in plans] == [
        ("free", 15),
        ("starter", 100),
        ("growth", 1000),
        ("pro", 5000),
    ]
    migrate.downgrade(engine)
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)  # and up again from empty
    assert migrate.current_revision(engine) == HEAD


def test_the_order_digest_migration_goes_up_and_down(engine):
    migrate.upgrade(engine, "0001")
    assert "content_digest" not in {c["name"] for c in inspect(engine).get_columns("orders")}
    migrate.upgrade(engine)
    assert "content_digest" in {c["name"] for c in inspect(engine).get_columns("orders")}
    migrate.downgrade(engine, "0001")
    assert "content_digest" not in {c["name"] for c in inspect(engine).get_columns("orders")}
    assert migrate.current_revision(engine) == "0001"


def test_cli_db_upgrade(tmp_path, sqlite_url):
    import subprocess
    import sys

    env = {
        "LEDGERBRIDGE_DATABASE_URL": sqlite_url,
        "LEDGERBRIDGE_INSTANCE_PATH": str(tmp_path),
        "LEDGERBRIDGE_QUEUE": "embedded",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"Database at revision {HEAD}." in done.stdout
    current = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert current.stdout.strip() == HEAD
