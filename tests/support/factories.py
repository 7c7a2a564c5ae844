"""Small, valid canonical orders and accounting documents built by hand for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from ledgerbridge.model import (
    AccountingDocument,
    Address,
    Customer,
    CustomerKind,
    DocumentRow,
    DocumentType,
    JournalLine,
    LineTax,
    Order,
    OrderLine,
    Payment,
    RowKind,
    ShippingLine,
    TaxRate,
    VatLine,
    VatScenario,
)

WHEN = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def sample_order(
    order_id: str = "1001",
    *,
    status: str = "completed",
    total: str = "250.00",
    modified_at: datetime = WHEN,
    payment_method: str = "bacs",
) -> Order:
    """A domestic SEK order: one 25 % line (net 200.00 + VAT 50.00 = ``total`` 250.00)."""
    gross = D(total)
    vat = (gross / D("1.25") * D("0.25")).quantize(D("0.01"))
    net = gross - vat
    return Order(
        source="memshop",
        id=order_id,
        number=order_id,
        status=status,
        currency="SEK",
        created_at=modified_at,
        modified_at=modified_at,
        paid_at=modified_at,
        completed_at=modified_at,
        customer=Customer(
            kind=CustomerKind.PRIVATE,
            name="Anna Lindqvist",
            email="anna@example.se",
            billing=Address(
                first_name="Anna",
                last_name="Lindqvist",
                street="Sveavägen 44",
                postcode="111 34",
                city="Stockholm",
                country="SE",
                email="anna@example.se",
            ),
        ),
        payment=Payment(method=payment_method, title="Banköverföring", paid_at=modified_at),
        lines=(
            OrderLine(
                id="1",
                name="Kaffebryggare",
                quantity=D("1"),
                subtotal=net,
                subtotal_tax=vat,
                total=net,
                total_tax=vat,
                vat_rate=D("25"),
                taxes=(LineTax(rate_id="1", amount=vat),),
                sku="KB-1",
            ),
        ),
        shipping_lines=(),
        tax_rates=(TaxRate(rate_id="1", rate=D("25"), tax_total=vat, label="Moms 25%"),),
        total=gross,
        total_tax=vat,
    )


def order_with_shipping() -> Order:
    """A 25 % order with shipping (lines 200.00 + 50.00, shipping 40.00 + 10.00)."""
    order = sample_order(total="250.00")
    return order.replace(
        shipping_lines=(
            ShippingLine(
                id="9",
                method_id="flat_rate",
                method_title="PostNord",
                total=D("40.00"),
                total_tax=D("10.00"),
                vat_rate=D("25"),
                taxes=(LineTax(rate_id="1", amount=D("10.00")),),
            ),
        ),
        tax_rates=(
            TaxRate(rate_id="1", rate=D("25"), tax_total=D("50.00"), shipping_tax_total=D("10.00")),
        ),
        total=D("300.00"),
        total_tax=D("60.00"),
    )


def sample_document(
    reference: str = "WS-1001",
    *,
    total: str = "250.00",
    document_type: DocumentType = DocumentType.INVOICE,
) -> AccountingDocument:
    """A balanced domestic invoice document for ``total`` (25 % VAT included)."""
    gross = D(total)
    vat = (gross / D("1.25") * D("0.25")).quantize(D("0.01"))
    net = gross - vat
    debit_account = "1510" if document_type is DocumentType.INVOICE else "1930"
    return AccountingDocument(
        document_type=document_type,
        scenario=VatScenario.DOMESTIC,
        reference=reference,
        order_id="1001",
        order_number="1001",
        date=date(2026, 11, 20),
        currency="SEK",
        customer=sample_order().customer,
        rows=(
            DocumentRow(
                kind=RowKind.ITEM,
                description="Kaffebryggare",
                account="3001",
                quantity=D("1"),
                net=net,
                vat_rate=D("25"),
                vat_amount=vat,
                vat_account="2611",
                sku="KB-1",
                source_line_id="1",
            ),
        ),
        vat=(VatLine(rate=D("25"), base=net, amount=vat, account="2611"),),
        journal=(
            JournalLine(account=debit_account, debit=gross, credit=D("0.00")),
            JournalLine(account="3001", debit=D("0.00"), credit=net),
            JournalLine(account="2611", debit=D("0.00"), credit=vat),
        ),
        total=gross,
        payment_method="bacs",
        payment_account="1930",
    )
