"""Refund → credit note that references the original document and reuses its rates.

Conventions: a credit note's rows carry the amounts it takes back with the sign they had on the
original (a returned item is a positive row), its ``total`` is the refunded amount (positive),
and its journal is the original's turned around (revenue and VAT debited, the payment or
receivable account credited). ``credit.original_reference`` names the document it corrects.

How a refund is credited (every amount at the original's VAT rate and SEK rate):

* a refunded line credits that line's rows: the shop's refunded net and VAT when the line had
  one rate, otherwise its gross shared over the line's rates (shipping split by rate) with the
  VAT backed out; the refund that completes a line credits exactly what is left of it, so a
  full refund reverses the original to the öre;
* an amount not tied to any line is spread over what is left of the original, in proportion to
  the gross left per line and rate, so the credit's gross equals the refunded amount exactly;
* earlier refunds of the order are replayed first: nothing is ever credited twice, and a refund
  that would credit more than was sold (per line, per quantity or in total) is a data error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ledgerbridge.accounting.allocation import allocate
from ledgerbridge.accounting.builder import (
    MAX_ROUNDING,
    ORDER_DOCUMENT_TYPES,
    build_document,
    finish,
)
from ledgerbridge.accounting.dates import local_date
from ledgerbridge.accounting.errors import SkipExport
from ledgerbridge.accounting.journal import build_journal, rounding_row, sek_rows
from ledgerbridge.accounting.posting import Posting
from ledgerbridge.accounting.scenario import NO_VAT
from ledgerbridge.accounting.vat import LINE_TOLERANCE, vat_summary
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import (
    AccountingDocument,
    CreditReference,
    DocumentRow,
    DocumentType,
    RowKind,
    VatScenario,
)
from ledgerbridge.model.order import Order, Refund, RefundLine, RefundLineKind
from ledgerbridge.money import HUNDRED, ORE, ZERO, format_amount, money_sum, vat_of_gross
from ledgerbridge.plugins.facade import Hooks


@dataclass
class _Bucket:
    """What was sold of one line at one rate (or of one unbound row), and how much is credited."""

    line_id: str
    rate: Decimal
    rows: list[DocumentRow]
    credited_net: Decimal = ZERO
    credited_vat: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return money_sum(row.net for row in self.rows)

    @property
    def vat(self) -> Decimal:
        return money_sum(row.vat_amount for row in self.rows)

    @property
    def remaining_net(self) -> Decimal:
        return self.net - self.credited_net

    @property
    def remaining_vat(self) -> Decimal:
        return self.vat - self.credited_vat

    @property
    def remaining_gross(self) -> Decimal:
        return self.remaining_net + self.remaining_vat

    @property
    def main(self) -> DocumentRow:
        """The row credits are booked like (the item row, not its discount row)."""
        return next((row for row in self.rows if row.kind is not RowKind.DISCOUNT), self.rows[0])

    def take(self, net: Decimal, vat: Decimal, quantity: Decimal, description: str) -> DocumentRow:
        """Credit ``net`` and ``vat`` of this bucket; the credit row."""
        self.credited_net += net
        self.credited_vat += vat
        main = self.main
        return main.replace(
            description=description or main.description,
            quantity=quantity,
            net=net,
            vat_amount=vat,
        )

    def take_rest(self) -> list[DocumentRow]:
        """Credit everything left of this bucket, as the original rows when nothing was taken."""
        if self.credited_net == 0 and self.credited_vat == 0:
            self.credited_net, self.credited_vat = self.net, self.vat
            return list(self.rows)
        return [self.take(self.remaining_net, self.remaining_vat, Decimal(1), "")]


@dataclass
class _Ledger:
    """The original document's buckets with what earlier refunds already took back."""

    original: AccountingDocument
    order: Order
    buckets: list[_Bucket] = field(default_factory=list)
    line_gross: dict[str, Decimal] = field(default_factory=dict)
    line_quantity: dict[str, Decimal] = field(default_factory=dict)
    refunded: Decimal = ZERO
    rounding_credited: Decimal = ZERO

    @property
    def rounding_left(self) -> Decimal:
        """The part of the original's rounding (of its total) not credited yet."""
        rounding = money_sum(row.net for row in self.original.rows if row.kind is RowKind.ROUNDING)
        return rounding - self.rounding_credited

    @classmethod
    def of(cls, original: AccountingDocument, order: Order) -> _Ledger:
        ledger = cls(original, order)
        index: dict[tuple[str, Decimal], _Bucket] = {}
        for position, row in enumerate(original.rows):
            if row.kind is RowKind.ROUNDING:
                continue
            line_id = row.source_line_id or f"#{position}"
            key = (line_id, row.vat_rate)
            if key not in index:
                index[key] = _Bucket(line_id, row.vat_rate, [])
                ledger.buckets.append(index[key])
            index[key].rows.append(row)
        return ledger

    @property
    def without_vat(self) -> bool:
        return self.original.scenario in NO_VAT

    def line_buckets(self, line_id: str) -> list[_Bucket]:
        return [bucket for bucket in self.buckets if bucket.line_id == line_id]

    def foreign_tax_buckets(self) -> list[_Bucket]:
        return [
            bucket
            for bucket in self.buckets
            if bucket.line_id.startswith("#") and bucket.main.kind is RowKind.FEE
        ]


