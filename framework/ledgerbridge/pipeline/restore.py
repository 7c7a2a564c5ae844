"""After a database restore: look before you create.

A restored backup does not know what was exported after it was taken; new exports would book
those orders again. ``ledgerbridge db restored`` opens a window during which every export first
asks the target for a document with its reference (and links to it when found) before it
creates anything. It costs one lookup per export, so it ends by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ledgerbridge.pipeline import clock
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import KeyValue
from ledgerbridge.store.upsert import upsert

SCOPE, KEY = "installation", "verify_first_until"


def mark_restored(session: Session, *, hours: float, actor: str) -> datetime:
    """Make every export look up its document first for ``hours``; when the window ends."""
    until = clock.now() + timedelta(hours=hours)
    upsert(
        session,
        KeyValue,
        {"scope": SCOPE, "key": KEY, "value": {"v": until.isoformat()}},
        ["scope", "key"],
        {"value": {"v": until.isoformat()}},
    )
    audit(session, actor, "database.restored", "", verify_first_until=until.isoformat())
    return until


def verify_first_until(session: Session) -> datetime | None:
    """The end of the look-up-first window, or None when none was opened."""
    row = session.get(KeyValue, (SCOPE, KEY))
    if row is None or not row.value:
        return None
    return datetime.fromisoformat(row.value["v"])


def verify_first(session: Session) -> bool:
    """Whether exports must look their document up before creating it right now."""
    until = verify_first_until(session)
    return until is not None and clock.now() < until
