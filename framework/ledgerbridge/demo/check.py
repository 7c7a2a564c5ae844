"""``ledgerbridge demo --check``: every document in both sandbox ledgers against the shop.

The truth on one side is the shop's own REST API (order totals, VAT and refunds, read with
the source connector's client); on the other, what each sandbox ledger holds, read from its
admin listing (never from our own tables). A document is found by the reference ledgerbridge
gives it (``<prefix><order id>`` for a sale, ``<prefix><order id>-R<refund id>`` for a credit):

* Fortnox: invoices and credit invoices by ``ExternalInvoiceReference1``; cash-sale and
  correcting vouchers by their ``Comments`` marker ``ledgerbridge:<reference>``.
* Bokio: invoices and credit notes by ``metadata.lbReference``; journal entries (cash sales,
  their corrections and reversals) by the ``[<reference>]`` at the end of their title.

Sales are compared on gross and VAT, to the öre: invoices in the order's currency, vouchers
and journal entries in SEK (the order's amounts at the route's rate). Credits are compared
with the refund's amount (and its VAT when the refund itemizes taxes). A reference with more
than one document is a duplicate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from ledgerbridge.demo.world import BOKIO, FORTNOX, MANUAL_RATES, Sandboxes
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import Site

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MARKER = "ledgerbridge:"
TITLE_REFERENCE = re.compile(r"\[([^\]]+)\]\s*$")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Document:
    """One document found in a ledger, reduced to what is compared."""

    target: str
    reference: str
    order_id: str
    refund_id: str
    gross: Decimal
    vat: Decimal
    currency: str
    what: str
    reversal: bool = False

    @property
    def is_credit(self) -> bool:
        """A credit invoice, credit note, correcting voucher or reversal."""
        return bool(self.refund_id) or self.reversal


@dataclass(frozen=True)
class ShopOrder:
    """What the shop says about one order."""

    id: str
    number: str
    status: str
    currency: str
    total: Decimal
    vat: Decimal
    paid: bool
    refunds: tuple[tuple[str, Decimal, Decimal | None], ...]  # id, amount, VAT if itemized
    #: VAT per rate (the shop's tax lines): a foreign-currency order's VAT is converted to SEK
    #: rate by rate, as the books do, so the SEK total can differ from converting the sum.
    vat_parts: tuple[Decimal, ...] = ()
    #: The same per refund id, for itemized refunds.
    refund_vat_parts: tuple[tuple[str, tuple[Decimal, ...]], ...] = ()

    @property
    def bookable(self) -> bool:
        """Whether the demo's routes book this order (completed, or refunded after payment)."""
        if self.total == 0:
            return False
        return self.status == "completed" or (self.status == "refunded" and self.paid)


def split_reference(reference: str, prefix: str) -> tuple[str, str] | None:
    """``(order id, refund id)`` of one of our references, or None for a foreign one."""
    if not reference.startswith(prefix):
        return None
    body = reference[len(prefix) :]
    order, _, refund = body.partition("-R")
    if not order.isdigit() or (refund and not refund.isdigit()):
        return None
    return order, refund


def _tax_of(refund: dict[str, Any]) -> Decimal | None:
    items = [
        item
        for key in ("line_items", "shipping_lines", "fee_lines")
        for item in refund.get(key) or []
    ]
    if not items:
        return None
    return abs(sum((_money(item.get("total_tax")) for item in items), ZERO))


def _tax_parts_of(refund: dict[str, Any]) -> tuple[Decimal, ...]:
    per_rate: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key in ("line_items", "shipping_lines", "fee_lines"):
        for item in refund.get(key) or []:
            for tax in item.get("taxes") or []:
                per_rate[str(tax.get("id"))] += Decimal(str(tax.get("total") or 0))
    return tuple(abs(amount).quantize(CENT, ROUND_HALF_UP) for amount in per_rate.values())


