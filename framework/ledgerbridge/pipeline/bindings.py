"""Bindings: (route, kind, source id) → target id, reserved before anything is created."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledgerbridge.model import ExportResult
from ledgerbridge.store.models import Binding, utcnow
from ledgerbridge.store.upsert import insert_ignore_returning


def reserve(session: Session, route_id: int, kind: str, source_id: str, reference: str) -> Binding:
    """The binding for this document, inserted if it did not exist (unique, race-free)."""
    inserted = insert_ignore_returning(
        session,
        Binding,
        {
            "route_id": route_id,
            "kind": kind,
            "source_id": source_id,
            "reference": reference,
            "reserved_at": utcnow(),
        },
        ["route_id", "kind", "source_id"],
    )
    return inserted or find(session, route_id, kind, source_id)  # type: ignore[return-value]


def find(session: Session, route_id: int, kind: str, source_id: str) -> Binding | None:
    """The binding for this document, if reserved."""
    return session.scalar(
        select(Binding).where(
            Binding.route_id == route_id, Binding.kind == kind, Binding.source_id == source_id
        )
    )


def bind(session: Session, binding: Binding, result: ExportResult) -> None:
    """Record what the target created. Caller commits."""
    binding.target_id = result.target_id
    binding.document_kind = result.document_kind
    binding.bound_at = utcnow()


def bind_reserved(session: Session, binding_id: int, result: ExportResult) -> None:
    """Record what the target created on a binding reserved earlier. Caller commits."""
    session.execute(
        update(Binding)
        .where(Binding.id == binding_id)
        .values(target_id=result.target_id, document_kind=result.document_kind, bound_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def forget(session: Session, binding: Binding) -> None:
    """Drop the link to the target (force re-export: the target is asked again first)."""
    binding.target_id = None
    binding.document_kind = ""
    binding.bound_at = None
