"""From an accounting document to a voucher: the JSON payload plugins see, then the checked
voucher that is written.

The payload is the document's balanced journal (in SEK) as ``#TRANS`` rows. It goes through
``route.filters.document`` like every target's document payload, so a plugin (or the instance
folder's ``ledgerbridge_hooks.py``) can change the text or the rows. The rows are journal lines,
not document rows, so the row filter does not apply; change rows through the document filter.
What comes back is checked again: it must still balance, on four-digit accounts, with the same
reference (the reference is how a retry finds the voucher).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model import AccountingDocument, DocumentType
from ledgerbridge.money import ZERO, money_sum
from ledgerbridge_sie.settings import SieSettings
from ledgerbridge_sie.sie import Transaction, Voucher

#: Separates the reference from the rest of a voucher text: ``"WS-1001: Faktura order 1001"``.
REFERENCE_SEPARATOR = ": "
#: How a credit voucher names the voucher it corrects: ``"(ver. A7)"``.
CORRECTS = re.compile(r"\(ver\. ([^)\s]+)\)")
MAX_TEXT = 120
ACCOUNT = re.compile(r"^\d{4}$")

_TITLES = {
    DocumentType.INVOICE: "Faktura",
    DocumentType.CASH_SALE: "Kontantförsäljning",
    DocumentType.DAILY_SUMMARY: "Dagskassa",
}


def title(document: AccountingDocument, corrects: str = "") -> str:
    """The human part of the voucher text."""
    if document.is_credit and document.credit is not None:
        text = f"Kreditering av {document.credit.original_reference}"
        return f"{text} (ver. {corrects})" if corrects else text
    title = _TITLES.get(document.document_type, "Verifikation")
    if document.document_type is DocumentType.DAILY_SUMMARY:
        return f"{title} {document.date.isoformat()}"
    buyer = document.customer.name if document.customer is not None else ""
    return f"{title} order {document.order_number}" + (f", {buyer}" if buyer else "")


def voucher_payload(
    document: AccountingDocument, route: RouteContext, settings: SieSettings, corrects: str = ""
) -> dict[str, Any]:
    """The voucher of ``document`` as a JSON payload, after the plugins' document filter."""
    payload = {
        "reference": document.reference,
        "series": settings.voucher_series,
        "date": document.date.isoformat(),
        "text": title(document, corrects),
        "transactions": [
            {
                "account": line.account,
                "amount": f"{line.debit - line.credit:.2f}",
                "text": line.description,
            }
            for line in document.journal
        ],
    }
    return route.filters.document(payload, document)


def checked_voucher(payload: dict[str, Any], document: AccountingDocument) -> Voucher:
    """The voucher a payload describes (number 0: numbered when written); ``DataError`` if
    it cannot be booked."""
    where = f"Voucher for {document.reference}"
    if payload.get("reference") != document.reference:
        raise DataError(
            f"{where}: a plugin changed its reference to {payload.get('reference')!r}; the "
            "reference is how a retry finds the voucher and must stay."
        )
    if REFERENCE_SEPARATOR in document.reference:
        raise DataError(f"{where}: the reference may not contain {REFERENCE_SEPARATOR!r}.")
    rows = payload.get("transactions") or []
    if not rows:
        raise DataError(
            f"{where}: nothing to book (a zero total has no transactions). Set the route to "
            "skip zero-total orders, or book this one by hand."
        )
    transactions = []
    for row in rows:
        account = str(row.get("account", ""))
        if not ACCOUNT.match(account):
            raise DataError(f"{where}: {account!r} is not a four-digit account number.")
        try:
            amount = Decimal(str(row.get("amount")))
        except InvalidOperation as exc:
            raise DataError(f"{where}: {row.get('amount')!r} is not an amount.") from exc
        if amount != amount.quantize(Decimal("0.01")):
            raise DataError(f"{where}: {amount} has more than two decimals.")
        transactions.append(
            Transaction(account=account, amount=amount, text=str(row.get("text", "")))
        )
    balance = money_sum(t.amount for t in transactions)
    if balance != ZERO:
        raise DataError(f"{where}: the transactions do not balance (off by {balance}).")
    text = f"{document.reference}{REFERENCE_SEPARATOR}{payload.get('text', '')}"
    return Voucher(
        series=str(payload.get("series", "")),
        number=0,
        day=document.date,
        text=text[:MAX_TEXT],
        transactions=tuple(transactions),
    )


def reference_of(voucher: Voucher) -> str:
    """The ledgerbridge reference a voucher was written for ('' for foreign vouchers)."""
    reference, separator, _ = voucher.text.partition(REFERENCE_SEPARATOR)
    return reference if separator else ""


def corrected_by(voucher: Voucher) -> str:
    """For a credit voucher, the id of the voucher it corrects ('' otherwise)."""
    match = CORRECTS.search(voucher.text)
    return match.group(1) if match else ""
