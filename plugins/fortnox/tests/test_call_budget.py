"""API calls per order: Fortnox allows 25 requests per 5 s per token, so every call counts.

For a returning customer a cash sale (voucher) costs one call, and an invoice that is booked
and paid costs four: create, bookkeep, payment, bookkeep the payment. Fortnox's answers to
those writes carry the document, so nothing is read back.
"""

from __future__ import annotations

import httpx
from fortnox_documents import cash_sale, domestic_invoice
from fortnox_ledgers import route_for

from ledgerbridge.progress import MemoryProgress
from ledgerbridge_fortnox.target import FortnoxTarget

TARGET = FortnoxTarget()


def requests(sandbox) -> int:
    return int(httpx.get(f"{sandbox.url}/_sandbox/stats").json()["requests"])


def export(ledger, route, document):
    return TARGET.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=MemoryProgress()
    )


def test_cash_sales_cost_one_call_each(sandbox, ledger):
    route = route_for(ledger)
    export(ledger, route, cash_sale("wc-5001"))  # the first one learns the financial year
    before = requests(sandbox)
    for number in range(5002, 5007):
        result = export(ledger, route, cash_sale(f"wc-{number}"))
        assert result.review == "" and result.document_kind == "voucher"
    assert requests(sandbox) - before == 5


def test_a_returning_customers_paid_invoice_costs_four_calls(sandbox, ledger):
    route = route_for(ledger, modes_of_payment={"stripe": "KORT"})
    first = export(ledger, route, domestic_invoice("wc-1001", "1001"))
    assert first.review == ""
    before = requests(sandbox)
    second = export(ledger, route, domestic_invoice("wc-1002", "1002"))
    assert second.review == "" and second.details["booked"] == "yes"
    assert "payment_number" in second.details
    assert requests(sandbox) - before == 4
    assert second.details["customer_number"] == first.details["customer_number"]


def test_a_changed_customer_is_updated(sandbox, ledger):
    from fortnox_documents import private_se

    route = route_for(ledger, modes_of_payment={"stripe": "KORT"})
    export(ledger, route, domestic_invoice("wc-1001", "1001"))
    moved = private_se()
    moved = moved.replace(billing=moved.billing.replace(street="Nygatan 9"))
    before = requests(sandbox)
    export(ledger, route, domestic_invoice("wc-1002", "1002", customer=moved))
    assert requests(sandbox) - before == 5  # the update, then the four
    customers = httpx.get(f"{sandbox.url}/_sandbox/tenants/1000001/documents").json()["customers"]
    assert [c["Address1"] for c in customers] == ["Nygatan 9"]
