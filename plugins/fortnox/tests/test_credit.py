"""Refunds: full credit of an invoice, partial credit invoices, reversing vouchers."""

from __future__ import annotations

from decimal import Decimal

from fortnox_documents import cash_sale, domestic_invoice, domestic_rows, refund_of
from fortnox_ledgers import created, documents_of, invoice_in, route_for

from ledgerbridge.progress import MemoryProgress
from ledgerbridge_fortnox.target import FortnoxTarget

D = Decimal
TARGET = FortnoxTarget()


def _export(ledger, route, document):
    return TARGET.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=MemoryProgress()
    )


def _credit(ledger, route, document, original):
    return TARGET.ledgerbridge_target_export_credit_note(
        ledger=ledger, route=route, document=document, original=original, progress=MemoryProgress()
    )


def test_full_refund_credits_the_booked_invoice(sandbox, ledger):
    route = route_for(ledger)
    original_document = domestic_invoice()
    original = _export(ledger, route, original_document)
    refund = refund_of(original_document, domestic_rows(), reference="wc-1001-r1", full=True)
    result = _credit(ledger, route, refund, original)
    assert result.review == "", result.review
    source = invoice_in(sandbox, original.target_id)
    assert source["CreditInvoiceReference"] == result.target_id
    assert source["Booked"] is True  # never edited, only credited
    credit = invoice_in(sandbox, result.target_id)
    assert credit["Credit"] == "true" and credit["InvoiceReference"] == original.target_id
    assert D(str(credit["Total"])) == -original_document.total
    assert credit["ExternalInvoiceReference1"] == "wc-1001-r1"
    assert credit["Booked"] is True
    assert D(str(credit["Balance"])) == 0  # the refund payment was registered


def test_partial_refund_is_a_credit_invoice_with_the_refunded_rows(sandbox, ledger):
    route = route_for(ledger)
    original_document = domestic_invoice()
    original = _export(ledger, route, original_document)
    refunded = [domestic_rows()[1]]  # the coffee, 3 x 100.00 incl. 12 %
    refund = refund_of(original_document, refunded, reference="wc-1001-r2", full=False)
    result = _credit(ledger, route, refund, original)
    assert result.review == ""
    credit = invoice_in(sandbox, result.target_id)
    assert credit["CreditInvoiceReference"] == "0"
    assert credit["InvoiceReference"] == original.target_id
    assert D(str(credit["Total"])) == D("-300.00") and D(str(credit["TotalVAT"])) == D("-32.14")
    assert [row["DeliveredQuantity"] for row in credit["InvoiceRows"]] == ["-3"]
    assert invoice_in(sandbox, original.target_id)["Booked"] is True
    assert created(sandbox, "credit_invoice")[0]["reference"] == "wc-1001-r2"


def test_second_full_refund_after_a_partial_one_is_a_credit_invoice(sandbox, ledger):
    route = route_for(ledger)
    original_document = domestic_invoice()
    original = _export(ledger, route, original_document)
    first = refund_of(original_document, domestic_rows(), reference="wc-1001-r3", full=True)
    _credit(ledger, route, first, original)
    again = refund_of(original_document, [domestic_rows()[0]], reference="wc-1001-r4", full=True)
    result = _credit(ledger, route, again, original)
    assert invoice_in(sandbox, result.target_id)["ExternalInvoiceReference1"] == "wc-1001-r4"
    assert len(created(sandbox, "credit_invoice")) == 2


def test_refund_of_a_cash_sale_is_a_reversing_voucher(sandbox, ledger):
    route = route_for(ledger)
    sale = cash_sale()
    original = _export(ledger, route, sale)
    refund = refund_of(sale, [domestic_rows()[0]], reference="wc-5001-r1", full=False)
    result = _credit(ledger, route, refund, original)
    assert result.document_kind == "voucher" and result.review == ""
    vouchers = [
        v for v in documents_of(sandbox)["vouchers"] if v["Comments"] == "ledgerbridge:wc-5001-r1"
    ]
    assert len(vouchers) == 1
    rows = {row["Account"]: row for row in vouchers[0]["VoucherRows"]}
    assert D(str(rows[3001]["Debit"])) == D("999.20") and D(str(rows[2611]["Debit"])) == D("249.80")
    assert D(str(rows[1580]["Credit"])) == D("1249.00")
