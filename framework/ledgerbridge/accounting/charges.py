"""What the customer was charged, line by line: the raw material of a document's rows.

A :class:`Charge` is one item, shipping, fee or discount amount at one VAT rate, in the order's
currency, before any account is chosen. :func:`order_charges` reads them off a canonical order;
:mod:`ledgerbridge.accounting.vat` then makes them agree with the shop's tax lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledgerbridge.accounting.allocation import allocate
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import RowKind
from ledgerbridge.model.order import (
    FeeLine,
    ItemKind,
    LineTax,
    Order,
    OrderLine,
    ShippingLine,
    _Replaceable,
)
from ledgerbridge.money import HUNDRED, ZERO, quantize


@dataclass(frozen=True, slots=True)
class Charge(_Replaceable):
    """One amount the customer was charged at one VAT rate (order currency).

    ``subtotal_net``/``subtotal_vat`` are the amounts before coupon discounts (items only), used
    when a route shows discounts as rows of their own.
    """

    kind: RowKind
    line_id: str
    description: str
    quantity: Decimal
    net: Decimal
    vat: Decimal
    rate: Decimal
    item_kind: ItemKind = ItemKind.GOODS
    sku: str = ""
    taxable: bool = True
    subtotal_net: Decimal | None = None
    subtotal_vat: Decimal | None = None
    line: OrderLine | None = None
    shop_split: bool = False

    @property
    def gross(self) -> Decimal:
        """Net plus VAT."""
        return self.net + self.vat


def order_charges(
    order: Order, kinds: Mapping[str, ItemKind], *, with_vat: bool = True
) -> list[Charge]:
    """Every item, shipping and fee amount of ``order`` as charges.

    ``kinds`` gives goods or services per item line id (after the plugins' classification).
    A shipping or fee line the shop taxed at several rates becomes one charge per rate, keeping
    the shop's VAT per rate, its net split like the goods' net per rate. Raises ``DataError``
    for an item line taxed at several rates (a compound or stacked tax cannot be booked as
    Swedish VAT).

    ``with_vat=False`` (sales without VAT: exports, reverse charge) gives the nets only; any
    tax the shop charged is then booked apart (see ``builder``).
    """
    rates_by_id = {tax.rate_id: tax.rate for tax in order.tax_rates} if with_vat else {}
    charges: list[Charge] = []
    for line in order.lines:
        charge = _item_charge(line, kinds.get(line.id, line.kind), rates_by_id)
        charges.append(charge if with_vat else _without_vat(charge))
    goods: dict[Decimal, Decimal] = {}
    for charge in charges:
        goods[charge.rate] = goods.get(charge.rate, ZERO) + charge.net
    ancillaries: list[tuple[ShippingLine | FeeLine, RowKind, str]] = [
        (line, RowKind.SHIPPING, _shipping_name(line)) for line in order.shipping_lines
    ]
    ancillaries.extend(
        (fee, RowKind.DISCOUNT if fee.total < 0 else RowKind.FEE, fee.name or "Avgift")
        for fee in order.fee_lines
    )
    for ancillary, kind, description in ancillaries:
        charges.extend(
            charge if with_vat else _without_vat(charge)
            for charge in _ancillary_charges(ancillary, kind, description, rates_by_id, goods)
        )
    return charges


def _without_vat(charge: Charge) -> Charge:
    return charge.replace(
        vat=ZERO, rate=ZERO, subtotal_vat=None if charge.subtotal_vat is None else ZERO
    )


def _charged_rates(
    taxes: tuple[LineTax, ...], rates_by_id: Mapping[str, Decimal]
) -> dict[Decimal, Decimal]:
    """VAT per rate of one line's ``taxes`` (only rates that carry VAT), rounded to öre."""
    per_rate: dict[Decimal, Decimal] = {}
    for tax in taxes:
        rate = rates_by_id.get(tax.rate_id)
        if rate is None or tax.amount == 0:
            continue
        per_rate[rate] = per_rate.get(rate, ZERO) + tax.amount
    return {rate: quantize(amount) for rate, amount in per_rate.items() if quantize(amount) != 0}


def _effective_rate(line_rate: Decimal, vat: Decimal, taxes: tuple[LineTax, ...]) -> Decimal:
    # No VAT charged (not even a raw fraction that rounded away) means the customer paid none:
    # the line is booked at 0 % whatever rate the line's tax class nominally had.
    if vat != 0 or any(tax.amount != 0 for tax in taxes):
        return line_rate
    return ZERO


def _item_charge(line: OrderLine, kind: ItemKind, rates_by_id: Mapping[str, Decimal]) -> Charge:
    charged = _charged_rates(line.taxes, rates_by_id)
    if len(charged) > 1:
        rates = ", ".join(f"{rate.normalize():f} %" for rate in sorted(charged))
        raise DataError(
            f"Order line {line.id} ({line.name}) is taxed at several rates ({rates}); "
            "a line can carry one VAT rate only. Check the product's tax class."
        )
    return Charge(
        kind=RowKind.ITEM,
        line_id=line.id,
        description=line.name,
        quantity=line.quantity,
        net=line.total,
        vat=line.total_tax,
        rate=_effective_rate(line.vat_rate, line.total_tax, line.taxes),
        item_kind=kind,
        sku=line.sku,
        subtotal_net=line.subtotal,
        subtotal_vat=line.subtotal_tax,
        line=line,
    )


def _shipping_name(line: ShippingLine) -> str:
    return line.method_title or "Frakt"


def _ancillary_charges(
    line: ShippingLine | FeeLine,
    kind: RowKind,
    description: str,
    rates_by_id: Mapping[str, Decimal],
    goods: Mapping[Decimal, Decimal],
) -> list[Charge]:
    taxable = not isinstance(line, FeeLine) or line.taxable
    charged = _charged_rates(line.taxes, rates_by_id)
    if len(charged) <= 1 or sum(charged.values(), ZERO) != line.total_tax:
        return [
            Charge(
                kind=kind,
                line_id=line.id,
                description=description,
                quantity=Decimal(1),
                net=line.total,
                vat=line.total_tax,
                rate=_effective_rate(line.vat_rate, line.total_tax, line.taxes),
                taxable=taxable,
            )
        ]
    # The shop already split this charge over several rates: keep its VAT per rate and share
    # the net out like the goods' net per rate (as the split was made), or else by the net
    # each rate's VAT implies.
    rates = sorted(charged)
    if all(goods.get(rate, ZERO) > 0 for rate in rates):
        weights = [goods[rate] for rate in rates]
    else:
        weights = [abs(charged[rate]) * HUNDRED / rate for rate in rates]
    nets = allocate(line.total, weights)
    return [
        Charge(
            kind=kind,
            line_id=line.id,
            description=f"{description} ({rate.normalize():f} %)",
            quantity=Decimal(1),
            net=net,
            vat=charged[rate],
            rate=rate,
            taxable=taxable,
            shop_split=True,
        )
        for rate, net in zip(rates, nets)
    ]
