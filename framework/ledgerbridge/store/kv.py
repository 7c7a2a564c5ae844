"""Durable key-value state per site or ledger (``Services.store``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge.store.db import transaction
from ledgerbridge.store.models import KeyValue, utcnow
from ledgerbridge.store.upsert import upsert


class StoredKeyValues:
    """The ``kv`` rows of one scope (``site:3``, ``ledger:7``)."""

    def __init__(self, sessions: sessionmaker[Session], scope: str) -> None:
        self._sessions = sessions
        self._scope = scope

    def get(self, key: str) -> Any | None:
        with transaction(self._sessions) as session:
            row = session.get(KeyValue, (self._scope, key))
            return None if row is None or row.value is None else row.value.get("v")

    def set(self, key: str, value: Any) -> None:
        with transaction(self._sessions) as session:
            upsert(
                session,
                KeyValue,
                {"scope": self._scope, "key": key, "value": {"v": value}, "updated_at": utcnow()},
                ["scope", "key"],
                {"value": {"v": value}, "updated_at": utcnow()},
            )

    def delete(self, key: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                delete(KeyValue).where(KeyValue.scope == self._scope, KeyValue.key == key)
            )
