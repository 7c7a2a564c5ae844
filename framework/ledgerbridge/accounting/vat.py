"""VAT arithmetic: the shop's tax lines as the truth, shipping and fees split over the goods' rates.

* :func:`charged_taxes` reads what the shop charged per rate (its tax lines).
* :func:`reconcile` makes the charges' VAT per rate equal those tax lines, moving a rounding
  difference of at most an öre per line onto the largest charge of the rate; anything larger is a
  data error (wrong tax class, wrong rate).
* :func:`check_rates` refuses a line whose VAT does not match its rate.
* :func:`spread_ancillaries` splits shipping, fees and discount fees over the goods' VAT rates in
  proportion to the goods' net value per rate (Skatteverket, letter 2002-09-13): the gross of
  the charge is allocated, VAT backed out of each part, the remainder kept exact.
* :func:`vat_summary` sums rows per rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledgerbridge.accounting.allocation import allocate
from ledgerbridge.accounting.charges import Charge
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import DocumentRow, RowKind, VatLine
from ledgerbridge.model.order import FeeLine, Order, OrderLine, ShippingLine
from ledgerbridge.money import HUNDRED, ORE, ZERO, format_amount, quantize, vat_of_gross

#: How far a line's VAT may be from net × rate (WooCommerce rounds raw 6-decimal taxes per line).
LINE_TOLERANCE = Decimal("0.02")


@dataclass(frozen=True, slots=True)
class ChargedTax:
    """The tax the shop charged at one rate in one country (``country`` empty when unknown)."""

    rate: Decimal
    amount: Decimal
    country: str = ""
    label: str = ""


def charged_taxes(order: Order) -> tuple[ChargedTax, ...]:
    """What the shop charged per rate and country: its tax lines (items, fees and shipping).

    An order without tax lines but with taxed lines (some exports of old shops) is read from
    the lines instead.
    """
    grouped: dict[tuple[Decimal, str], ChargedTax] = {}
    if order.tax_rates:
        for tax in order.tax_rates:
            key = (tax.rate, tax.country.strip().upper())
            known = grouped.get(key)
            amount = tax.amount + (known.amount if known else ZERO)
            label = known.label if known and known.label else tax.label
            grouped[key] = ChargedTax(tax.rate, amount, key[1], label)
    else:
        lines: tuple[OrderLine | ShippingLine | FeeLine, ...] = (
            *order.lines,
            *order.shipping_lines,
            *order.fee_lines,
        )
        for line in lines:
            if line.total_tax == 0:
                continue
            key = (line.vat_rate, "")
            known = grouped.get(key)
            grouped[key] = ChargedTax(
                line.vat_rate, line.total_tax + (known.amount if known else ZERO)
            )
    return tuple(tax for tax in grouped.values() if tax.amount != 0)


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


def reconcile(charges: Sequence[Charge], taxes: Iterable[ChargedTax]) -> list[Charge]:
    """The charges with their VAT per rate made equal to the shop's tax lines.

    WooCommerce rounds each line's tax, or (with "round at subtotal") only the sum, so the
    lines may be an öre or so away from the tax lines. The difference goes onto the largest
    charge of that rate (its net is kept: the order total is net plus tax lines). More than one
    öre per line is a data error.
    """
    truth: dict[Decimal, Decimal] = {}
    for tax in taxes:
        truth[tax.rate] = truth.get(tax.rate, ZERO) + tax.amount
    result = list(charges)
    by_rate: dict[Decimal, list[int]] = {}
    for index, charge in enumerate(result):
        if charge.vat != 0 or charge.rate in truth:
            by_rate.setdefault(charge.rate, []).append(index)
    for rate, indexes in by_rate.items():
        charged = sum((result[index].vat for index in indexes), ZERO)
        expected = truth.get(rate)
        if expected is None:
            if charged == 0:
                continue
            names = ", ".join(result[index].description for index in indexes)
            raise DataError(
                f"Lines ({names}) carry {format_amount(charged)} VAT at {_percent(rate)}, "
                "but the order has no tax line for that rate. Check the order's taxes in the shop."
            )
        difference = expected - charged
        if abs(difference) > ORE * len(indexes):
            raise DataError(
                f"The order's tax line for {_percent(rate)} says {format_amount(expected)}, "
                f"its lines add up to {format_amount(charged)}: the difference is more than "
                "rounding. Check the tax classes of the order's lines."
            )
        if difference:
            largest = max(indexes, key=lambda index: abs(result[index].gross))
            result[largest] = result[largest].replace(vat=result[largest].vat + difference)
    for rate, expected in truth.items():
        if rate not in by_rate and expected != 0:
            raise DataError(
                f"The order has a tax line of {format_amount(expected)} at {_percent(rate)} "
                "but no line is taxed at that rate."
            )
    return result


def check_rates(charges: Iterable[Charge]) -> None:
    """Raise ``DataError`` for a charge whose VAT is not its net times its rate.

    Run it on the shop's own amounts, before :func:`reconcile` moves rounding differences.
    """
    for charge in charges:
        expected = charge.net * charge.rate / HUNDRED
        if abs(charge.vat - expected) > LINE_TOLERANCE:
            raise DataError(
                f"{charge.description}: VAT {format_amount(charge.vat)} does not match "
                f"{_percent(charge.rate)} of {format_amount(charge.net)} "
                f"(expected about {format_amount(quantize(expected))}). "
                "The line's tax class or rate is wrong."
            )


def goods_net_by_rate(charges: Iterable[Charge]) -> dict[Decimal, Decimal]:
    """Net value of the item charges per VAT rate (rates with a positive net only)."""
    per_rate: dict[Decimal, Decimal] = {}
    for charge in charges:
        if charge.kind is RowKind.ITEM:
            per_rate[charge.rate] = per_rate.get(charge.rate, ZERO) + charge.net
    return {rate: net for rate, net in sorted(per_rate.items()) if net > 0}


def split_over_rates(charge: Charge, goods: dict[Decimal, Decimal]) -> list[Charge]:
    """``charge`` split over the goods' rates in proportion to their net value.

    The gross is allocated with weights net × (1 + rate) (so the *net* parts are in proportion
    to the goods' net), VAT is backed out of each part, and the parts add up to the gross.
    """
    rates = list(goods)
    weights = [goods[rate] * (HUNDRED + rate) / HUNDRED for rate in rates]
    parts = allocate(charge.gross, weights)
    split: list[Charge] = []
    for rate, gross in zip(rates, parts):
        vat = vat_of_gross(gross, rate)
        split.append(
            charge.replace(
                description=f"{charge.description} ({_percent(rate)})",
                net=gross - vat,
                vat=vat,
                rate=rate,
            )
        )
    return split


def spread_ancillaries(charges: Sequence[Charge]) -> tuple[list[Charge], list[str]]:
    """Shipping, fees and discount fees moved onto the goods' VAT rates; plus warnings.

    A charge the shop taxed at the goods' only rate, or already split itself, stays as it is.
    A charge the shop did not tax at all stays untaxed (VAT is never invented), with a
    warning when the goods were taxed.
    """
    goods = goods_net_by_rate(charges)
    result: list[Charge] = []
    warnings: list[str] = []
    for charge in charges:
        if charge.kind is RowKind.ITEM or charge.shop_split or not goods or charge.gross == 0:
            result.append(charge)
            continue
        if set(goods) == {charge.rate}:
            result.append(charge)
            continue
        if charge.vat == 0:
            if any(rate > 0 for rate in goods) and charge.taxable:
                warnings.append(
                    f"{charge.description} ({format_amount(charge.gross)}) was charged without "
                    "VAT although the goods carry VAT; booked without VAT as the shop charged it."
                )
            result.append(charge)
            continue
        split = split_over_rates(charge, goods)
        result.extend(split)
        parts = ", ".join(f"{format_amount(part.vat)} at {_percent(part.rate)}" for part in split)
        warnings.append(
            f"{charge.description}: the shop charged {format_amount(charge.vat)} VAT at "
            f"{_percent(charge.rate)}; booked as {parts}, split by the goods' net value per "
            "rate (the route's split_shipping_by_rate setting)."
        )
    return result, warnings


def vat_summary(rows: Iterable[DocumentRow]) -> tuple[VatLine, ...]:
    """One VAT line per rate (base, amount, VAT account), rounding rows left out."""
    per_rate: dict[Decimal, VatLine] = {}
    for row in rows:
        if row.kind is RowKind.ROUNDING:
            continue
        known = per_rate.get(row.vat_rate)
        if known is None:
            per_rate[row.vat_rate] = VatLine(
                rate=row.vat_rate, base=row.net, amount=row.vat_amount, account=row.vat_account
            )
        else:
            per_rate[row.vat_rate] = known.replace(
                base=known.base + row.net,
                amount=known.amount + row.vat_amount,
                account=known.account or row.vat_account,
            )
    return tuple(per_rate[rate] for rate in sorted(per_rate))
