"""An accounting document as plain JSON data for people and tools (preview, order page).

Amounts are strings with two decimals, VAT rates strings without trailing zeros (``"25"``,
``"25.5"``); nothing is a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.model.document import AccountingDocument
from ledgerbridge.money import format_amount


def rate_text(rate: Decimal) -> str:
    """A VAT rate as text: ``25``, ``6``, ``25.5``."""
    return f"{rate.normalize():f}"


def document_json(document: AccountingDocument) -> dict[str, Any]:
    """The document as the ``--json`` output of ``ledgerbridge preview`` shows it."""
    data: dict[str, Any] = {
        "order_id": document.order_id,
        "order_number": document.order_number,
        "reference": document.reference,
        "document_type": document.document_type.value,
        "scenario": document.scenario.value,
        "date": document.date.isoformat(),
        "currency": document.currency,
        "sek_rate": f"{document.sek_rate.normalize():f}",
        "total": format_amount(document.total),
        "vat": [
            {
                "rate": rate_text(line.rate),
                "base": format_amount(line.base),
                "amount": format_amount(line.amount),
                "account": line.account,
            }
            for line in document.vat
        ],
        "rows": [
            {
                "kind": row.kind.value,
                "description": row.description,
                "account": row.account,
                "quantity": f"{row.quantity.normalize():f}",
                "net": format_amount(row.net),
                "vat_rate": rate_text(row.vat_rate),
                "vat_amount": format_amount(row.vat_amount),
                "vat_account": row.vat_account,
                "item_kind": row.item_kind.value,
                "sku": row.sku,
                "source_line_id": row.source_line_id,
            }
            for row in document.rows
        ],
        "journal": [
            {
                "account": line.account,
                "debit": format_amount(line.debit),
                "credit": format_amount(line.credit),
                "description": line.description,
            }
            for line in document.journal
        ],
        "payment_account": document.payment_account,
        "receivable_account": document.receivable_account,
        "texts": list(document.texts),
        "warnings": list(document.warnings),
    }
    if document.credit is not None:
        data["refund_id"] = document.credit.refund_id
        data["original_reference"] = document.credit.original_reference
        data["full_refund"] = document.credit.full
    return data
