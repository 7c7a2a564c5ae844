"""Fixtures for the Bokio connector tests: a sandbox over real HTTP, contexts, and hand-built
accounting documents (until the accounting engine lands) that satisfy ``document.check()``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from ledgerbridge.contexts import memory_ledger, memory_route
from ledgerbridge.model import (
    AccountingDocument,
    CreditReference,
    DocumentRow,
    DocumentType,
    ItemKind,
    JournalLine,
    RowKind,
    VatLine,
    VatScenario,
)
from ledgerbridge.model.order import Address, Customer, CustomerKind
from ledgerbridge.model.route import RouteSettings
from ledgerbridge.money import ZERO, money_sum
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge.testing.servers import serve_wsgi
from ledgerbridge_bokio.sandbox import DEMO_COMPANY_ID, DEMO_TOKEN, create_app
from ledgerbridge_bokio.sandbox.state import STOCKHOLM

D = Decimal
ONE = Decimal(1)
TODAY = datetime.now(STOCKHOLM).date()


@pytest.fixture
def sandbox() -> Iterator[SimpleNamespace]:
    """A Bokio sandbox on a loopback port, with an admin client; rounding off unless asked."""
    app = create_app(SandboxOptions(seed=False, extra={"rounding": "none"}))
    with serve_wsgi(app) as server, httpx.Client(base_url=server.url, timeout=10) as admin:
        yield SimpleNamespace(
            url=server.url,
            api_url=f"{server.url}/v1",
            app=app,
            admin=admin,
            state=app.config["BOKIO_STATE"],
            knobs=lambda **values: admin.post("/_sandbox/knobs", json=values).json(),
            documents=lambda company=DEMO_COMPANY_ID: admin.get(
                f"/_sandbox/companies/{company}/documents"
            ).json(),
            stats=lambda: admin.get("/_sandbox/stats").json(),
            settings=lambda **values: admin.post(
                f"/_sandbox/companies/{DEMO_COMPANY_ID}/settings", json=values
            ).json(),
        )


def make_ledger(sandbox: SimpleNamespace, services: MemoryServices | None = None, **settings: Any):
    """A private-integration ledger on the sandbox's demo company."""
    values = {"integration": "private", "company_id": DEMO_COMPANY_ID, "api_url": sandbox.api_url}
    values.update(settings)
    return memory_ledger(
        key="bokio-test",
        connector="bokio",
        settings=values,
        secrets=MemorySecrets({"token": DEMO_TOKEN}),
        services=services or MemoryServices(),
    )


@pytest.fixture
def ledger(sandbox):
    """The demo company's ledger."""
    return make_ledger(sandbox)


def make_route(ledger, **target: Any):
    """A route to ``ledger`` with BAS defaults and Bokio route settings ``target``."""
    settings = RouteSettings(payment_accounts={"stripe": "1580", "swish": "1930"})
    return memory_route(ledger=ledger, settings=settings, target_settings=target)


@pytest.fixture
def route(ledger):
    """A route with default Bokio settings."""
    return make_route(ledger)


# -- documents ---------------------------------------------------------------------------------


def _row(kind, description, account, quantity, net, rate, vat, item_kind=ItemKind.GOODS, **kw):
    return DocumentRow(
        kind=kind,
        description=description,
        account=account,
        quantity=D(quantity),
        net=D(net),
        vat_rate=D(rate),
        vat_amount=D(vat),
        item_kind=item_kind,
        **kw,
    )


def _vat(rows, accounts=None):
    per_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for row in rows:
        if row.kind is RowKind.ROUNDING:
            continue
        base, amount = per_rate.get(row.vat_rate, (ZERO, ZERO))
        per_rate[row.vat_rate] = (base + row.net, amount + row.vat_amount)
    accounts = accounts or {D(25): "2611", D(12): "2621", D(6): "2631"}
    return tuple(
        VatLine(rate=rate, base=base, amount=amount, account=accounts.get(rate, ""))
        for rate, (base, amount) in sorted(per_rate.items())
    )


def _journal(rows, debit_account, rate=ONE, vat_accounts=None, credit=False):
    from ledgerbridge.money import quantize

    vat_accounts = vat_accounts or {D(25): "2611", D(12): "2621", D(6): "2631"}
    lines = []
    by_account: dict[str, Decimal] = {}
    for row in rows:
        by_account[row.account] = by_account.get(row.account, ZERO) + quantize(row.net * rate)
        if row.vat_amount:
            account = vat_accounts[row.vat_rate]
            by_account[account] = by_account.get(account, ZERO) + quantize(row.vat_amount * rate)
    total = money_sum(by_account.values())
    lines.append(JournalLine(account=debit_account, debit=total, credit=ZERO))
    lines.extend(
        JournalLine(account=account, debit=ZERO, credit=amount)
        for account, amount in by_account.items()
    )
    if credit:
        lines = [line.replace(debit=line.credit, credit=line.debit) for line in lines]
    return tuple(lines)


