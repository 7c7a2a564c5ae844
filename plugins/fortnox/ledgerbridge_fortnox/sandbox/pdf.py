"""The PDF of an invoice (what ``/preview`` returns in the sandbox)."""

from __future__ import annotations

from typing import Any

from ledgerbridge.testing.pdf import simple_pdf


def invoice_pdf(invoice: dict[str, Any], company: str) -> bytes:
    """A PDF naming the invoice, its customer and totals."""
    return simple_pdf(
        [
            f"{company}",
            f"Faktura {invoice['DocumentNumber']}  {invoice.get('InvoiceDate', '')}",
            f"Kund {invoice['CustomerNumber']} {invoice.get('CustomerName', '')}",
            f"Att betala {invoice['Total']} {invoice['Currency']} (moms {invoice['TotalVAT']})",
            f"OCR {invoice.get('OCR', '')}",
        ]
    )
