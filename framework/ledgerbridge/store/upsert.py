"""Insert-or-ignore and insert-or-update that are atomic on both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, model: type) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database {dialect!r}: use PostgreSQL or SQLite")


def _insert_ignore(session: Session, model: type, values: dict[str, Any], keys: list[str]) -> Any:
    return _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=keys)


def insert_ignore(session: Session, model: type, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert ``values`` unless a row with the same ``keys`` exists; True when inserted."""
    statement = _insert_ignore(session, model, values, keys).returning(literal_column("1"))
    # rowcount is not reliable here (drivers report 1 for a skipped row when the insert
    # carries RETURNING); whether a row came back is.
    return session.execute(statement).first() is not None


def insert_ignore_returning(
    session: Session, model: type, values: dict[str, Any], keys: list[str]
) -> Any | None:
    """Insert ``values`` unless a row with the same ``keys`` exists; the new row as an ORM
    object (in the session), or None when one existed."""
    statement = _insert_ignore(session, model, values, keys).returning(model)
    return session.scalars(statement).first()


def upsert(
    session: Session,
    model: type,
    values: dict[str, Any],
    keys: list[str],
    update: dict[str, Any],
) -> None:
    """Insert ``values``, or apply ``update`` to the row with the same ``keys``."""
    statement = (
        _insert(session, model)
        .values(**values)
        .on_conflict_do_update(index_elements=keys, set_=update)
    )
    session.execute(statement)
