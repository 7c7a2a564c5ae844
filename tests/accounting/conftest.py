"""Builders for canonical orders, routes and hooks used by the accounting tests.

Orders are built the way a WooCommerce order looks after normalization: line nets and taxes
in öre, one tax line per rate whose totals are the sum of the lines' taxes, and a total equal
to nets plus tax lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from ledgerbridge import hookimpl
from ledgerbridge.contexts import RouteContext, memory_route, memory_site
from ledgerbridge.model import (
    Address,
    Customer,
    CustomerKind,
    FeeLine,
    ItemKind,
    LineTax,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundLine,
    RefundLineKind,
    ShippingLine,
    TaxRate,
)
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager, module_plugin

D = Decimal
PAID = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def rate_id(rate: Decimal, country: str = "SE") -> str:
    return f"{country}-{rate.normalize():f}"


def item(
    line_id: str,
    name: str,
    net: str,
    vat: str,
    rate: str,
    *,
    quantity: int = 1,
    kind: ItemKind = ItemKind.GOODS,
    subtotal: str | None = None,
    subtotal_tax: str | None = None,
    sku: str = "",
    meta: Mapping[str, str] | None = None,
    country: str = "SE",
) -> OrderLine:
    taxes = (LineTax(rate_id(D(rate), country), D(vat)),) if D(vat) else ()
    return OrderLine(
        id=line_id,
        name=name,
        quantity=D(quantity),
        subtotal=D(subtotal or net),
        subtotal_tax=D(subtotal_tax or vat),
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
        taxes=taxes,
        sku=sku,
        kind=kind,
        meta=dict(meta or {}),
    )


def shipping(
    line_id: str, net: str, vat: str, rate: str, *, title: str = "PostNord", country: str = "SE"
) -> ShippingLine:
    taxes = (LineTax(rate_id(D(rate), country), D(vat)),) if D(vat) else ()
    return ShippingLine(
        id=line_id,
        method_id="flat_rate",
        method_title=title,
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
        taxes=taxes,
    )


def fee(line_id: str, name: str, net: str, vat: str, rate: str, *, country: str = "SE") -> FeeLine:
    taxes = (LineTax(rate_id(D(rate), country), D(vat)),) if D(vat) else ()
    return FeeLine(
        id=line_id,
        name=name,
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
        taxes=taxes,
    )


def tax_lines(
    lines: Iterable[OrderLine | FeeLine], shipping_lines: Iterable[ShippingLine]
) -> tuple[TaxRate, ...]:
    """One tax line per rate id, as WooCommerce sums them."""
    rates: dict[str, TaxRate] = {}

    def add(tax: LineTax, rate: Decimal, shipping_part: bool) -> None:
        country = tax.rate_id.split("-")[0]
        known = rates.get(tax.rate_id) or TaxRate(
            rate_id=tax.rate_id,
            rate=rate,
            tax_total=D("0.00"),
            country=country,
            label=f"Moms {rate.normalize():f}%",
        )
        if shipping_part:
            known = known.replace(shipping_tax_total=known.shipping_tax_total + tax.amount)
        else:
            known = known.replace(tax_total=known.tax_total + tax.amount)
        rates[tax.rate_id] = known

    for line in lines:
        for tax in line.taxes:
            add(tax, line.vat_rate, False)
    for line in shipping_lines:
        for tax in line.taxes:
            add(tax, line.vat_rate, True)
    return tuple(rates.values())


def customer(
    country: str = "SE",
    *,
    company: bool = False,
    vat_number: str = "",
    shipping_country: str | None = None,
    postcode: str = "",
    state: str = "",
) -> Customer:
    shipping_address = (
        Address(country=shipping_country, postcode=postcode, state=state)
        if shipping_country is not None
        else None
    )
    return Customer(
        kind=CustomerKind.COMPANY if company else CustomerKind.PRIVATE,
        name="Kund AB" if company else "Anna Andersson",
        billing=Address(
            first_name="Anna",
            last_name="Andersson",
            country=country,
            postcode=postcode,
            state=state,
        ),
        shipping=shipping_address,
        vat_number=vat_number,
    )


def order(
    lines: Iterable[OrderLine] = (),
    *,
    shipping_lines: Iterable[ShippingLine] = (),
    fees: Iterable[FeeLine] = (),
    buyer: Customer | None = None,
    currency: str = "SEK",
    method: str = "stripe",
    title: str = "Kort (Stripe)",
    paid_at: datetime | None = PAID,
    completed_at: datetime | None = None,
    refunds: Iterable[Refund] = (),
    total: str | None = None,
    taxes: tuple[TaxRate, ...] | None = None,
    number: str = "1001",
    coupons: Iterable[Any] = (),
    meta: Mapping[str, str] | None = None,
) -> Order:
    lines = tuple(lines)
    shipping_lines = tuple(shipping_lines)
    fees = tuple(fees)
    if taxes is None:
        taxes = tax_lines((*lines, *fees), shipping_lines)
    nets = sum((line.total for line in (*lines, *shipping_lines, *fees)), D("0.00"))
    tax_total = sum((tax.amount for tax in taxes), D("0.00"))
    return Order(
        source="woocommerce",
        id=number,
        number=number,
        status="completed",
        currency=currency,
        created_at=(paid_at or PAID),
        modified_at=(paid_at or PAID),
        customer=buyer or customer(),
        total=D(total) if total is not None else nets + tax_total,
        total_tax=tax_total,
        paid_at=paid_at,
        completed_at=completed_at,
        payment=Payment(method=method, title=title, paid_at=paid_at),
        lines=lines,
        shipping_lines=shipping_lines,
        fee_lines=fees,
        coupon_lines=tuple(coupons),
        tax_rates=taxes,
        refunds=tuple(refunds),
        meta=dict(meta or {}),
    )


def refund_line(
    original: str,
    net: str,
    vat: str,
    rate: str,
    *,
    quantity: int = 1,
    kind: RefundLineKind = RefundLineKind.ITEM,
) -> RefundLine:
    return RefundLine(
        kind=kind,
        original_line_id=original,
        quantity=D(quantity),
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
    )


def refund(
    refund_id: str,
    amount: str,
    lines: Iterable[RefundLine] = (),
    *,
    day: int = 10,
    reason: str = "",
) -> Refund:
    return Refund(
        id=refund_id,
        amount=D(amount),
        created_at=datetime(2026, 5, day, 12, 0, tzinfo=UTC),
        lines=tuple(lines),
        reason=reason,
    )


def route(
    settings: Mapping[str, Any] | None = None,
    *,
    oss: bool = False,
    prefix: str = "",
    route_id: int = 7,
) -> RouteContext:
    # The research notes' worked examples split shipping and fees over the goods' rates, so
    # these tests turn the split on unless they say otherwise; the product default is off
    # (the shop's tax lines are the truth), see test_vat.py.
    return memory_route(
        id=route_id,
        site=memory_site(oss_registered=oss, reference_prefix=prefix),
        settings=load_route_settings({"split_shipping_by_rate": True, **(settings or {})}),
    )


def hooks(**implementations: Any) -> Hooks:
    """Hooks with the core and ``implementations`` (plain functions become ``@hookimpl``)."""
    marked = {
        name: function if hasattr(function, "ledgerbridge_impl") else hookimpl(function)
        for name, function in implementations.items()
    }
    extra = [("test", module_plugin("test_hooks", **marked))] if marked else []
    return Hooks(create_plugin_manager(entry_points=False, strict=True, extra=extra))


def journal_rows(document) -> list[tuple[str, str, str]]:
    return [(line.account, f"{line.debit:.2f}", f"{line.credit:.2f}") for line in document.journal]


@pytest.fixture
def make() -> SimpleNamespace:
    """The builders above, for the tests of this folder."""
    return SimpleNamespace(
        item=item,
        shipping=shipping,
        fee=fee,
        tax_lines=tax_lines,
        customer=customer,
        order=order,
        refund_line=refund_line,
        refund=refund,
        route=route,
        hooks=hooks,
        journal=journal_rows,
        D=D,
    )