def _refund_order(refund: Refund) -> tuple:
    return (refund.created_at, int(refund.id) if refund.id.isdigit() else 0, refund.id)


def build_credit_note(
    order: Order,
    refund_id: str,
    route: RouteContext,
    hooks: Hooks,
    original: AccountingDocument | None = None,
) -> AccountingDocument:
    """The credit note of refund ``refund_id`` of ``order``.

    ``original`` is the order's document as exported, when the pipeline has it; otherwise it
    is built again from the order. Raises ``DataError`` when the refund cannot be credited
    safely (unknown line, more than was sold) and :class:`SkipExport` for a 0.00 refund.
    """
    refund = order.refund(str(refund_id))
    if refund is None:
        raise DataError(f"Order {order.number} has no refund {refund_id}.")
    if refund.amount < 0:
        raise DataError(f"Refund {refund.id} of order {order.number} has a negative amount.")
    if refund.amount == 0:
        raise SkipExport(f"Refund {refund.id} of order {order.number} is 0.00: nothing to credit.")
    if original is None:
        try:
            original = build_document(order, route, hooks)
        except SkipExport as exc:
            raise DataError(
                f"Refund {refund.id}: order {order.number} itself was not exported ({exc})."
            ) from exc
    if original.document_type not in ORDER_DOCUMENT_TYPES:
        raise DataError(
            f"Refund {refund.id}: the original document {original.reference} is a "
            f"{original.document_type.value}, not an invoice or cash sale."
        )
    ledger = _Ledger.of(original, order)
    warnings: list[str] = []
    rows: list[DocumentRow] = []
    for earlier in sorted(order.refunds, key=_refund_order):
        if earlier.id == refund.id:
            rows = _credit(ledger, refund, warnings)
            break
        if earlier.amount > 0:
            _credit(ledger, earlier, [])
    posting = Posting(order, route, hooks, original.scenario, original.country)
    rounding_account = posting.rounding()
    residual = refund.amount - money_sum(row.gross for row in rows)
    if abs(residual) > MAX_ROUNDING:
        raise DataError(
            f"Refund {refund.id}: its lines credit {format_amount(refund.amount - residual)} "
            f"but the refund is {format_amount(refund.amount)}."
        )
    if residual:
        rows.append(rounding_row(residual, rounding_account))

    full = ledger.refunded == original.total
    counter = (
        original.receivable_account
        if original.document_type is DocumentType.INVOICE
        else original.payment_account
    )
    rows_in_sek, total_in_sek = sek_rows(rows, refund.amount, original.sek_rate, rounding_account)
    journal = build_journal(
        rows_in_sek,
        [(counter, total_in_sek, f"Återbetalning order {order.number}")],
        credit_note=True,
        vat_label=original.country if original.scenario is VatScenario.OSS else "",
    )
    reason = f": {refund.reason}" if refund.reason else ""
    texts = (
        f"Kreditering av {original.reference} daterad {original.date.isoformat()}{reason}",
        *original.texts,
    )
    document = AccountingDocument(
        document_type=DocumentType.CREDIT_NOTE,
        scenario=original.scenario,
        reference=f"{route.site.reference(order.number or order.id)}-R{refund.id}",
        order_id=order.id,
        order_number=order.number,
        date=local_date(refund.created_at),
        currency=original.currency,
        customer=original.customer,
        rows=tuple(rows),
        vat=vat_summary(rows),
        journal=journal,
        total=refund.amount,
        sek_rate=original.sek_rate,
        payment_method=original.payment_method,
        payment_title=original.payment_title,
        payment_account=original.payment_account,
        receivable_account=original.receivable_account,
        country=original.country,
        texts=texts,
        warnings=tuple(warnings),
        credit=CreditReference(
            original_reference=original.reference,
            refund_id=refund.id,
            full=full,
            reason=refund.reason,
        ),
        source_ids=(order.id, refund.id),
        meta=dict(original.meta),
    )
    return finish(document, order, route, hooks)