def swedish_customer(email="anna.svensson@example.se", name="Anna Svensson") -> Customer:
    """A private Swedish buyer."""
    address = Address(
        first_name=name.split()[0],
        last_name=name.split()[-1],
        street="Storgatan 1",
        postcode="411 01",
        city="Göteborg",
        country="SE",
        email=email,
        phone="+46701234567",
    )
    return Customer(
        kind=CustomerKind.PRIVATE, name=name, email=email, billing=address, shipping=address
    )


def document(
    reference: str,
    rows,
    *,
    customer: Customer | None = None,
    document_type=DocumentType.INVOICE,
    scenario=VatScenario.DOMESTIC,
    currency="SEK",
    sek_rate=ONE,
    payment_method="stripe",
    debit_account=None,
    credit: CreditReference | None = None,
    vat_accounts=None,
    country="SE",
    order_number: str = "",
    paid: bool = True,
) -> AccountingDocument:
    """A sound document from rows (journal derived: debit side = receivable or payment)."""
    rows = tuple(rows)
    if debit_account is None:
        debit_account = "1510" if document_type is DocumentType.INVOICE else "1580"
    doc = AccountingDocument(
        document_type=document_type,
        scenario=scenario,
        reference=reference,
        order_id=order_number or reference.split("-")[-1],
        order_number=order_number or reference.split("-")[-1],
        date=TODAY,
        currency=currency,
        customer=customer,
        rows=rows,
        vat=_vat(rows, vat_accounts),
        journal=_journal(
            rows,
            debit_account,
            sek_rate,
            vat_accounts,
            credit=document_type is DocumentType.CREDIT_NOTE,
        ),
        total=money_sum(row.gross for row in rows),
        sek_rate=sek_rate,
        payment_method=payment_method,
        payment_account="1580",
        country=country,
        credit=credit,
        meta={"paid_at": f"{TODAY.isoformat()}T09:30:00+00:00"} if paid else {},
    )
    assert doc.check() == [], doc.check()
    return doc


def domestic_rows():
    """Coffee 6 %, mug 25 %, a catering service 12 %, shipping split over 6 and 25 %."""
    return [
        _row(RowKind.ITEM, "Kaffebönor 500 g", "3003", 2, "200.00", 6, "12.00", sku="KAFFE"),
        _row(RowKind.ITEM, "Mugg", "3001", 1, "200.00", 25, "50.00", sku="MUGG"),
        _row(RowKind.ITEM, "Catering", "3012", 1, "100.00", 12, "12.00", ItemKind.SERVICE),
        _row(RowKind.SHIPPING, "Frakt (6 %)", "3520", 1, "21.21", 6, "1.27"),
        _row(RowKind.SHIPPING, "Frakt (25 %)", "3520", 1, "21.22", 25, "5.30"),
    ]


def domestic_invoice(reference="WC-1001", **kw) -> AccountingDocument:
    """Domestic mixed 25/12/6 with shipping rows: 623.00 SEK, VAT 80.57."""
    kw.setdefault("customer", swedish_customer())
    return document(reference, domestic_rows(), **kw)


def oere_invoice(reference="WC-1002", **kw) -> AccountingDocument:
    """A domestic invoice whose total has öre (623.45): Bokio's öresavrundning matters."""
    rows = [*domestic_rows(), _row(RowKind.FEE, "Presentinslagning", "3540", 1, "0.36", 25, "0.09")]
    kw.setdefault("customer", swedish_customer())
    return document(reference, rows, **kw)


def eu_reverse_charge(reference="WC-2001") -> AccountingDocument:
    """A German company with a VAT number: 0 %, 3108 goods, shipping on 3520."""
    billing = Address(
        company="Muster GmbH",
        street="Hauptstraße 5",
        postcode="10115",
        city="Berlin",
        country="DE",
        email="einkauf@muster.de",
    )
    customer = Customer(
        kind=CustomerKind.COMPANY,
        name="Muster GmbH",
        email="einkauf@muster.de",
        billing=billing,
        vat_number="DE123456789",
    )
    rows = [
        _row(RowKind.ITEM, "Espressomaskin", "3108", 2, "1000.00", 0, "0.00"),
        _row(RowKind.SHIPPING, "Frakt", "3520", 1, "100.00", 0, "0.00"),
    ]
    return document(
        reference, rows, customer=customer, scenario=VatScenario.EU_REVERSE_CHARGE, country="DE"
    )


def _foreign(country, email, name, street, postcode, city):
    billing = Address(
        first_name=name.split()[0],
        last_name=name.split()[-1],
        street=street,
        postcode=postcode,
        city=city,
        country=country,
        email=email,
    )
    return Customer(kind=CustomerKind.PRIVATE, name=name, email=email, billing=billing)


def _in_eur(reference, rows, customer, scenario, **kw) -> AccountingDocument:
    """A document in EUR at 11.20 SEK for a foreign buyer."""
    return document(
        reference,
        rows,
        customer=customer,
        scenario=scenario,
        currency="EUR",
        sek_rate=D("11.20"),
        country=customer.country,
        **kw,
    )