def shop_orders(runtime: Runtime, site_id: int) -> list[ShopOrder]:
    """Every order of the shop, as its REST API gives it (refunds included)."""
    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        if site is None:
            raise LookupError(f"No site {site_id}")
        context = runtime.site_context(site)
    source = runtime.hooks.source(context)
    result = []
    for summary in source.iter_orders(None, []):
        raw = source.fetch_order(summary.id)
        refunds = tuple(
            (str(refund["id"]), abs(_money(refund.get("amount"))), _tax_of(refund))
            for refund in raw.get("ledgerbridge_refunds") or []
        )
        result.append(
            ShopOrder(
                id=str(raw["id"]),
                number=str(raw.get("number") or raw["id"]),
                status=str(raw.get("status") or ""),
                currency=str(raw.get("currency") or "SEK"),
                total=_money(raw.get("total")),
                vat=_money(raw.get("total_tax")),
                paid=bool(raw.get("date_paid") or raw.get("date_paid_gmt")),
                refunds=refunds,
                vat_parts=tuple(
                    _money(line.get("tax_total")) + _money(line.get("shipping_tax_total"))
                    for line in raw.get("tax_lines") or []
                ),
                refund_vat_parts=tuple(
                    (str(refund["id"]), _tax_parts_of(refund))
                    for refund in raw.get("ledgerbridge_refunds") or []
                ),
            )
        )
    return result


# -- what the ledgers hold ---------------------------------------------------------------------


