"""How Fortnox computes a document's totals from its rows (reference §5).

Used twice: by the sandbox, which answers with these totals, and by the connector, which
predicts them to choose ``VATIncluded`` and to add an öre adjustment when Fortnox's rounding
would otherwise give a VAT amount other than the one the customer paid.

Rules: row price and quantity are kept at 2 decimals (half-up); a row amounts to
price × quantity × (1 − discount %) rounded to öre; VAT is computed per VAT rate on the sum of
that rate's rows (rounding on totals, not per line); freight and administration fee take the
rate of the largest amount; customers with VAT type EUREVERSEDVAT, EXPORT or SEREVERSEDVAT
pay no VAT; ``RoundOff`` rounds the payable amount to whole kronor when the company uses
öresavrundning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ledgerbridge.money import HUNDRED, ZERO, quantize

ZERO_VAT_TYPES = frozenset({"EUREVERSEDVAT", "EXPORT", "SEREVERSEDVAT"})
ONE = Decimal("1")


@dataclass(frozen=True, slots=True)
class RowAmount:
    """What Fortnox reads from one row: price, quantity, discount percent, VAT rate."""

    price: Decimal
    quantity: Decimal
    vat: Decimal
    discount_percent: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """The row total in the document's price basis (incl. VAT when VATIncluded)."""
        price = quantize(self.price)
        quantity = quantize(self.quantity)
        return quantize(price * quantity * (HUNDRED - self.discount_percent) / HUNDRED)


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """Header totals as Fortnox computes them, with the VAT per rate."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    round_off: Decimal
    total: Decimal
    freight_vat: Decimal = ZERO
    administration_fee_vat: Decimal = ZERO
    per_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)


def compute_totals(
    rows: Iterable[RowAmount],
    *,
    vat_included: bool,
    vat_type: str = "SEVAT",
    freight: Decimal = ZERO,
    administration_fee: Decimal = ZERO,
    round_off: bool = False,
) -> DocumentTotals:
    """The totals of a document whose rows, freight and fee are given."""
    zero_vat = vat_type in ZERO_VAT_TYPES
    groups: dict[Decimal, Decimal] = {}
    for row in rows:
        rate = ZERO if zero_vat else Decimal(row.vat)
        groups[rate] = groups.get(rate, ZERO) + row.amount
    extras_rate = _largest_rate(groups, zero_vat)
    freight_amount = quantize(freight)
    fee_amount = quantize(administration_fee)
    per_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for rate, amount in groups.items():
        per_rate[rate] = _split(amount, rate, vat_included)
    freight_vat = _split(freight_amount, extras_rate, vat_included)[1] if freight_amount else ZERO
    fee_vat = _split(fee_amount, extras_rate, vat_included)[1] if fee_amount else ZERO
    if freight_amount or fee_amount:
        base, vat = per_rate.get(extras_rate, (ZERO, ZERO))
        f_base, f_vat = _split(freight_amount + fee_amount, extras_rate, vat_included)
        per_rate[extras_rate] = (base + f_base, vat + f_vat)
    net = sum((base for base, _ in per_rate.values()), ZERO)
    vat = sum((amount for _, amount in per_rate.values()), ZERO)
    gross = net + vat
    rounding = (quantize(gross, ONE) - gross) if round_off else ZERO
    return DocumentTotals(
        net=net,
        vat=vat,
        gross=gross,
        round_off=rounding,
        total=gross + rounding,
        freight_vat=freight_vat,
        administration_fee_vat=fee_vat,
        per_rate=per_rate,
    )


def _largest_rate(groups: dict[Decimal, Decimal], zero_vat: bool) -> Decimal:
    if zero_vat:
        return ZERO
    if not groups:
        return Decimal("25")
    return max(groups.items(), key=lambda item: (abs(item[1]), item[0]))[0]


def _split(amount: Decimal, rate: Decimal, vat_included: bool) -> tuple[Decimal, Decimal]:
    """(net, VAT) of ``amount`` at ``rate`` in the given price basis."""
    if vat_included:
        vat = quantize(amount * rate / (HUNDRED + rate))
        return amount - vat, vat
    return amount, quantize(amount * rate / HUNDRED)
