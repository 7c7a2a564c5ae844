"""Daily summary (dagskassa): one day's cash sales of a route as one balanced document.

The summary is in SEK. Each cash sale is converted at its own rate (as in its own journal),
its rows are added up per account, VAT rate and VAT account, and the journal debits one line
per payment account (card/PSP clearing, Swish, bank...), so the day's payments can be matched
against the PSP's payouts. ``source_ids`` lists the orders and ``meta["references"]`` their
references, so every figure can be traced back to its orders.

Reference: ``f"{site.reference_prefix}DAY-{YYYY-MM-DD}-{route.id}"`` — unique per route and
day, and distinct between sites sharing a ledger through the site prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ledgerbridge.accounting.accounts import AccountBook
from ledgerbridge.accounting.journal import Counter, build_journal, sek_rows
from ledgerbridge.accounting.vat import vat_summary
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import (
    AccountingDocument,
    DocumentRow,
    DocumentType,
    RowKind,
    VatScenario,
)
from ledgerbridge.money import ZERO

_DESCRIPTIONS = {
    RowKind.ITEM: "Försäljning",
    RowKind.SHIPPING: "Frakt",
    RowKind.FEE: "Avgifter",
    RowKind.DISCOUNT: "Rabatter",
    RowKind.ROUNDING: "Öresavrundning",
}


def daily_summary_reference(route: RouteContext, day: date) -> str:
    """The external reference of ``route``'s summary for ``day``."""
    return f"{route.site.reference_prefix}DAY-{day.isoformat()}-{route.id}"


def daily_summary_eligible(document: AccountingDocument) -> bool:
    """Whether ``document`` goes into a daily summary: a domestic cash sale.

    Invoices need a customer ledger entry of their own; sales abroad (EU, OSS, export) are
    reported per buyer or per country and are exported one by one.
    """
    return (
        document.document_type is DocumentType.CASH_SALE
        and document.scenario is VatScenario.DOMESTIC
    )


def build_daily_summary(
    documents: Iterable[AccountingDocument], route: RouteContext, day: date
) -> AccountingDocument:
    """One document for ``day``'s cash sales on ``route`` (see the module docstring).

    Raises ``DataError`` for an empty day, a document that is not a cash sale of that day, a
    document listed twice, or documents of different VAT scenarios.
    """
    documents = list(documents)
    if not documents:
        raise DataError(f"No cash sales on {day.isoformat()} to summarize.")
    seen: set[str] = set()
    for document in documents:
        if document.document_type is not DocumentType.CASH_SALE:
            raise DataError(
                f"{document.reference} is a {document.document_type.value}; a daily summary "
                "holds cash sales only."
            )
        if document.date != day:
            raise DataError(
                f"{document.reference} is dated {document.date.isoformat()}, not {day.isoformat()}."
            )
        if document.reference in seen:
            raise DataError(f"{document.reference} is listed twice in the daily summary.")
        seen.add(document.reference)
    scenarios = {document.scenario for document in documents}
    if len(scenarios) > 1:
        names = ", ".join(sorted(scenario.value for scenario in scenarios))
        raise DataError(f"A daily summary holds one VAT scenario, not several ({names}).")
    rounding_account = AccountBook(route.settings.accounts).get("rounding")

    rows: dict[tuple[RowKind, str, Decimal, str, str], DocumentRow] = {}
    payments: dict[str, tuple[Decimal, list[str]]] = {}
    warnings: list[str] = []
    for document in documents:
        converted, total = sek_rows(
            document.rows, document.total, document.sek_rate, rounding_account
        )
        for row in converted:
            key = (row.kind, row.account, row.vat_rate, row.vat_account, row.item_kind.value)
            known = rows.get(key)
            rows[key] = (
                _summary_row(row)
                if known is None
                else known.replace(
                    net=known.net + row.net, vat_amount=known.vat_amount + row.vat_amount
                )
            )
        amount, titles = payments.get(document.payment_account, (ZERO, []))
        title = document.payment_title or document.payment_method
        payments[document.payment_account] = (
            amount + total,
            titles if not title or title in titles else [*titles, title],
        )
        warnings.extend(f"{document.reference}: {warning}" for warning in document.warnings)

    summary_rows = tuple(rows.values())
    counters: list[Counter] = [
        (account, amount, f"Dagskassa {day.isoformat()} {', '.join(titles)}".strip())
        for account, (amount, titles) in payments.items()
    ]
    journal = build_journal(summary_rows, counters)
    scenario = scenarios.pop()
    return AccountingDocument(
        document_type=DocumentType.DAILY_SUMMARY,
        scenario=scenario,
        reference=daily_summary_reference(route, day),
        order_id="",
        order_number="",
        date=day,
        currency="SEK",
        customer=None,
        rows=summary_rows,
        vat=vat_summary(summary_rows),
        journal=journal,
        total=sum((amount for amount, _ in payments.values()), ZERO),
        payment_account=next(iter(payments)) if len(payments) == 1 else "",
        texts=(f"Dagskassa {day.isoformat()}: {len(documents)} ordrar",),
        warnings=tuple(warnings),
        source_ids=tuple(document.order_id for document in documents),
        meta={
            "references": ",".join(document.reference for document in documents),
            "orders": str(len(documents)),
        },
    )


def _summary_row(row: DocumentRow) -> DocumentRow:
    rate = f"{row.vat_rate.normalize():f} %"
    description = _DESCRIPTIONS[row.kind]
    if row.kind is not RowKind.ROUNDING:
        description = f"{description} {rate}"
    return row.replace(description=description, quantity=Decimal(1), sku="", source_line_id="")