def _credit(ledger: _Ledger, refund: Refund, warnings: list[str]) -> list[DocumentRow]:
    """Credit ``refund`` against ``ledger`` (which it updates); the credit rows."""
    ledger.refunded += refund.amount
    if ledger.refunded > ledger.original.total:
        raise DataError(
            f"Refund {refund.id}: refunds of order {ledger.order.number} add up to "
            f"{format_amount(ledger.refunded)}, more than its total "
            f"{format_amount(ledger.original.total)}."
        )
    rows: list[DocumentRow] = []
    foreign_tax = ZERO
    for line in refund.lines:
        line_rows, tax = _credit_line(ledger, refund, line, warnings)
        rows.extend(line_rows)
        foreign_tax += tax
    if foreign_tax:
        rows.extend(_credit_foreign_tax(ledger, refund, foreign_tax))
    unallocated = refund.unallocated
    if unallocated < -ORE * max(1, len(refund.lines)):
        raise DataError(
            f"Refund {refund.id}: its lines add up to {format_amount(refund.lines_gross)}, "
            f"more than the refunded {format_amount(refund.amount)}."
        )
    if ledger.refunded == ledger.original.total:
        # The refund that completes the order takes back exactly everything left, so the
        # credits reverse the original to the öre; what differs (the original's rounding of
        # its total) goes to the rounding account.
        left = [(bucket, bucket.remaining_net, bucket.remaining_vat) for bucket in ledger.buckets]
        rows.extend(_spread_rows(ledger, refund, left))
    elif unallocated > 0:
        rows.extend(_spread(ledger, refund, unallocated))
    _check_rates(ledger, refund)
    ledger.rounding_credited += refund.amount - money_sum(row.gross for row in rows)
    return rows


def _check_rates(ledger: _Ledger, refund: Refund) -> None:
    """Refuse credits that take back more at a VAT rate than was sold at that rate."""
    sold: dict[Decimal, Decimal] = {}
    credited: dict[Decimal, Decimal] = {}
    for bucket in ledger.buckets:
        sold[bucket.rate] = sold.get(bucket.rate, ZERO) + bucket.net + bucket.vat
        credited[bucket.rate] = (
            credited.get(bucket.rate, ZERO) + bucket.credited_net + bucket.credited_vat
        )
    for rate, amount in credited.items():
        if amount > max(sold[rate], ZERO):
            raise DataError(
                f"Refund {refund.id}: {format_amount(amount)} would be credited at "
                f"{rate.normalize():f} % in all, but {format_amount(sold[rate])} was sold at "
                "that rate (after the order's discounts). Book this refund by hand."
            )


def _credit_line(
    ledger: _Ledger, refund: Refund, line: RefundLine, warnings: list[str]
) -> tuple[list[DocumentRow], Decimal]:
    """Credit rows of one refunded line, and the foreign sales tax it gives back (exports)."""
    sold = ledger.order.line(line.original_line_id)
    buckets = ledger.line_buckets(line.original_line_id)
    if sold is None or not buckets:
        raise DataError(
            f"Refund {refund.id} refers to line {line.original_line_id}, which order "
            f"{ledger.order.number} does not have."
        )
    name = line.name or buckets[0].main.description
    quantity = abs(line.quantity)
    sold_quantity = getattr(sold, "quantity", None)
    if line.kind is RefundLineKind.ITEM and sold_quantity is not None:
        taken = ledger.line_quantity.get(line.original_line_id, ZERO) + quantity
        if taken > abs(sold_quantity):
            raise DataError(
                f"Refund {refund.id}: {taken.normalize():f} of {name} would be refunded in "
                f"all, but the order has {sold_quantity.normalize():f}."
            )
        ledger.line_quantity[line.original_line_id] = taken
    foreign_tax = line.total_tax if ledger.without_vat else ZERO
    gross = line.total if ledger.without_vat else line.gross
    sold_gross = sold.total if ledger.without_vat else sold.gross
    before = ledger.line_gross.get(line.original_line_id, ZERO)
    if before + gross > sold_gross + ORE:
        raise DataError(
            f"Refund {refund.id}: {format_amount(before + gross)} of {name} would be credited in "
            f"all, but it was sold for {format_amount(sold_gross)}."
        )
    ledger.line_gross[line.original_line_id] = before + gross
    remaining = money_sum(bucket.remaining_gross for bucket in buckets)
    if gross > remaining + ORE * len(buckets):
        raise DataError(
            f"Refund {refund.id}: {name} has {format_amount(remaining)} left to credit after "
            f"earlier refunds, not {format_amount(gross)}. Book this refund by hand."
        )
    if abs(sold_gross - (before + gross)) <= ORE:
        return [row for bucket in buckets for row in bucket.take_rest()], foreign_tax
    count = quantity if quantity > 0 else Decimal(1)
    if len(buckets) == 1:
        bucket = buckets[0]
        net, vat = _split_line(line, bucket.rate, ledger.without_vat, warnings, name)
        return [bucket.take(net, vat, count, "")], foreign_tax
    weights = [max(bucket.remaining_gross, ZERO) for bucket in buckets]
    credit_rows = []
    for bucket, part in zip(buckets, allocate(gross, weights)):
        if part == 0:
            continue
        vat = vat_of_gross(part, bucket.rate)
        credit_rows.append(bucket.take(part - vat, vat, Decimal(1), ""))
    return credit_rows, foreign_tax


