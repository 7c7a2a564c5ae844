"""Hand-built, realistic accounting documents (until the accounting engine builds them).

Every document here passes ``AccountingDocument.check()``: rows add up to the total, the VAT
summary matches the rows, and the journal (SEK) balances.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.model import (
    AccountingDocument,
    CreditReference,
    DocumentRow,
    DocumentType,
    JournalLine,
    RowKind,
    VatLine,
    VatScenario,
)
from ledgerbridge.model.order import Address, Customer, CustomerKind
from ledgerbridge.money import ZERO, quantize
from ledgerbridge_fortnox.sandbox.seed import today

D = Decimal
VAT_ACCOUNTS = {D("25"): "2611", D("12"): "2621", D("6"): "2631"}
TODAY = today()


def row(
    kind: RowKind,
    description: str,
    account: str,
    quantity: str,
    net: str,
    rate: str,
    vat: str,
    sku: str = "",
) -> DocumentRow:
    """One document row."""
    return DocumentRow(
        kind=kind,
        description=description,
        account=account,
        quantity=D(quantity),
        net=D(net),
        vat_rate=D(rate),
        vat_amount=D(vat),
        vat_account=VAT_ACCOUNTS.get(D(rate), ""),
        sku=sku,
    )


def private_se(email: str = "anna.svensson@example.se") -> Customer:
    """A Swedish private buyer with separate delivery address."""
    return Customer(
        kind=CustomerKind.PRIVATE,
        name="Anna Svensson",
        email=email,
        billing=Address(
            first_name="Anna",
            last_name="Svensson",
            street="Storgatan 1",
            postcode="11122",
            city="Stockholm",
            country="SE",
            phone="0701234567",
            email=email,
        ),
        shipping=Address(
            first_name="Anna",
            last_name="Svensson",
            street="Sommarvägen 3",
            postcode="76190",
            city="Norrtälje",
            country="SE",
        ),
    )


def company_se() -> Customer:
    """A Swedish company buyer with a valid organisation number."""
    return Customer(
        kind=CustomerKind.COMPANY,
        name='Kafferosteriet "Bönan" AB',
        email="ekonomi@bonan.example.se",
        billing=Address(
            first_name="Per",
            last_name="Olsson",
            company="Kafferosteriet Bönan AB",
            street="Industrivägen 7",
            postcode="41301",
            city="Göteborg",
            country="SE",
            email="ekonomi@bonan.example.se",
        ),
        organisation_number="556036-0793",
        vat_number="SE556036079301",
    )


def company_de() -> Customer:
    """A German company with an EU VAT number (reverse charge)."""
    return Customer(
        kind=CustomerKind.COMPANY,
        name="Kaffeehaus Müller GmbH",
        email="buchhaltung@mueller.example.de",
        billing=Address(
            company="Kaffeehaus Müller GmbH",
            street="Hauptstraße 5",
            postcode="10115",
            city="Berlin",
            country="DE",
        ),
        vat_number="DE136695976",
    )


def private_no() -> Customer:
    """A Norwegian private buyer (export)."""
    return Customer(
        kind=CustomerKind.PRIVATE,
        name="Ola Nordmann",
        email="ola@example.no",
        billing=Address(
            first_name="Ola",
            last_name="Nordmann",
            street="Karl Johans gate 1",
            postcode="0154",
            city="Oslo",
            country="NO",
        ),
    )


def build(
    rows: list[DocumentRow],
    *,
    document_type: DocumentType = DocumentType.INVOICE,
    scenario: VatScenario = VatScenario.DOMESTIC,
    reference: str = "wc-1001",
    order_number: str = "1001",
    currency: str = "SEK",
    sek_rate: str = "1",
    customer: Customer | None = None,
    payment_method: str = "stripe",
    payment_account: str = "1580",
    meta: dict[str, str] | None = None,
    credit: CreditReference | None = None,
    day: date = TODAY,
    country: str = "SE",
    settle_account: str = "",
) -> AccountingDocument:
    """A sound document from rows: VAT summary, total and a balanced SEK journal."""
    rate = D(sek_rate)
    vat: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for item in rows:
        if item.kind is RowKind.ROUNDING:
            continue
        base, amount = vat.get(item.vat_rate, (ZERO, ZERO))
        vat[item.vat_rate] = (base + item.net, amount + item.vat_amount)
    total = sum((item.gross for item in rows), ZERO)
    credits: list[JournalLine] = []
    for item in rows:
        credits.append(JournalLine(item.account, ZERO, quantize(item.net * rate), item.description))
    for vat_rate, (_, amount) in vat.items():
        if amount:
            credits.append(
                JournalLine(
                    VAT_ACCOUNTS[vat_rate],
                    ZERO,
                    quantize(amount * rate),
                    f"Utgående moms {vat_rate} %",
                )
            )
    credit_sum = sum((line.credit for line in credits), ZERO)
    if settle_account:
        debit_account = settle_account
    elif document_type in (DocumentType.CASH_SALE, DocumentType.DAILY_SUMMARY):
        debit_account = payment_account
    else:
        debit_account = "1510"
    journal = [JournalLine(debit_account, credit_sum, ZERO, "Försäljning"), *credits]
    if document_type is DocumentType.CREDIT_NOTE:
        journal = [line.replace(debit=line.credit, credit=line.debit) for line in journal]
    document = AccountingDocument(
        document_type=document_type,
        scenario=scenario,
        reference=reference,
        order_id=order_number,
        order_number=order_number,
        date=day,
        currency=currency,
        customer=customer,
        rows=tuple(rows),
        vat=tuple(VatLine(r, b, a, VAT_ACCOUNTS.get(r, "")) for r, (b, a) in vat.items()),
        journal=tuple(journal),
        total=total,
        sek_rate=rate,
        payment_method=payment_method,
        payment_title=payment_method.title(),
        payment_account=payment_account,
        country=country,
        meta=meta or {},
        credit=credit,
        texts=("Tack för din beställning!",),
    )
    problems = document.check()
    assert not problems, problems
    return document


def domestic_rows() -> list[DocumentRow]:
    """Goods at 25, 12 and 6 %, with shipping split per rate (shop per-line VAT)."""
    return [
        row(
            RowKind.ITEM,
            "Kaffebryggare Moccamaster 🙂",
            "3001",
            "1",
            "999.20",
            "25",
            "249.80",
            "KB-1",
        ),
        row(
            RowKind.ITEM,
            "Ekologiskt kaffe 500 g",
            "3002",
            "3",
            "267.86",
            "12",
            "32.14",
            "KAFFE/500",
        ),
        row(
            RowKind.ITEM,
            "Bok: Svenska fika [inbunden]",
            "3003",
            "1",
            "187.74",
            "6",
            "11.26",
            "BOK-Å1",
        ),
        row(RowKind.SHIPPING, "Frakt PostNord (25 %)", "3520", "1", "32.00", "25", "8.00"),
        row(RowKind.SHIPPING, "Frakt PostNord (12 %)", "3520", "1", "15.00", "12", "1.80"),
        row(RowKind.SHIPPING, "Frakt PostNord (6 %)", "3520", "1", "10.00", "6", "0.60"),
    ]


def domestic_invoice(
    reference: str = "wc-1001",
    order_number: str = "1001",
    *,
    paid: bool = True,
    customer: Customer | None = None,
    **kwargs: Any,
) -> AccountingDocument:
    """A domestic private order with mixed VAT, paid by card."""
    meta = {"shipping_method": "flat_rate:1", "shipping_zone": "Sverige"}
    if paid:
        meta["paid_at"] = TODAY.isoformat()
    return build(
        domestic_rows(),
        reference=reference,
        order_number=order_number,
        customer=customer or private_se(),
        meta=meta,
        **kwargs,
    )


def eu_reverse_charge_invoice(reference: str = "wc-2001") -> AccountingDocument:
    """A German company buying in EUR under reverse charge (no VAT)."""
    rows = [
        row(RowKind.ITEM, "Kaffebryggare Moccamaster", "3108", "2", "200.00", "0", "0.00", "KB-1"),
        row(RowKind.SHIPPING, "Versand DHL", "3108", "1", "19.50", "0", "0.00"),
    ]
    return build(
        rows,
        scenario=VatScenario.EU_REVERSE_CHARGE,
        reference=reference,
        order_number="2001",
        currency="EUR",
        sek_rate="11.2345",
        customer=company_de(),
        payment_method="bacs",
        payment_account="1930",
        country="DE",
        meta={"paid_at": TODAY.isoformat(), "shipping_method": "dhl"},
    )


def export_invoice(reference: str = "wc-3001") -> AccountingDocument:
    """A Norwegian private buyer (export outside the EU, no VAT)."""
    rows = [
        row(
            RowKind.ITEM, "Ekologiskt kaffe 500 g", "3105", "4", "320.00", "0", "0.00", "KAFFE/500"
        ),
        row(RowKind.SHIPPING, "Frakt Norge", "3105", "1", "99.00", "0", "0.00"),
    ]
    return build(
        rows,
        scenario=VatScenario.EXPORT,
        reference=reference,
        order_number="3001",
        customer=private_no(),
        country="NO",
        meta={"paid_at": TODAY.isoformat()},
    )


def eur_consumer_invoice(reference: str = "wc-4001") -> AccountingDocument:
    """An EU consumer paying in EUR with Swedish VAT (under the OSS threshold)."""
    customer = Customer(
        kind=CustomerKind.PRIVATE,
        name="Jean Dupont",
        email="jean@example.fr",
        billing=Address(
            first_name="Jean",
            last_name="Dupont",
            street="1 rue Jolie",
            postcode="75001",
            city="Paris",
            country="FR",
        ),
    )
    rows = [
        row(RowKind.ITEM, "Kaffebryggare", "3106", "1", "89.60", "25", "22.40", "KB-1"),
        row(RowKind.SHIPPING, "Livraison", "3106", "1", "8.00", "25", "2.00"),
    ]
    return build(
        rows,
        scenario=VatScenario.EU_CONSUMER,
        reference=reference,
        order_number="4001",
        currency="EUR",
        sek_rate="11.10",
        customer=customer,
        country="FR",
        meta={"paid_at": TODAY.isoformat()},
    )


def cash_sale(reference: str = "wc-5001") -> AccountingDocument:
    """A card-paid order booked as a cash sale (voucher)."""
    return build(
        domestic_rows(),
        document_type=DocumentType.CASH_SALE,
        reference=reference,
        order_number="5001",
        customer=private_se(),
    )


def daily_summary(reference: str = "day-2026-01-15") -> AccountingDocument:
    """One day of small card sales as one voucher."""
    rows = [
        row(RowKind.ITEM, "Försäljning 25 % (14 ordrar)", "3001", "1", "8400.00", "25", "2100.00"),
        row(RowKind.ITEM, "Försäljning 12 % (9 ordrar)", "3002", "1", "1785.71", "12", "214.29"),
        row(RowKind.SHIPPING, "Frakt (23 ordrar)", "3520", "1", "1200.00", "25", "300.00"),
    ]
    return build(
        rows,
        document_type=DocumentType.DAILY_SUMMARY,
        reference=reference,
        order_number="",
        customer=None,
        payment_account="1580",
    )


def refund_of(
    original: AccountingDocument, rows: list[DocumentRow], *, reference: str, full: bool
) -> AccountingDocument:
    """A credit note for some rows of ``original`` (amounts positive, journal reversed)."""
    return build(
        rows,
        document_type=DocumentType.CREDIT_NOTE,
        scenario=original.scenario,
        reference=reference,
        order_number=original.order_number,
        currency=original.currency,
        sek_rate=str(original.sek_rate),
        customer=original.customer,
        payment_method=original.payment_method,
        payment_account=original.payment_account,
        country=original.country,
        meta={"paid_at": TODAY.isoformat()},
        settle_account=(
            original.payment_account if original.document_type is DocumentType.CASH_SALE else ""
        ),
        credit=CreditReference(
            original_reference=original.reference, refund_id=reference, full=full
        ),
    )
