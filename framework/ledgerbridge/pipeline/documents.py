"""Building an export's accounting document, with plan gating applied to the route."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model import AccountingDocument, Order
from ledgerbridge.model.schemas import load_document, load_order
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.store.models import ACTIVE_STATES, Export, ExportState, OrderRecord

#: An original document in these states is still on its way to the ledger.
ON_ITS_WAY = (*ACTIVE_STATES, ExportState.WAITING_QUOTA, ExportState.IN_SUMMARY)

#: Plan features and what they unlock.
FEATURE_DOCUMENT_TYPE_OVERRIDE = "document_type_override"
FEATURE_PDF_ARCHIVE = "pdf_archive"


def gated(route: RouteContext) -> tuple[RouteContext, list[str]]:
    """``route`` with settings its ledger's plan does not unlock switched off, and warnings."""
    warnings: list[str] = []
    settings = route.settings
    if settings.document_types and not route.ledger.has_feature(FEATURE_DOCUMENT_TYPE_OVERRIDE):
        warnings.append(
            "Document type per payment method needs the Growth plan or higher; the route's "
            f"default ({settings.default_document_type.value}) was used."
        )
        settings = settings.replace(document_types={})
    if settings is route.settings:
        return route, warnings
    from dataclasses import replace

    return replace(route, settings=settings), warnings


def order_of(record: OrderRecord | None) -> Order:
    """The canonical order kept for an export."""
    if record is None or record.canonical is None:
        raise DataError("The shop's order has not been read successfully yet.")
    return load_order(record.canonical)


def build(
    session: Session, export: Export, route: RouteContext, hooks: Hooks
) -> AccountingDocument:
    """The document for ``export`` (order, refund or daily summary). Raises ``DataError``."""
    from ledgerbridge import accounting

    route, warnings = gated(route)
    if export.kind == "order":
        document = accounting.build_document(order_of(_order(session, export)), route, hooks)
    elif export.kind == "refund":
        original = _original_document(session, export)
        document = accounting.build_credit_note(
            order_of(_order(session, export)), export.source_id, route, hooks, original=original
        )
    elif export.kind == "daily_summary":
        members = member_documents(session, export)
        if not members:
            raise DataError("This daily summary has no orders.")
        document = accounting.build_daily_summary(
            members, route, date.fromisoformat(export.source_id[:10])
        )
    else:
        raise DataError(f"Unknown export kind {export.kind!r}.")
    if warnings:
        document = document.replace(warnings=(*document.warnings, *warnings))
    return document


def _order(session: Session, export: Export) -> OrderRecord | None:
    # The canonical form is deferred (most readers of an order record only need its number);
    # here it is the point, so it comes in the same statement.
    if export.order_id is None:
        return None
    return session.get(OrderRecord, export.order_id, options=[undefer(OrderRecord.canonical)])


def parent_export(session: Session, export: Export) -> Export | None:
    """The order export a refund export corrects."""
    if export.order_id is None:
        return None
    return session.scalar(
        select(Export).where(
            Export.route_id == export.route_id,
            Export.kind == "order",
            Export.order_id == export.order_id,
        )
    )


def original_on_its_way(session: Session, parent: Export | None) -> Export | None:
    """What a refund export whose order export is ``parent`` waits for: that export, or the
    daily summary booking the order, while still on its way to the ledger (None: nothing to
    wait for)."""
    if parent is not None and parent.state == ExportState.IN_SUMMARY and parent.summary_export_id:
        parent = session.get(Export, parent.summary_export_id)
    if parent is not None and parent.state in ON_ITS_WAY:
        return parent
    return None


def _original_document(session: Session, export: Export) -> AccountingDocument | None:
    parent = parent_export(session, export)
    if parent is None or parent.document is None:
        return None
    return load_document(parent.document)


def member_documents(session: Session, summary: Export) -> list[AccountingDocument]:
    """The cash-sale documents a daily summary aggregates, oldest first."""
    members = session.scalars(
        select(Export).where(Export.summary_export_id == summary.id).order_by(Export.id)
    )
    return [load_document(member.document) for member in members if member.document]


def as_data(document: AccountingDocument) -> dict[str, Any]:
    """JSON form of a document (for the export row)."""
    from ledgerbridge.model.schemas import dump_document

    return dump_document(document)
