"""The balanced journal of a document, in SEK.

Rows are converted to SEK first (:func:`sek_rows`): each net at the document's rate, the VAT
once per rate (VAT is fixed in SEK), the total once; the öre left over by rounding goes to the
rounding account, never into VAT. The journal (:func:`build_journal`) then has one line for the
payment or receivable account, one per revenue account and rate, one per VAT account and one
per rounding account, so it balances by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ledgerbridge.model.document import DocumentRow, JournalLine, RowKind
from ledgerbridge.money import ZERO, money_sum, quantize

_KIND_LABELS = {
    RowKind.ITEM: "Försäljning",
    RowKind.SHIPPING: "Frakt",
    RowKind.DISCOUNT: "Rabatt",
}


def sek_rows(
    rows: Sequence[DocumentRow], total: Decimal, rate: Decimal, rounding_account: str
) -> tuple[list[DocumentRow], Decimal]:
    """``rows`` and ``total`` in SEK at ``rate``; rounding differences on a rounding row."""
    if rate == 1:
        return list(rows), total
    converted = [
        row.replace(net=quantize(row.net * rate), vat_amount=quantize(row.vat_amount * rate))
        for row in rows
    ]
    by_rate: dict[Decimal, list[int]] = {}
    for index, row in enumerate(rows):
        if row.kind is not RowKind.ROUNDING and row.vat_amount != 0:
            by_rate.setdefault(row.vat_rate, []).append(index)
    for indexes in by_rate.values():
        vat_sek = quantize(money_sum(rows[index].vat_amount for index in indexes) * rate)
        difference = vat_sek - money_sum(converted[index].vat_amount for index in indexes)
        if difference:
            largest = max(indexes, key=lambda index: abs(converted[index].vat_amount))
            row = converted[largest]
            converted[largest] = row.replace(vat_amount=row.vat_amount + difference)
    total_sek = quantize(total * rate)
    residual = total_sek - money_sum(row.gross for row in converted)
    if residual:
        converted = _add_rounding(converted, residual, rounding_account)
    return converted, total_sek


def _add_rounding(rows: list[DocumentRow], amount: Decimal, account: str) -> list[DocumentRow]:
    for index, row in enumerate(rows):
        if row.kind is RowKind.ROUNDING:
            rows[index] = row.replace(net=row.net + amount)
            return rows
    rows.append(rounding_row(amount, account))
    return rows


def rounding_row(amount: Decimal, account: str) -> DocumentRow:
    """A row holding an öre difference on the rounding account (no VAT)."""
    return DocumentRow(
        kind=RowKind.ROUNDING,
        description="Öresavrundning",
        account=account,
        quantity=Decimal(1),
        net=amount,
        vat_rate=ZERO,
        vat_amount=ZERO,
    )


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


def _revenue_description(rows: list[DocumentRow]) -> str:
    kinds = {row.kind for row in rows}
    rate = _percent(rows[0].vat_rate)
    for kind in (RowKind.ITEM, RowKind.SHIPPING, RowKind.DISCOUNT):
        if kind in kinds:
            return f"{_KIND_LABELS[kind]} {rate}"
    return rows[0].description


#: A payment or receivable line of a journal: account, SEK amount, description.
Counter = tuple[str, Decimal, str]


def build_journal(
    rows: Sequence[DocumentRow],
    counters: Sequence[Counter],
    *,
    credit_note: bool = False,
    vat_label: str = "",
) -> tuple[JournalLine, ...]:
    """The balanced journal of SEK ``rows`` against ``counters`` (which add up to their gross).

    The counter accounts (payment or receivable) take the total: debited for a sale (first
    lines), credited for a credit note (last lines; its rows are the positive amounts it takes
    back). ``vat_label`` is put
    in the VAT lines' descriptions (e.g. ``"DE"`` for OSS).
    """
    if money_sum(amount for _, amount, _ in counters) != money_sum(row.gross for row in rows):
        raise ValueError("journal counters do not add up to the rows")
    entries: list[tuple[str, Decimal, str]] = [] if credit_note else list(counters)
    revenue: dict[tuple[str, Decimal], list[DocumentRow]] = {}
    vat: dict[tuple[str, Decimal], Decimal] = {}
    rounding: dict[str, Decimal] = {}
    for row in sorted(rows, key=lambda row: row.vat_rate):
        if row.kind is RowKind.ROUNDING:
            rounding[row.account] = rounding.get(row.account, ZERO) + row.net
            continue
        revenue.setdefault((row.account, row.vat_rate), []).append(row)
        if row.vat_amount:
            key = (row.vat_account, row.vat_rate)
            vat[key] = vat.get(key, ZERO) + row.vat_amount
    rates = sorted({rate for _, rate in revenue})
    label = f"{vat_label} " if vat_label else ""
    for rate in rates:
        for (account, row_rate), group in revenue.items():
            if row_rate == rate:
                net = money_sum(row.net for row in group)
                entries.append((account, -net, _revenue_description(group)))
        for (account, vat_rate), amount in vat.items():
            if vat_rate == rate:
                entries.append((account, -amount, f"Utgående moms {label}{_percent(rate)}"))
    for account, amount in rounding.items():
        entries.append((account, -amount, "Öresavrundning"))
    if credit_note:
        entries.extend(counters)
    sign = Decimal(-1) if credit_note else Decimal(1)
    lines = []
    for account, amount, description in entries:
        signed = amount * sign
        if signed == 0:
            continue
        lines.append(
            JournalLine(
                account=account,
                debit=signed if signed > 0 else ZERO,
                credit=-signed if signed < 0 else ZERO,
                description=description,
            )
        )
    return tuple(lines)
