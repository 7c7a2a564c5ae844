"""Write-back: tell the shop what happened to its order (a note and a status meta)."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import joinedload

from ledgerbridge.errors import ConfigError, NotFound
from ledgerbridge.model.schemas import load_result
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import Export, ExportState, Route, utcnow

log = logging.getLogger(__name__)

#: How a target's document kinds read in a Swedish order note.
KIND_WORDS = {
    "invoice": "faktura",
    "order": "order",
    "voucher": "verifikation",
    "journal_entry": "verifikation",
    "credit_invoice": "kreditfaktura",
    "credit_note": "kreditfaktura",
    "cash_invoice": "kontantfaktura",
    "file": "fil",
}


def note_for(export: Export, target_title: str) -> str | None:
    """The note text for an export's current state (None when there is nothing to say)."""
    reference = f" ({export.reference})" if export.reference else ""
    if export.state in (ExportState.DONE, ExportState.NEEDS_REVIEW) and export.result:
        result = load_result(export.result)
        word = KIND_WORDS.get(result.document_kind, result.document_kind)
        what = "Krediterad" if export.kind == "refund" else "Bokförd"
        text = f"{what} i {target_title} som {word} {result.target_id}{reference}."
        if export.state == ExportState.NEEDS_REVIEW:
            text += f" Behöver granskas: {export.message}"
        return text
    if export.state == ExportState.FAILED:
        return f"Kunde inte bokföras i {target_title}{reference}: {export.message}"
    if export.state == ExportState.NEEDS_REVIEW:
        return f"Behöver granskas innan bokföring i {target_title}{reference}: {export.message}"
    return None


def write_back(runtime: Runtime, export_id: int) -> None:
    """Write the export's result to its order in the shop (retried on its own if it fails)."""
    with runtime.transaction() as session:
        export = session.get(
            Export,
            export_id,
            options=[
                joinedload(Export.order),
                joinedload(Export.route).joinedload(Route.site),
                joinedload(Export.route).joinedload(Route.ledger),
            ],
        )
        if export is None or export.order is None:
            return
        route = export.route
        spec = runtime.hooks.connectors.get(route.ledger.connector)
        title = spec.title if spec is not None else route.ledger.connector
        note = note_for(export, title)
        if note is None:
            return
        status = {
            "state": str(export.state),
            "target": route.ledger.connector,
            "ledger": route.ledger.key,
            "target_id": export.target_id,
            "reference": export.reference,
            "kind": export.kind,
            "updated_at": utcnow().isoformat(timespec="seconds"),
        }
        site = runtime.site_context(route.site)
        order_source_id = export.order.source_id
    try:
        runtime.hooks.source(site).add_order_note(order_source_id, note, status)
    except NotFound:
        log.info("Order %s is gone from the shop; no note written.", order_source_id)
        return
    except ConfigError as error:
        log.warning("Could not write back to order %s: %s", order_source_id, error)
        return
    with runtime.transaction() as session:
        session.execute(update(Export).where(Export.id == export_id).values(written_back=True))
