"""Secrets are encrypted at rest, rotate with the key, and never reach logs or the audit trail."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from sqlalchemy import select, text

from ledgerbridge.masking import ScrubFilter, mask
from ledgerbridge.store.crypto import SecretBox, SecretKeyError
from ledgerbridge.store.models import AuditRecord, Ledger

pytestmark = pytest.mark.db

TOKEN = "tok_live_4f9a2b7c1d0e8f3a"


def test_secrets_are_encrypted_in_the_database(world):
    runtime = world.runtime
    with runtime.transaction() as session:
        ledger = session.get(Ledger, world.ledger_id)
        context = runtime.ledger_context(ledger)
    context.secrets.update({"access_token": TOKEN})
    with runtime.engine.connect() as connection:
        raw = connection.execute(text("SELECT secrets FROM ledgers")).scalar_one()
    assert TOKEN not in raw
    assert "ledger-token-123456" not in raw
    # a fresh context decrypts it; another worker would see the same
    with runtime.transaction() as session:
        again = runtime.ledger_context(session.get(Ledger, world.ledger_id))
    assert again.secrets["access_token"] == TOKEN


def test_generated_key_file_is_private(world):
    key_file = world.runtime.config.instance_path / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_a_changed_key_is_reported_not_garbled(world, tmp_path):
    with world.runtime.engine.connect() as connection:
        raw = connection.execute(text("SELECT secrets FROM ledgers")).scalar_one()
    with pytest.raises(SecretKeyError, match="has changed"):
        SecretBox("another passphrase entirely").decrypt(raw)


def test_key_rotation_keeps_secrets_readable():
    old, new = SecretBox("old key material"), SecretBox("new key material,old key material")
    token = old.encrypt({"token": TOKEN})
    rotated = new.rotate(token)
    assert SecretBox("new key material").decrypt(rotated) == {"token": TOKEN}


def test_secrets_are_absent_from_logs_and_audit(world, caplog):
    runtime = world.runtime
    with runtime.transaction() as session:
        context = runtime.ledger_context(session.get(Ledger, world.ledger_id))
    context.secrets.update({"refresh_token": TOKEN})
    handler = logging.StreamHandler()
    handler.addFilter(ScrubFilter())
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("ledgerbridge.test.secrets")
    logger.addHandler(handler)
    try:
        logger.error("token refresh failed for %s", TOKEN)
        try:
            raise RuntimeError(f"server said: bad token {TOKEN}")
        except RuntimeError:
            logger.exception("unexpected")
    finally:
        logger.removeHandler(handler)
    joined = "\n".join(records)
    assert TOKEN not in joined
    assert mask(TOKEN) in joined
    with runtime.transaction() as session:
        from ledgerbridge.store.audit import audit

        audit(
            session,
            "test",
            "ledger.changed",
            "ledger:1",
            access_token=TOKEN,
            note=f"rotated to {TOKEN}",
        )
    with runtime.transaction() as session:
        details = [record.details for record in session.scalars(select(AuditRecord))]
    assert TOKEN not in repr(details)