def _journal_amounts(rows: list[tuple[int, Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """Gross (money accounts, class 1) and output VAT (26xx) of a voucher, as magnitudes."""
    money = sum((debit - credit for account, debit, credit in rows if account < 2000), ZERO)
    vat = sum((credit - debit for account, debit, credit in rows if 2600 <= account < 2700), ZERO)
    return abs(money), abs(vat)


def fortnox_documents(base_url: str, tenant: int, prefix: str) -> list[Document]:
    """Every invoice and ledgerbridge voucher of a Fortnox sandbox company."""
    listing = httpx.get(f"{base_url}/_sandbox/tenants/{tenant}/documents", timeout=30).json()
    found: list[Document] = []
    for invoice in listing.get("invoices", []):
        if invoice.get("Cancelled"):
            continue
        reference = str(invoice.get("ExternalInvoiceReference1") or "")
        parts = split_reference(reference, prefix)
        if parts is None:
            continue
        found.append(
            Document(
                target=FORTNOX,
                reference=reference,
                order_id=parts[0],
                refund_id=parts[1],
                gross=abs(_money(invoice.get("Total"))),
                vat=abs(_money(invoice.get("TotalVAT"))),
                currency=str(invoice.get("Currency") or "SEK"),
                what=f"invoice {invoice.get('DocumentNumber', '')}".strip(),
            )
        )
    for voucher in listing.get("vouchers", []):
        comments = str(voucher.get("Comments") or "")
        if not comments.startswith(MARKER):
            continue
        reference = comments[len(MARKER) :].strip()
        parts = split_reference(reference, prefix)
        if parts is None:
            continue
        rows = [
            (int(row["Account"]), _money(row.get("Debit")), _money(row.get("Credit")))
            for row in voucher.get("VoucherRows", [])
            if not row.get("Removed")
        ]
        gross, vat = _journal_amounts(rows)
        found.append(
            Document(
                target=FORTNOX,
                reference=reference,
                order_id=parts[0],
                refund_id=parts[1],
                gross=gross,
                vat=vat,
                currency="SEK",
                what=f"voucher {voucher.get('VoucherSeries')}{voucher.get('VoucherNumber')}",
            )
        )
    return found


def bokio_documents(base_url: str, company: str, prefix: str) -> list[Document]:
    """Every invoice, credit note and ledgerbridge journal entry of a Bokio sandbox company."""
    listing = httpx.get(f"{base_url}/_sandbox/companies/{company}/documents", timeout=30).json()
    found: list[Document] = []
    for kind, collection in (("invoice", "invoices"), ("credit note", "creditNotes")):
        for item in listing.get(collection, []):
            reference = str((item.get("metadata") or {}).get("lbReference") or "")
            parts = split_reference(reference, prefix)
            if parts is None:
                continue
            found.append(
                Document(
                    target=BOKIO,
                    reference=reference,
                    order_id=parts[0],
                    refund_id=parts[1],
                    gross=abs(_money(item.get("totalAmount")) + _money(item.get("totalTax"))),
                    vat=abs(_money(item.get("totalTax"))),
                    currency=str(item.get("currency") or "SEK"),
                    what=f"{kind} {item.get('invoiceNumber', '')}".strip(),
                )
            )
    for entry in listing.get("journalEntries", []):
        match = TITLE_REFERENCE.search(str(entry.get("title") or ""))
        if match is None or match.group(1).endswith("/payout"):
            continue  # Bokio's own entries, and the money paid back for a credit note
        parts = split_reference(match.group(1), prefix)
        if parts is None:
            continue
        rows = [
            (int(item["account"]), _money(item.get("debit")), _money(item.get("credit")))
            for item in entry.get("items", [])
        ]
        gross, vat = _journal_amounts(rows)
        found.append(
            Document(
                target=BOKIO,
                reference=match.group(1),
                order_id=parts[0],
                refund_id=parts[1],
                gross=gross,
                vat=vat,
                currency="SEK",
                what=f"journal entry {entry.get('journalEntryNumber', '')}".strip(),
                reversal=bool(entry.get("reversingJournalEntryId")),
            )
        )
    return found


# -- the comparison ------------------------------------------------------------------------------


@dataclass
class TargetReport:
    """The check of one ledger."""

    orders: int = 0
    exported: int = 0
    failed: int = 0
    duplicates: int = 0
    refunds: int = 0
    credited: int = 0
    unexpected: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the mismatch count and their details."""
        return {
            "orders": self.orders,
            "exported": self.exported,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "mismatches": len(self.mismatches),
            "refunds": self.refunds,
            "credited": self.credited,
            "unexpected": self.unexpected,
            "missing": self.missing,
            "mismatch_details": self.mismatches,
        }


def _expected(
    order: ShopOrder, amount: Decimal, currency: str, parts: tuple[Decimal, ...] = ()
) -> Decimal:
    if currency == order.currency:
        return amount
    rate = Decimal(MANUAL_RATES.get(order.currency, "0"))
    if parts and sum(parts, ZERO) == amount:
        return sum(((part * rate).quantize(CENT, ROUND_HALF_UP) for part in parts), ZERO)
    return (amount * rate).quantize(CENT, ROUND_HALF_UP)


def compare(orders: list[ShopOrder], documents: list[Document]) -> TargetReport:
    """Match one ledger's documents with the shop's orders and refunds."""
    report = TargetReport()
    by_order: dict[str, list[Document]] = defaultdict(list)
    for document in documents:
        by_order[document.order_id].append(document)
    shop = {order.id: order for order in orders}
    for order_id, docs in by_order.items():
        order = shop.get(order_id)
        if order is None or not order.bookable:
            report.unexpected += len(docs)
            for doc in docs:
                report.mismatches.append(
                    {"order": order_id, "document": doc.what, "problem": "not a bookable order"}
                )
    for order in orders:
        if not order.bookable:
            continue
        report.orders += 1
        docs = by_order.get(order.id, [])
        sales = [doc for doc in docs if not doc.is_credit]
        if not sales:
            report.failed += 1
            report.missing.append(order.number)
        else:
            report.exported += 1
            report.duplicates += len(sales) - 1
            for sale in sales:
                _check(report, order, sale, order.total, order.vat, None)
        credits = [doc for doc in docs if doc.is_credit]
        _check_credits(report, order, credits)
    return report


def _check(
    report: TargetReport,
    order: ShopOrder,
    doc: Document,
    gross: Decimal,
    vat: Decimal | None,
    refund: str | None,
) -> None:
    expected_gross = _expected(order, gross, doc.currency)
    subject = {"order": order.number, "document": doc.what, "currency": doc.currency}
    if refund:
        subject["refund"] = refund
    if doc.currency not in (order.currency, "SEK"):
        report.mismatches.append({**subject, "problem": f"currency {doc.currency}"})
    if doc.gross != expected_gross:
        report.mismatches.append(
            {**subject, "field": "gross", "shop": str(expected_gross), "ledger": str(doc.gross)}
        )
    if vat is not None:
        parts = dict(order.refund_vat_parts).get(refund, ()) if refund else order.vat_parts
        expected_vat = _expected(order, vat, doc.currency, parts)
        if doc.vat != expected_vat:
            report.mismatches.append(
                {**subject, "field": "vat", "shop": str(expected_vat), "ledger": str(doc.vat)}
            )


def _check_credits(report: TargetReport, order: ShopOrder, credits: list[Document]) -> None:
    by_refund: dict[str, list[Document]] = defaultdict(list)
    reversals = [doc for doc in credits if doc.reversal]
    for doc in credits:
        if not doc.reversal:
            by_refund[doc.refund_id].append(doc)
    for refund_id, amount, vat in order.refunds:
        report.refunds += 1
        docs = by_refund.pop(refund_id, [])
        if not docs and reversals and amount == order.total:
            docs = [reversals.pop(0)]  # a full refund may reverse the original entry instead
        if not docs:
            report.missing.append(f"{order.number} refund {refund_id}")
            continue
        report.credited += 1
        report.duplicates += len(docs) - 1
        for doc in docs:
            _check(report, order, doc, amount, vat, refund_id)
    for refund_id, docs in by_refund.items():
        report.unexpected += len(docs)
        for doc in docs:
            report.mismatches.append(
                {
                    "order": order.number,
                    "refund": refund_id,
                    "document": doc.what,
                    "problem": "no such refund in the shop",
                }
            )
    for doc in reversals:
        report.unexpected += 1
        report.mismatches.append(
            {"order": order.number, "document": doc.what, "problem": "reversal without refund"}
        )


def explain(runtime: Runtime, site_id: int, numbers: list[str]) -> dict[str, list[str]]:
    """Why the pipeline did not book these orders, from its own records (for the reader only:
    the counts above come from the ledgers)."""
    from sqlalchemy import select

    from ledgerbridge.masking import scrub
    from ledgerbridge.store.models import Export, OrderRecord

    reasons: dict[str, list[str]] = {}
    with runtime.transaction() as session:
        for number in numbers:
            record = session.scalar(
                select(OrderRecord).where(
                    OrderRecord.site_id == site_id, OrderRecord.number == number
                )
            )
            if record is None:
                reasons[number] = ["never fetched from the shop"]
                continue
            exports = session.scalars(select(Export).where(Export.order_id == record.id))
            reasons[number] = sorted(
                {f"{export.state}: {scrub(export.message)}" for export in exports}
            ) or [record.problem or "no export was created"]
    return reasons


def check(
    runtime: Runtime, boxes: Sandboxes, site_id: int, prefix: str
) -> tuple[dict[str, Any], bool]:
    """The JSON summary of both ledgers, and whether everything was exported once and matches."""
    orders = shop_orders(runtime, site_id)
    targets = {
        "fortnox": compare(
            orders, fortnox_documents(boxes.fortnox.url, boxes.fortnox_tenant, prefix)
        ),
        "bokio": compare(orders, bokio_documents(boxes.bokio.url, boxes.bokio_company, prefix)),
    }
    bookable = [order for order in orders if order.bookable]
    missing_anywhere = {
        number for report in targets.values() for number in report.missing if " " not in number
    }
    summary = {
        "orders": len(bookable),
        "exported": len(bookable) - len(missing_anywhere),
        "failed": len(missing_anywhere),
        "duplicates": sum(report.duplicates for report in targets.values()),
        "mismatches": sum(len(report.mismatches) for report in targets.values()),
        "shop_orders": len(orders),
        "targets": {name: report.as_dict() for name, report in targets.items()},
        "problems": explain(runtime, site_id, sorted(missing_anywhere)),
    }
    ok = (
        summary["failed"] == 0
        and summary["duplicates"] == 0
        and summary["mismatches"] == 0
        and all(r.credited == r.refunds and r.exported == r.orders for r in targets.values())
    )
    return summary, ok
