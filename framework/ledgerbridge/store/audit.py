"""The audit trail (behandlingshistorik): who did what, when, with masked details."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledgerbridge.masking import mask_mapping
from ledgerbridge.store.models import AuditRecord


def audit(
    session: Session, actor: str, action: str, subject: str = "", **details: Any
) -> AuditRecord:
    """Add an audit record to ``session`` (committed with the change it describes)."""
    record = AuditRecord(actor=actor, action=action, subject=subject, details=mask_mapping(details))
    session.add(record)
    return record
