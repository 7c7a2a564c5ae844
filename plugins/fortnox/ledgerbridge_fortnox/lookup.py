"""Finding what an earlier attempt may have created: invoices, orders, vouchers, payments.

Fortnox search parameters match substrings (``ILIKE '%v%'``), so every hit is compared exactly
before it is trusted. Invoices and orders carry the document reference in
``ExternalInvoiceReference1``; vouchers have no such field, so the connector writes
``ledgerbridge:<reference>`` into the voucher's ``Comments`` and searches the vouchers of the
document's date in its financial year.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import ConfigError
from ledgerbridge.model import AccountingDocument
from ledgerbridge_fortnox.client import FortnoxClient, segment
from ledgerbridge_fortnox.payloads import fortnox_reference, voucher_marker


def find_invoice(client: FortnoxClient, reference: str) -> dict[str, Any] | None:
    """The live (not cancelled) invoice whose ExternalInvoiceReference1 is ``reference``."""
    for item in client.iterate(
        "invoices",
        "Invoices",
        {"externalinvoicereference1": reference},
        what="looking for an invoice created earlier",
    ):
        if item.get("ExternalInvoiceReference1") == reference and not item.get("Cancelled"):
            return item
    return None


def find_order(client: FortnoxClient, reference: str) -> dict[str, Any] | None:
    """The live order whose ExternalInvoiceReference1 is ``reference``."""
    for item in client.iterate(
        "orders",
        "Orders",
        {"externalinvoicereference1": reference},
        what="looking for an order created earlier",
    ):
        if item.get("ExternalInvoiceReference1") == reference and not item.get("Cancelled"):
            return item
    return None


def financial_year(client: FortnoxClient, on: date) -> int:
    """The id of the financial year that covers ``on``; ConfigError when there is none.

    Years are remembered with their date range (an hour), so a year is asked for once, not
    once per day: a cash sale then costs one API call.
    """
    cache = client.ledger.services.cache
    key = f"fortnox:{client.ledger.id}:financialyears"
    day = on.isoformat()
    known = [tuple(item) for item in cache.get(key) or []]
    for year_id, first, last in known:
        if first <= day <= last:
            return int(year_id)
    data = client.get("financialyears", {"date": day}, what="finding the financial year")
    years = data.get("FinancialYears") or []
    if not years:
        raise ConfigError(
            f"Fortnox has no financial year covering {day}: create it in Fortnox "
            "(Inställningar → Räkenskapsår), then retry."
        )
    found = years[0]
    year = int(found["Id"])
    first, last = str(found.get("FromDate") or day), str(found.get("ToDate") or day)
    if not first <= day <= last:
        first = last = day
    cache.set(key, [*known, (year, first, last)], 3600.0)
    return year


def find_voucher(client: FortnoxClient, document: AccountingDocument) -> dict[str, Any] | None:
    """The voucher an earlier attempt created for ``document`` (by its Comments marker)."""
    marker = voucher_marker(document)
    year = financial_year(client, document.date)
    day = document.date.isoformat()
    for item in client.iterate(
        "vouchers",
        "Vouchers",
        {"financialyear": year, "fromdate": day, "todate": day},
        what="looking for a voucher created earlier",
    ):
        if item.get("Comments") == marker:
            return {**item, "Year": item.get("Year") or year}
    return None


def find_payment(
    client: FortnoxClient, invoice_number: str, amount: Decimal
) -> dict[str, Any] | None:
    """A payment of ``amount`` (SEK) already registered on the invoice."""
    for item in client.iterate(
        "invoicepayments",
        "InvoicePayments",
        {"invoicenumber": invoice_number},
        what="looking for a payment registered earlier",
    ):
        same_invoice = str(item.get("InvoiceNumber")) == str(invoice_number)
        if same_invoice and Decimal(str(item.get("Amount") or 0)) == amount:
            return item
    return None


def read_invoice(client: FortnoxClient, number: str) -> dict[str, Any]:
    """The full invoice ``number``."""
    data = client.get(f"invoices/{segment(number)}", what=f"reading invoice {number}")
    return data["Invoice"]


def read_order(client: FortnoxClient, number: str) -> dict[str, Any]:
    """The full order ``number``."""
    return client.get(f"orders/{segment(number)}", what=f"reading order {number}")["Order"]


def reference_of(document: AccountingDocument) -> str:
    """The exact reference searched for (the document reference, as Fortnox stores it)."""
    return fortnox_reference(document)
