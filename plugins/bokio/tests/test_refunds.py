"""Refunds: credit notes whose gross equals the refund exactly; cash-sale reversals."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.progress import MemoryProgress
from ledgerbridge_bokio.target import BokioTarget

D = Decimal
target = BokioTarget()


def _export(ledger, route, document):
    return target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=MemoryProgress()
    )


def _credit(ledger, route, document, original):
    return target.ledgerbridge_target_export_credit_note(
        ledger=ledger, route=route, document=document, original=original, progress=MemoryProgress()
    )


def _gross(note):
    return D(str(note["totalAmount"])) + D(str(note["totalTax"]))


def test_line_refund_credits_exactly_the_refunded_line(sandbox, ledger, route, docs):
    invoice = docs.domestic_invoice()
    original = _export(ledger, route, invoice)
    mug = [row for row in docs.domestic_rows() if row.description == "Mugg"]
    refund = docs.credit_of(invoice, "71", mug)
    result = _credit(ledger, route, refund, original)

    assert result.document_kind == "credit_note"
    assert result.review == ""
    listing = sandbox.documents()
    [note] = listing["creditNotes"]
    assert note["status"] == "published"
    assert note["invoiceNumber"].startswith("CN-")
    assert note["invoiceRef"]["id"] == original.target_id
    assert _gross(note) == D("250.00")
    assert D(str(note["totalTax"])) == D("50.00")
    assert note["metadata"]["lbReference"] == refund.reference
    assert note["journalEntryRef"]
    entries = {entry["id"]: entry for entry in listing["journalEntries"]}
    booked = entries[note["journalEntryRef"]["id"]]
    debits = {item["account"]: D(str(item["debit"])) for item in booked["items"] if item["debit"]}
    assert debits == {3001: D("200.00"), 2611: D("50.00")}
    # the invoice was paid through Stripe: the money going back is booked as well
    payout = entries[result.details["payout_journal_entry_id"]]
    assert payout["title"].endswith(f"[{refund.reference}/payout]")
    lines = {(i["account"], D(str(i["debit"])), D(str(i["credit"]))) for i in payout["items"]}
    assert lines == {(1510, D("250.00"), D("0.00")), (1580, D("0.00"), D("250.00"))}


def test_amount_only_refund_is_spread_over_the_original_rates(sandbox, ledger, route, docs):
    invoice = docs.domestic_invoice()
    original = _export(ledger, route, invoice)
    refund = docs.credit_of(invoice, "72", docs.amount_only_rows())
    assert refund.total == D("100.00")
    result = _credit(ledger, route, refund, original)
    [note] = sandbox.documents()["creditNotes"]
    assert _gross(note) == D("100.00")
    assert D(str(note["totalTax"])) == D("12.94")
    assert {line["taxRate"] for line in note["lineItems"]} >= {6, 12, 25}
    assert result.totals.total == D("100.00")


def test_full_refund_credits_the_whole_invoice(sandbox, ledger, route, docs):
    invoice = docs.domestic_invoice()
    original = _export(ledger, route, invoice)
    refund = docs.credit_of(invoice, "73", docs.domestic_rows(), full=True)
    _credit(ledger, route, refund, original)
    listing = sandbox.documents()
    [note] = listing["creditNotes"]
    assert _gross(note) == D("623.00")
    assert listing["invoices"][0]["status"] == "credited"


def test_two_partial_refunds_make_two_credit_notes(sandbox, ledger, route, docs):
    invoice = docs.domestic_invoice()
    original = _export(ledger, route, invoice)
    rows = docs.domestic_rows()
    _credit(ledger, route, docs.credit_of(invoice, "81", rows[:1]), original)
    _credit(ledger, route, docs.credit_of(invoice, "82", rows[1:2]), original)
    notes = sandbox.documents()["creditNotes"]
    assert sorted(_gross(note) for note in notes) == [D("212.00"), D("250.00")]


def test_full_cash_sale_refund_reverses_the_entry(sandbox, ledger, route, docs):
    sale = docs.cash_sale()
    original = _export(ledger, route, sale)
    refund = docs.credit_of(sale, "91", docs.domestic_rows(), full=True)
    result = _credit(ledger, route, refund, original)
    entries = {entry["id"]: entry for entry in sandbox.documents()["journalEntries"]}
    reversal = entries[result.target_id]
    assert reversal["reversingJournalEntryId"] == original.target_id
    assert entries[original.target_id]["reversedByJournalEntryId"] == reversal["id"]
    assert sum(D(str(item["credit"])) for item in reversal["items"]) == D("623.00")
    found = target.ledgerbridge_target_find_document(ledger=ledger, document=refund)
    assert found.target_id == reversal["id"]


def test_partial_cash_sale_refund_is_its_own_correcting_entry(sandbox, ledger, route, docs):
    sale = docs.cash_sale()
    original = _export(ledger, route, sale)
    mug = [row for row in docs.domestic_rows() if row.description == "Mugg"]
    refund = docs.credit_of(sale, "92", mug)
    result = _credit(ledger, route, refund, original)
    entries = {entry["id"]: entry for entry in sandbox.documents()["journalEntries"]}
    entry = entries[result.target_id]
    assert entry["reversingJournalEntryId"] is None
    assert entries[original.target_id]["reversedByJournalEntryId"] is None
    items = {item["account"]: item for item in entry["items"]}
    assert D(str(items[1580]["credit"])) == D("250.00")
    assert D(str(items[3001]["debit"])) == D("200.00")
    assert D(str(items[2611]["debit"])) == D("50.00")
    assert entry["title"].endswith(f"[{refund.reference}]")
    found = target.ledgerbridge_target_find_document(ledger=ledger, document=refund)
    assert found.target_id == entry["id"]