def export_eur(reference="WC-3001") -> AccountingDocument:
    """Export to Norway in EUR at 11.20: 0 %, 3105 goods."""
    customer = _foreign(
        "NO", "ola@example.no", "Ola Nordmann", "Karl Johans gate 1", "0154", "Oslo"
    )
    rows = [
        _row(RowKind.ITEM, "Kaffekvarn", "3105", 1, "80.00", 0, "0.00"),
        _row(RowKind.SHIPPING, "Frakt", "3520", 1, "15.00", 0, "0.00"),
    ]
    return _in_eur(reference, rows, customer, VatScenario.EXPORT)


def eu_consumer_eur(reference="WC-3002") -> AccountingDocument:
    """A Finnish consumer under the OSS threshold, in EUR: Swedish 25 % VAT on 3106."""
    customer = _foreign(
        "FI", "aino@example.fi", "Aino Virtanen", "Mannerheimintie 1", "00100", "Helsinki"
    )
    rows = [_row(RowKind.ITEM, "Termos", "3106", 1, "100.00", 25, "25.00")]
    return _in_eur(reference, rows, customer, VatScenario.EU_CONSUMER)


def oss_germany(reference="WC-4001") -> AccountingDocument:
    """OSS sale to a German consumer: 19 % German VAT on 3150/2671, EUR at 11.20."""
    customer = _foreign(
        "DE", "max@example.de", "Max Mustermann", "Hauptstraße 9", "80331", "München"
    )
    rows = [_row(RowKind.ITEM, "Teekanne", "3150", 1, "100.00", 19, "19.00")]
    return _in_eur(
        reference,
        rows,
        customer,
        VatScenario.OSS,
        vat_accounts={D(19): "2671"},
        debit_account="1580",
    )


def cash_sale(reference="WC-5001") -> AccountingDocument:
    """The domestic order as a cash sale paid through Stripe (1580)."""
    return document(
        reference,
        domestic_rows(),
        customer=swedish_customer(),
        document_type=DocumentType.CASH_SALE,
    )


def daily_summary(reference: str = "") -> AccountingDocument:
    """A day of shop sales in one entry."""
    reference = reference or f"DAY-{TODAY.isoformat()}"
    rows = [
        _row(RowKind.ITEM, "Försäljning 25 %", "3001", 1, "12400.00", 25, "3100.00"),
        _row(RowKind.ITEM, "Försäljning 12 %", "3002", 1, "890.00", 12, "106.80"),
        _row(RowKind.ITEM, "Försäljning 6 %", "3003", 1, "2350.00", 6, "141.00"),
        _row(RowKind.SHIPPING, "Frakter", "3520", 1, "612.80", 25, "153.20"),
    ]
    return document(reference, rows, document_type=DocumentType.DAILY_SUMMARY)


def credit_of(original: AccountingDocument, refund_id: str, rows, *, full=False, payment=None):
    """A credit document for ``original`` with ``rows`` (positive amounts)."""
    debit = payment or ("1510" if original.document_type is DocumentType.INVOICE else "1580")
    return document(
        f"{original.reference}-R{refund_id}",
        rows,
        customer=original.customer,
        document_type=DocumentType.CREDIT_NOTE,
        scenario=original.scenario,
        currency=original.currency,
        sek_rate=original.sek_rate,
        debit_account=debit,
        order_number=original.order_number,
        credit=CreditReference(
            original_reference=original.reference, refund_id=refund_id, full=full
        ),
    )


def amount_only_rows():
    """100.00 refunded without lines, spread over the original's gross per rate."""
    return [
        _row(RowKind.ITEM, "Återbetalning 6 %", "3003", 1, "35.51", 6, "2.13"),
        _row(RowKind.ITEM, "Återbetalning 25 %", "3001", 1, "35.51", 25, "8.88"),
        _row(RowKind.ITEM, "Återbetalning 12 %", "3012", 1, "16.04", 12, "1.93", ItemKind.SERVICE),
    ]


@pytest.fixture
def docs() -> SimpleNamespace:
    """The document builders."""
    return SimpleNamespace(
        domestic_invoice=domestic_invoice,
        oere_invoice=oere_invoice,
        domestic_rows=domestic_rows,
        eu_reverse_charge=eu_reverse_charge,
        export_eur=export_eur,
        eu_consumer_eur=eu_consumer_eur,
        oss_germany=oss_germany,
        cash_sale=cash_sale,
        daily_summary=daily_summary,
        credit_of=credit_of,
        amount_only_rows=amount_only_rows,
        swedish_customer=swedish_customer,
        document=document,
    )


@pytest.fixture(name="make_ledger")
def _make_ledger_fixture():
    """``make_ledger(sandbox, services=None, **settings)``."""
    return make_ledger


@pytest.fixture(name="make_route")
def _make_route_fixture():
    """``make_route(ledger, **bokio_route_settings)``."""
    return make_route
