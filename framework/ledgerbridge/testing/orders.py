"""Canonical fixture orders for connector tests, each with the totals it must book to.

Seven orders cover what a target has to get right: Swedish VAT at 25, 12 and 6 % with
shipping, a coupon on a cash sale, refunds (one per line, one for an amount only), a zero
total, a foreign currency at a manual rate, an EU business buyer (reverse charge) and an export
outside the EU. They look like WooCommerce orders after normalization: line nets and taxes in
öre, one tax line per rate, totals that add up.

Use them through :func:`fixture_orders` (dated a few days ago, so every sandbox's open
financial year holds them) and :func:`fixture_route` (route settings the expected totals
assume: Swish is a cash sale, EUR at a manual 11.20, zero totals exported)::

    from ledgerbridge.testing.orders import fixture_orders, fixture_route, build_documents

    for fixture in fixture_orders().values():
        documents = build_documents(fixture, fixture_route(ledger), hooks)
        assert documents.document.total == fixture.expected.total
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.contexts import LedgerContext, RouteContext, memory_route, memory_site
from ledgerbridge.model import (
    AccountingDocument,
    Address,
    CouponLine,
    Customer,
    CustomerKind,
    DocumentType,
    LineTax,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundLine,
    RefundLineKind,
    ShippingLine,
    TaxRate,
    VatScenario,
)
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.money import ZERO, money_sum, quantize
from ledgerbridge.plugins.facade import Hooks

D = Decimal

#: The names of the fixture orders, in a stable order.
FIXTURE_ORDER_NAMES: tuple[str, ...] = (
    "vat_mix",
    "coupon",
    "refund",
    "zero_total",
    "foreign_currency",
    "eu_b2b",
    "export",
)

#: SEK per EUR on the fixture route (a manual rate, so no target currency table is asked).
EUR_RATE = D("11.20")

#: The route settings every expected total below assumes.
FIXTURE_ROUTE_SETTINGS: Mapping[str, Any] = {
    "document_types": {"swish": "cash_sale"},
    "payment_accounts": {"stripe": "1580", "swish": "1930"},
    "manual_rates": {"EUR": str(EUR_RATE)},
    "zero_total": "export",
    # the VAT-mix fixture exercises Skatteverket's split of shipping over the goods' rates
    "split_shipping_by_rate": True,
}


@dataclass(frozen=True, slots=True)
class Expected:
    """What a fixture order must book to on the fixture route.

    ``total`` and ``vat`` (per rate, after shipping is split by the goods' rates) are in the
    order's currency; ``sek_total`` is the total in SEK; ``refunds`` maps each refund id to
    the gross its credit note takes back.
    """

    document_type: DocumentType
    scenario: VatScenario
    currency: str
    total: Decimal
    vat: Mapping[Decimal, Decimal]
    sek_total: Decimal
    refunds: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def total_vat(self) -> Decimal:
        """All VAT of the document, in its currency."""
        return money_sum(self.vat.values())


@dataclass(frozen=True, slots=True)
class FixtureOrder:
    """One fixture order: its name, what it exercises, the order and its expected booking."""

    name: str
    description: str
    order: Order
    expected: Expected


@dataclass(frozen=True, slots=True)
class FixtureDocuments:
    """The documents of one fixture order: the order's own, then one credit note per refund."""

    document: AccountingDocument
    credit_notes: tuple[AccountingDocument, ...] = ()


# -- building blocks ---------------------------------------------------------------------------


def _rate_id(rate: str, country: str) -> str:
    return f"{country}-{D(rate).normalize():f}"


def _taxes(vat: str, rate: str, country: str) -> tuple[LineTax, ...]:
    return (LineTax(_rate_id(rate, country), D(vat)),) if D(vat) else ()


def _line(
    line_id: str,
    name: str,
    net: str,
    vat: str,
    rate: str,
    *,
    quantity: int = 1,
    sku: str = "",
    subtotal: str | None = None,
    subtotal_tax: str | None = None,
    country: str = "SE",
) -> OrderLine:
    return OrderLine(
        id=line_id,
        name=name,
        quantity=D(quantity),
        subtotal=D(subtotal or net),
        subtotal_tax=D(subtotal_tax or vat),
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
        taxes=_taxes(vat, rate, country),
        sku=sku,
        product_id=sku,
    )


def _shipping(line_id: str, net: str, vat: str, rate: str, *, country: str = "SE") -> ShippingLine:
    return ShippingLine(
        id=line_id,
        method_id="flat_rate",
        method_title="PostNord Varubrev",
        total=D(net),
        total_tax=D(vat),
        vat_rate=D(rate),
        taxes=_taxes(vat, rate, country),
    )


def _tax_rates(lines: Iterable[OrderLine], shipping: Iterable[ShippingLine]) -> tuple[TaxRate, ...]:
    """One tax line per rate, summing the lines' taxes the way WooCommerce does."""
    rates: dict[str, TaxRate] = {}
    for part, is_shipping in ((lines, False), (shipping, True)):
        for line in part:
            for tax in line.taxes:
                known = rates.get(tax.rate_id) or TaxRate(
                    rate_id=tax.rate_id,
                    rate=line.vat_rate,
                    tax_total=ZERO,
                    country=tax.rate_id.split("-")[0],
                    label=f"Moms {line.vat_rate.normalize():f} %",
                )
                if is_shipping:
                    known = known.replace(shipping_tax_total=known.shipping_tax_total + tax.amount)
                else:
                    known = known.replace(tax_total=known.tax_total + tax.amount)
                rates[tax.rate_id] = known
    return tuple(rates.values())


def _buyer(
    country: str = "SE",
    *,
    company: str = "",
    vat_number: str = "",
    organisation_number: str = "",
    email: str = "anna.oberg@example.se",
) -> Customer:
    address = Address(
        first_name="Anna",
        last_name="Öberg",
        company=company,
        street="Storgatan 1" if country == "SE" else "Hauptstraße 5",
        postcode="11122" if country in ("SE", "") else "10115",
        city="Stockholm" if country == "SE" else "Berlin",
        country=country,
        email=email,
        phone="0701234567",
    )
    return Customer(
        kind=CustomerKind.COMPANY if company else CustomerKind.PRIVATE,
        name=company or "Anna Öberg",
        email=email,
        billing=address,
        shipping=address,
        vat_number=vat_number,
        organisation_number=organisation_number,
        source_id="42",
    )


def _order(
    number: str,
    when: datetime,
    lines: Iterable[OrderLine],
    *,
    shipping: Iterable[ShippingLine] = (),
    buyer: Customer | None = None,
    currency: str = "SEK",
    method: str = "stripe",
    title: str = "Kort (Stripe)",
    coupons: Iterable[CouponLine] = (),
    refunds: Iterable[Refund] = (),
    prefix: str = "",
) -> Order:
    lines = tuple(lines)
    shipping = tuple(shipping)
    taxes = _tax_rates(lines, shipping)
    nets = money_sum(line.total for line in (*lines, *shipping))
    vat = money_sum(tax.amount for tax in taxes)
    return Order(
        source="woocommerce",
        id=f"{prefix}{number}",
        number=f"{prefix}{number}",
        status="completed",
        currency=currency,
        created_at=when,
        modified_at=when,
        customer=buyer or _buyer(),
        total=nets + vat,
        total_tax=vat,
        paid_at=when,
        completed_at=when,
        payment=Payment(method=method, title=title, transaction_id=f"tx-{number}", paid_at=when),
        lines=lines,
        shipping_lines=shipping,
        coupon_lines=tuple(coupons),
        tax_rates=taxes,
        refunds=tuple(refunds),
    )


def _vat(**per_rate: str) -> dict[Decimal, Decimal]:
    return {D(rate.removeprefix("r")): D(amount) for rate, amount in per_rate.items()}


# -- the fixture set ----------------------------------------------------------------------------


def default_fixture_date() -> date:
    """Three days ago in UTC: inside every sandbox's open financial year, never in the future."""
    return datetime.now(UTC).date() - timedelta(days=3)


def fixture_orders(on: date | None = None, *, prefix: str = "") -> dict[str, FixtureOrder]:
    """The fixture orders, placed and paid at 10:00 UTC on ``on``, refunded the day after.

    ``prefix`` goes before every order number and id (use a fresh one per test when a
    sandbox is shared, so references never collide).
    """
    day = on or default_fixture_date()
    when = datetime.combine(day, time(10, 0), tzinfo=UTC)
    refund_at = when + timedelta(days=1)
    orders: dict[str, FixtureOrder] = {}

    def add(name: str, description: str, order: Order, expected: Expected) -> None:
        orders[name] = FixtureOrder(name, description, order, expected)

    add(
        "vat_mix",
        "Swedish VAT at 25, 12 and 6 % with shipping charged at 25 % (split by the goods' net "
        "value), paid by card on an invoice",
        _order(
            "9101",
            when,
            [
                _line("1", "Kaffebryggare Moccamaster", "800.00", "200.00", "25", sku="KB-1"),
                _line(
                    "2",
                    "Kaffeprovning med servering",
                    "178.57",
                    "21.43",
                    "12",
                    quantity=2,
                    sku="KP-2",
                ),
                _line("3", "Kaffeboken", "188.68", "11.32", "6", sku="BOK-1"),
            ],
            shipping=[_shipping("4", "39.20", "9.80", "25")],
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.DOMESTIC,
            currency="SEK",
            total=D("1449.00"),
            vat=_vat(r6="11.72", r12="22.18", r25="207.00"),
            sek_total=D("1449.00"),
        ),
    )
    add(
        "coupon",
        "A 20 % coupon (SOMMAR20) inside the line totals, paid by Swish as a cash sale, then "
        "part of the price given back (the credit of a cash sale)",
        _order(
            "9102",
            when,
            [
                _line(
                    "1",
                    "Termos 1 l",
                    "320.00",
                    "80.00",
                    "25",
                    sku="TE-1",
                    subtotal="400.00",
                    subtotal_tax="100.00",
                )
            ],
            coupons=[
                CouponLine(id="5", code="sommar20", discount=D("80.00"), discount_tax=D("20.00"))
            ],
            method="swish",
            title="Swish",
            refunds=[
                Refund(
                    id="81",
                    amount=D("100.00"),
                    created_at=refund_at,
                    lines=(
                        RefundLine(
                            kind=RefundLineKind.ITEM,
                            original_line_id="1",
                            quantity=D(0),
                            total=D("80.00"),
                            total_tax=D("20.00"),
                            vat_rate=D("25"),
                            name="Termos 1 l",
                        ),
                    ),
                    reason="Prisjustering",
                )
            ],
        ),
        Expected(
            document_type=DocumentType.CASH_SALE,
            scenario=VatScenario.DOMESTIC,
            currency="SEK",
            total=D("400.00"),
            vat=_vat(r25="80.00"),
            sek_total=D("400.00"),
            refunds={"81": D("100.00")},
        ),
    )
    add(
        "refund",
        "An invoice at 25 and 12 % with two refunds: one line given back, then an amount only",
        _order(
            "9103",
            when,
            [
                _line("1", "Mugg", "200.00", "50.00", "25", sku="MU-1"),
                _line("2", "Lunch på kaffekurs", "200.00", "24.00", "12", sku="KL-1"),
            ],
            refunds=[
                Refund(
                    id="71",
                    amount=D("250.00"),
                    created_at=refund_at,
                    lines=(
                        RefundLine(
                            kind=RefundLineKind.ITEM,
                            original_line_id="1",
                            quantity=D(1),
                            total=D("200.00"),
                            total_tax=D("50.00"),
                            vat_rate=D("25"),
                            name="Mugg",
                            sku="MU-1",
                        ),
                    ),
                    reason="Trasig vid leverans",
                ),
                Refund(
                    id="72",
                    amount=D("50.00"),
                    created_at=refund_at + timedelta(hours=1),
                    reason="Goodwill",
                ),
            ],
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.DOMESTIC,
            currency="SEK",
            total=D("474.00"),
            vat=_vat(r12="24.00", r25="50.00"),
            sek_total=D("474.00"),
            refunds={"71": D("250.00"), "72": D("50.00")},
        ),
    )
    add(
        "zero_total",
        "A free sample: a zero total, exported because the route says so",
        _order(
            "9104",
            when,
            [
                _line(
                    "1",
                    "Provpåse kaffe",
                    "0.00",
                    "0.00",
                    "12",
                    sku="PROV-1",
                    subtotal="40.00",
                    subtotal_tax="4.80",
                )
            ],
            coupons=[
                CouponLine(id="6", code="gratis", discount=D("40.00"), discount_tax=D("4.80"))
            ],
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.DOMESTIC,
            currency="SEK",
            total=D("0.00"),
            vat=_vat(r0="0.00"),
            sek_total=D("0.00"),
        ),
    )
    add(
        "foreign_currency",
        "A Swedish buyer paying in EUR, Swedish VAT, converted at the route's manual rate 11.20",
        _order(
            "9105",
            when,
            [_line("1", "Espressokopp", "100.00", "25.00", "25", sku="EK-1")],
            shipping=[_shipping("2", "8.00", "2.00", "25")],
            currency="EUR",
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.DOMESTIC,
            currency="EUR",
            total=D("135.00"),
            vat=_vat(r25="27.00"),
            sek_total=D("1512.00"),
        ),
    )
    add(
        "eu_b2b",
        "A German company with a valid VAT number: reverse charge, no Swedish VAT",
        _order(
            "9106",
            when,
            [_line("1", "Espressomaskin", "1000.00", "0.00", "0", sku="EM-1", country="DE")],
            buyer=_buyer(
                "DE",
                company="Kaffeehaus GmbH",
                vat_number="DE136695976",
                email="einkauf@kaffeehaus.example",
            ),
            method="bacs",
            title="Banköverföring",
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.EU_REVERSE_CHARGE,
            currency="SEK",
            total=D("1000.00"),
            vat=_vat(r0="0.00"),
            sek_total=D("1000.00"),
        ),
    )
    add(
        "export",
        "A private buyer in Norway: export outside the EU, no Swedish VAT",
        _order(
            "9107",
            when,
            [_line("1", "Kaffekvarn", "1000.00", "0.00", "0", sku="KK-1", country="NO")],
            shipping=[_shipping("2", "99.00", "0.00", "0", country="NO")],
            buyer=_buyer("NO", email="ola.nordmann@example.no"),
        ),
        Expected(
            document_type=DocumentType.INVOICE,
            scenario=VatScenario.EXPORT,
            currency="SEK",
            total=D("1099.00"),
            vat=_vat(r0="0.00"),
            sek_total=D("1099.00"),
        ),
    )
    return {name: orders[name] for name in FIXTURE_ORDER_NAMES}


def fixture_route(
    ledger: LedgerContext | None = None,
    *,
    target_settings: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    reference_prefix: str = "",
    route_id: int = 1,
) -> RouteContext:
    """A route into ``ledger`` with :data:`FIXTURE_ROUTE_SETTINGS` (``settings`` on top)."""
    values = {**FIXTURE_ROUTE_SETTINGS, **(settings or {})}
    overrides: dict[str, Any] = {
        "id": route_id,
        "site": memory_site(reference_prefix=reference_prefix),
        "settings": load_route_settings(values),
        "target_settings": dict(target_settings or {}),
    }
    if ledger is not None:
        overrides["ledger"] = ledger
    return memory_route(**overrides)


def build_documents(fixture: FixtureOrder, route: RouteContext, hooks: Hooks) -> FixtureDocuments:
    """The accounting documents of ``fixture`` on ``route``: the order's, then its credits."""
    from ledgerbridge.accounting import build_credit_note, build_document

    document = build_document(fixture.order, route, hooks)
    credits = tuple(
        build_credit_note(fixture.order, refund.id, route, hooks, original=document)
        for refund in fixture.order.refunds
    )
    return FixtureDocuments(document=document, credit_notes=credits)


def sek_amount(document: AccountingDocument) -> Decimal:
    """The document's total in SEK, as its journal books it."""
    return quantize(document.total * document.sek_rate)


def check_expected(fixture: FixtureOrder, documents: FixtureDocuments) -> list[str]:
    """How ``documents`` differ from ``fixture.expected`` (an empty list when they match)."""
    expected = fixture.expected
    document = documents.document
    problems: list[str] = []

    def compare(what: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{fixture.name}: {what} is {got}, expected {want}")

    compare("document type", document.document_type, expected.document_type)
    compare("VAT scenario", document.scenario, expected.scenario)
    compare("currency", document.currency, expected.currency)
    compare("total", document.total, expected.total)
    compare("VAT per rate", {line.rate: line.amount for line in document.vat}, dict(expected.vat))
    compare("SEK total", sek_amount(document), expected.sek_total)
    compare(
        "credit notes",
        {
            credit.credit.refund_id: credit.total
            for credit in documents.credit_notes
            if credit.credit
        },
        dict(expected.refunds),
    )
    problems.extend(f"{fixture.name}: {problem}" for problem in document.check())
    for credit in documents.credit_notes:
        problems.extend(f"{fixture.name} credit {credit.reference}: {p}" for p in credit.check())
    return problems
