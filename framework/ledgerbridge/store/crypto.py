"""Encryption of secrets at rest (API keys, OAuth tokens) with Fernet.

The key comes from ``LEDGERBRIDGE_SECRET_KEY`` or is generated once into the instance folder
(``secret.key``, mode 0600). The variable may hold a Fernet key or any passphrase (a key is
derived from it), and may list several comma-separated keys: the first encrypts, all decrypt,
which is how a key is rotated (``ledgerbridge db rotate-key`` re-encrypts with the first).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    """The secret key is missing, unreadable or does not open the stored secrets."""


def _as_fernet_key(material: str) -> bytes:
    text = material.strip()
    try:
        raw = base64.urlsafe_b64decode(text.encode())
        if len(raw) == 32:
            return text.encode()
    except ValueError:
        pass
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ledgerbridge-secrets", info=b"fernet"
    ).derive(text.encode())
    return base64.urlsafe_b64encode(derived)


def load_or_create_key_file(instance_path: Path) -> str:
    """The key stored in the instance folder, generating it (mode 0600) on first use."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


class SecretBox:
    """Encrypts and decrypts JSON mappings of secret values."""

    def __init__(self, keys: str) -> None:
        materials = [part for part in keys.split(",") if part.strip()]
        if not materials:
            raise SecretKeyError("No secret key configured.")
        self._fernet = MultiFernet([Fernet(_as_fernet_key(part)) for part in materials])

    @classmethod
    def from_config(cls, secret_key: str | None, instance_path: Path) -> SecretBox:
        """The box for ``LEDGERBRIDGE_SECRET_KEY``, or for the instance folder's key file."""
        return cls(secret_key or load_or_create_key_file(instance_path))

    def encrypt(self, values: dict[str, Any]) -> str:
        """Ciphertext of a JSON-able mapping."""
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def decrypt(self, token: str | None) -> dict[str, Any]:
        """The mapping inside ``token`` (empty for no token)."""
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyError(
                "Stored secrets cannot be decrypted with the configured key: "
                "LEDGERBRIDGE_SECRET_KEY (or instance/secret.key) has changed."
            ) from exc

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()
