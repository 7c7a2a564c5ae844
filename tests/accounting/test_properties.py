"""Property-based tests over generated orders and refunds.

Orders are generated the way WooCommerce computes them with prices including tax: each line's
gross is a catalogue price times a quantity (less a coupon percentage), its VAT the raw share of
that gross rounded per line, its net the rest. Tax lines sum the lines' VAT (or, as with the
"round tax at subtotal" setting, round the sum of the raw taxes). Shipping, fees (some
negative), several currencies, whole-krona rounding of the payable, three destinations and a
sequence of refunds (by line, shipping, amount only) vary.

Properties: the journal balances; the document equals the shop's total; VAT per rate equals the
shop's tax lines (when shipping is not re-split) or every charge keeps its gross (when it is);
the journal's payment line is the total in SEK; every credit note's gross is its refund; credits
never exceed the original per VAT rate, and refunding everything reverses it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.accounting import build_credit_note, build_document
from ledgerbridge.contexts import memory_route, memory_site
from ledgerbridge.model import (
    Address,
    Customer,
    CustomerKind,
    FeeLine,
    LineTax,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundLine,
    RefundLineKind,
    RowKind,
    ShippingLine,
    TaxRate,
)
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.money import ZERO, quantize
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager

D = Decimal
HOOKS = Hooks(create_plugin_manager(entry_points=False, strict=True))
PAID = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RAW = Decimal("0.000001")

DESTINATIONS = {
    # country: (VAT rates the shop charges, tax-line country, OSS registered)
    "SE": ((D(25), D(12), D(6), D(0)), "SE", False),
    "DE": ((D(19), D(7)), "DE", True),
    "NO": ((D(0),), "", False),
}
RATES = {"SEK": D(1), "EUR": D("11.2345"), "NOK": D("0.9871"), "USD": D("10.4567")}


@dataclass(frozen=True)
class Shape:
    """What a generated order is made of, before it becomes a canonical Order."""

    country: str
    currency: str
    lines: tuple[tuple[int, int, Decimal, int], ...]  # unit gross öre, quantity, rate, coupon %
    shipping: tuple[tuple[int, Decimal], ...]  # gross öre, rate
    fees: tuple[tuple[int, Decimal], ...]  # gross öre, or minus a percentage of the goods; rate
    round_at_subtotal: bool
    round_payable: bool
    split: bool
    show_discounts: bool
    cash_sale: bool


def _raw_tax(gross: Decimal, rate: Decimal) -> Decimal:
    return (gross * rate / (100 + rate)).quantize(RAW, rounding=ROUND_HALF_UP)


@st.composite
def shapes(draw) -> Shape:
    country = draw(st.sampled_from(sorted(DESTINATIONS)))
    rates = DESTINATIONS[country][0]
    line = st.tuples(
        st.integers(min_value=100, max_value=250_000),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(rates),
        st.sampled_from((0, 0, 10, 25)),
    )
    lines = tuple(draw(st.lists(line, min_size=1, max_size=6)))
    ancillary = st.tuples(st.integers(min_value=0, max_value=20_000), st.sampled_from(rates))
    # A negative fee (a discount) is a percentage (1-10 %) of the goods, as a negative number.
    discount = st.tuples(st.integers(min_value=-10, max_value=-1), st.sampled_from(rates))
    fees = tuple(draw(st.lists(st.one_of(ancillary, discount), max_size=2)))
    return Shape(
        country=country,
        currency=draw(st.sampled_from(sorted(RATES))),
        lines=lines,
        shipping=tuple(draw(st.lists(ancillary, max_size=2))),
        fees=fees,
        round_at_subtotal=draw(st.booleans()),
        round_payable=draw(st.booleans()),
        split=draw(st.booleans()),
        show_discounts=draw(st.booleans()),
        cash_sale=draw(st.booleans()),
    )


def _taxes(rate: Decimal, raw: Decimal, tax_country: str) -> tuple[LineTax, ...]:
    return (LineTax(f"r{rate}", raw),) if raw else ()


def build_order(shape: Shape) -> Order:
    """The canonical order of ``shape``, amounts computed as WooCommerce does."""
    _, tax_country, _ = DESTINATIONS[shape.country]
    raw_by_rate: dict[Decimal, Decimal] = {}
    rounded_by_rate: dict[Decimal, Decimal] = {}
    shipping_by_rate: dict[Decimal, Decimal] = {}

    def account(rate: Decimal, raw: Decimal, rounded: Decimal, shipping: bool = False) -> None:
        if shipping:
            shipping_by_rate[rate] = shipping_by_rate.get(rate, ZERO) + rounded
        else:
            raw_by_rate[rate] = raw_by_rate.get(rate, ZERO) + raw
            rounded_by_rate[rate] = rounded_by_rate.get(rate, ZERO) + rounded

    lines = []
    for index, (unit, quantity, rate, coupon) in enumerate(shape.lines):
        subtotal_gross = D(unit * quantity) / 100
        gross = quantize(subtotal_gross * (100 - coupon) / 100)
        raw = _raw_tax(gross, rate)
        tax = quantize(raw)
        subtotal_tax = quantize(_raw_tax(subtotal_gross, rate))
        account(rate, raw, tax)
        lines.append(
            OrderLine(
                id=f"L{index}",
                name=f"Vara {index}",
                quantity=D(quantity),
                subtotal=subtotal_gross - subtotal_tax,
                subtotal_tax=subtotal_tax,
                total=gross - tax,
                total_tax=tax,
                vat_rate=rate,
                taxes=_taxes(rate, raw, tax_country),
            )
        )
    shipping = []
    for index, (cents, rate) in enumerate(shape.shipping):
        gross = D(cents) / 100
        tax = quantize(_raw_tax(gross, rate))
        account(rate, tax, tax, shipping=True)
        shipping.append(
            ShippingLine(
                id=f"S{index}",
                method_id="flat_rate",
                method_title="Frakt",
                total=gross - tax,
                total_tax=tax,
                vat_rate=rate,
                taxes=_taxes(rate, tax, tax_country),
            )
        )
    goods = sum((line.gross for line in lines), ZERO)
    fees = []
    for index, (cents, rate) in enumerate(shape.fees):
        gross = D(cents) / 100 if cents >= 0 else quantize(goods * cents / 100)
        raw = _raw_tax(gross, rate)
        tax = quantize(raw)
        account(rate, raw, tax)
        fees.append(
            FeeLine(
                id=f"F{index}",
                name="Avgift",
                total=gross - tax,
                total_tax=tax,
                vat_rate=rate,
                taxes=_taxes(rate, raw, tax_country),
            )
        )
    rates = sorted({*raw_by_rate, *shipping_by_rate})
    tax_rates = tuple(
        TaxRate(
            rate_id=f"r{rate}",
            rate=rate,
            tax_total=quantize(raw_by_rate.get(rate, ZERO))
            if shape.round_at_subtotal
            else rounded_by_rate.get(rate, ZERO),
            shipping_tax_total=shipping_by_rate.get(rate, ZERO),
            country=tax_country,
        )
        for rate in rates
        if rate != 0
    )
    nets = sum((item.total for item in (*lines, *shipping, *fees)), ZERO)
    total = nets + sum((tax.amount for tax in tax_rates), ZERO)
    if shape.round_payable:
        total = total.quantize(D(1), rounding=ROUND_HALF_UP).quantize(D("0.01"))
    return Order(
        source="woocommerce",
        id="500",
        number="500",
        status="completed",
        currency=shape.currency,
        created_at=PAID,
        modified_at=PAID,
        customer=Customer(
            kind=CustomerKind.PRIVATE, name="Test", billing=Address(country=shape.country)
        ),
        total=total,
        total_tax=sum((tax.amount for tax in tax_rates), ZERO),
        paid_at=PAID,
        payment=Payment(method="stripe", title="Kort", paid_at=PAID),
        lines=tuple(lines),
        shipping_lines=tuple(shipping),
        fee_lines=tuple(fees),
        tax_rates=tax_rates,
    )


def _route(shape: Shape):
    return memory_route(
        id=3,
        site=memory_site(oss_registered=DESTINATIONS[shape.country][2]),
        settings=load_route_settings(
            {
                "default_document_type": "cash_sale" if shape.cash_sale else "invoice",
                "split_shipping_by_rate": shape.split,
                "show_discounts": shape.show_discounts,
                "zero_total": "export",
                "manual_rates": {code: str(rate) for code, rate in RATES.items() if code != "SEK"},
            }
        ),
    )


def _balanced(document) -> None:
    debit = sum((line.debit for line in document.journal), ZERO)
    credit = sum((line.credit for line in document.journal), ZERO)
    assert debit == credit
    for line in document.journal:
        assert line.debit == quantize(line.debit)
        assert line.credit == quantize(line.credit)
    assert document.check() == []


def _gross_by_rate(document) -> dict[Decimal, Decimal]:
    per_rate: dict[Decimal, Decimal] = {}
    for row in document.rows:
        if row.kind is not RowKind.ROUNDING:
            per_rate[row.vat_rate] = per_rate.get(row.vat_rate, ZERO) + row.gross
    return per_rate


def _vat_by_rate(documents) -> dict[Decimal, tuple[Decimal, Decimal]]:
    per_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for document in documents:
        for line in document.vat:
            base, amount = per_rate.get(line.rate, (ZERO, ZERO))
            per_rate[line.rate] = (base + line.base, amount + line.amount)
    return {rate: value for rate, value in per_rate.items() if value != (ZERO, ZERO)}


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(shapes())
def test_documents_balance_and_equal_the_shop(shape):
    order = build_order(shape)
    document = build_document(order, _route(shape), HOOKS)

    _balanced(document)
    assert document.total == order.total
    counter = document.journal[0] if document.journal else None
    if counter is not None:
        assert counter.debit == quantize(order.total * RATES[shape.currency])
    if shape.split:
        # Shipping and fees keep the gross the customer paid, whatever the split (up to the
        # öre a tax line's rounding may move onto them).
        for line in (*order.shipping_lines, *order.fee_lines):
            rows = [row for row in document.rows if row.source_line_id == line.id]
            booked = sum((row.gross for row in rows), ZERO)
            assert abs(booked - line.gross) <= D("0.01") * len(order.lines)
    if not shape.split and shape.country != "NO":
        charged = {tax.rate: tax.amount for tax in order.tax_rates}
        booked = {line.rate: line.amount for line in document.vat if line.amount}
        assert booked == {rate: amount for rate, amount in charged.items() if amount}


@st.composite
def orders_with_refunds(draw):
    shape = draw(shapes())
    order = build_order(shape)
    refunds: list[Refund] = []
    refunded_total = ZERO
    quantities = {line.id: ZERO for line in order.lines}
    shipping_done: set[str] = set()
    # Discounts booked as negative fees belong to the whole cart: refunding a full line of such
    # an order may credit more at a rate than was sold there, which the rules refuse.
    amount_only = any(fee.total < 0 for fee in order.fee_lines)
    when = PAID
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        left = order.total - refunded_total
        if left <= 0:
            break
        when += timedelta(days=1)
        choice = draw(st.sampled_from(("line", "shipping", "amount", "rest")))
        refund_lines: list[RefundLine] = []
        if choice == "line" and not amount_only:
            line = draw(st.sampled_from(order.lines))
            remaining = line.quantity - quantities[line.id]
            if remaining <= 0:
                continue
            count = D(draw(st.integers(min_value=1, max_value=int(remaining))))
            if count == remaining:
                done = quantities[line.id] / line.quantity
                net = line.total - quantize(line.total * done)
                tax = line.total_tax - quantize(line.total_tax * done)
            else:
                net = quantize(line.total * count / line.quantity)
                tax = quantize(line.total_tax * count / line.quantity)
            quantities[line.id] += count
            refund_lines.append(
                RefundLine(RefundLineKind.ITEM, line.id, count, net, tax, line.vat_rate)
            )
            amount = net + tax
        elif choice == "shipping" and not amount_only:
            open_lines = [line for line in order.shipping_lines if line.id not in shipping_done]
            if not open_lines:
                continue
            line = open_lines[0]
            shipping_done.add(line.id)
            refund_lines.append(
                RefundLine(
                    RefundLineKind.SHIPPING,
                    line.id,
                    ZERO,
                    line.total,
                    line.total_tax,
                    line.vat_rate,
                )
            )
            amount = line.gross
        elif choice == "amount":
            amount_only = True
            fraction = D(draw(st.integers(min_value=1, max_value=100))) / 100
            amount = max(quantize(left * fraction), D("0.01"))
        else:
            amount_only = True
            amount = left
        if amount <= 0 or amount > left:
            continue
        refunds.append(Refund(str(600 + number), amount, when, tuple(refund_lines)))
        refunded_total += amount
    return shape, order.replace(refunds=tuple(refunds))


@PROPERTY_SETTINGS
@given(orders_with_refunds())
def test_credit_notes_match_their_refunds_and_never_exceed_the_sale(case):
    shape, order = case
    route = _route(shape)
    original = build_document(order, route, HOOKS)
    credits = [
        build_credit_note(order, refund.id, route, HOOKS, original=original)
        for refund in order.refunds
    ]

    original_gross = _gross_by_rate(original)
    credited: dict[Decimal, Decimal] = {}
    for refund, credit in zip(order.refunds, credits):
        _balanced(credit)
        assert credit.total == refund.amount
        assert sum((row.gross for row in credit.rows), ZERO) == refund.amount
        assert credit.sek_rate == original.sek_rate
        assert {row.vat_rate for row in credit.rows if row.kind is not RowKind.ROUNDING} <= set(
            original_gross
        )
        for rate, gross in _gross_by_rate(credit).items():
            credited[rate] = credited.get(rate, ZERO) + gross
            assert credited[rate] <= original_gross[rate]
    if sum((refund.amount for refund in order.refunds), ZERO) == order.total:
        assert credits[-1].credit.full
        assert _vat_by_rate(credits) == _vat_by_rate([original])