def _split_line(
    line: RefundLine, rate: Decimal, without_vat: bool, warnings: list[str], name: str
) -> tuple[Decimal, Decimal]:
    """Net and VAT of a refunded line at the original's ``rate``."""
    if without_vat:
        return line.total, ZERO
    expected = line.total * rate / HUNDRED
    if line.vat_rate == rate and abs(line.total_tax - expected) <= LINE_TOLERANCE:
        return line.total, line.total_tax
    vat = vat_of_gross(line.gross, rate)
    warnings.append(
        f"{name}: the shop refunded {format_amount(line.total_tax)} VAT; credited "
        f"{format_amount(vat)} at the original rate of {rate.normalize():f} %."
    )
    return line.gross - vat, vat


def _credit_foreign_tax(ledger: _Ledger, refund: Refund, amount: Decimal) -> list[DocumentRow]:
    buckets = ledger.foreign_tax_buckets()
    remaining = money_sum(bucket.remaining_gross for bucket in buckets)
    if not buckets or amount > remaining:
        raise DataError(
            f"Refund {refund.id} gives back {format_amount(amount)} tax, more than the "
            f"{format_amount(remaining)} of sales tax left on order {ledger.order.number}."
        )
    weights = [max(bucket.remaining_gross, ZERO) for bucket in buckets]
    return [
        bucket.take(part, ZERO, Decimal(1), "")
        for bucket, part in zip(buckets, allocate(amount, weights))
        if part
    ]


def _spread(ledger: _Ledger, refund: Refund, amount: Decimal) -> list[DocumentRow]:
    """An amount-only refund spread over what is left of the original, per rate and line.

    The amount is shared over the VAT rates by the gross left at each rate (discounts booked
    as negative fees reduce their rate's share), then over the lines of each rate.
    """
    by_rate: dict[Decimal, list[_Bucket]] = {}
    for bucket in ledger.buckets:
        by_rate.setdefault(bucket.rate, []).append(bucket)
    rates = list(by_rate)
    capacity = [
        max(money_sum(bucket.remaining_gross for bucket in by_rate[rate]), ZERO) for rate in rates
    ]
    excess = amount - money_sum(capacity)
    if 0 < excess <= ledger.rounding_left:
        # More than the goods left: the rest is the original's rounding of its total.
        amount -= excess
    if amount > money_sum(capacity):
        raise DataError(
            f"Refund {refund.id}: {format_amount(amount)} is to be credited but only "
            f"{format_amount(money_sum(capacity))} of order {ledger.order.number} is left to "
            "credit."
        )
    taken: list[tuple[_Bucket, Decimal, Decimal]] = []
    for rate, share in zip(rates, allocate(amount, capacity) if amount else []):
        buckets = [bucket for bucket in by_rate[rate] if bucket.remaining_gross > 0]
        if share == 0 or not buckets:
            continue
        weights = [bucket.remaining_gross for bucket in buckets]
        for bucket, part in zip(buckets, allocate(share, weights)):
            if part == bucket.remaining_gross:
                taken.append((bucket, bucket.remaining_net, bucket.remaining_vat))
            elif part:
                vat = vat_of_gross(part, bucket.rate)
                taken.append((bucket, part - vat, vat))
    return _spread_rows(ledger, refund, taken)


def _spread_rows(
    ledger: _Ledger, refund: Refund, taken: list[tuple[_Bucket, Decimal, Decimal]]
) -> list[DocumentRow]:
    """Credit rows for amounts taken from buckets, one per account, rate and kind of item."""
    description = f"Återbetalning{': ' + refund.reason if refund.reason else ''}"
    grouped: dict[tuple[str, Decimal, str, str], DocumentRow] = {}
    for bucket, net, vat in taken:
        if net == 0 and vat == 0:
            continue
        row = bucket.take(net, vat, Decimal(1), description)
        key = (row.account, row.vat_rate, row.vat_account, row.item_kind.value)
        known = grouped.get(key)
        grouped[key] = (
            row.replace(kind=RowKind.ITEM, sku="", source_line_id="")
            if known is None
            else known.replace(net=known.net + net, vat_amount=known.vat_amount + vat)
        )
    return list(grouped.values())
