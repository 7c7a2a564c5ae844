"""Secrets of a site or ledger, encrypted in its row, behind the ``Secrets`` interface."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge.masking import register_secrets
from ledgerbridge.store.crypto import SecretBox
from ledgerbridge.store.db import transaction
from ledgerbridge.store.models import Ledger, Site


class StoredSecrets:
    """Decrypted values of one site's or ledger's secrets; ``update`` writes through at once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        model: type[Site] | type[Ledger],
        row_id: int,
        ciphertext: str | None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._model = model
        self._row_id = row_id
        self._values: dict[str, str] = box.decrypt(ciphertext)
        register_secrets(self._values.values())

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def keys(self) -> list[str]:
        """Names of the stored secrets (never their values)."""
        return sorted(self._values)

    def update(self, values: Mapping[str, str | None]) -> None:
        with transaction(self._sessions) as session:
            row = session.get(self._model, self._row_id, with_for_update=True)
            if row is None:
                raise LookupError(f"{self._model.__name__} {self._row_id} no longer exists")
            current = self._box.decrypt(row.secrets)
            for key, value in values.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value
            row.secrets = self._box.encrypt(current)
        register_secrets(current.values())
        self._values = current

    def reload(self) -> None:
        with transaction(self._sessions) as session:
            row = session.get(self._model, self._row_id)
            ciphertext = row.secrets if row is not None else None
        self._values = self._box.decrypt(ciphertext)
        register_secrets(self._values.values())

    def __repr__(self) -> str:
        return f"StoredSecrets({self._model.__name__} {self._row_id}, keys={self.keys()})"
