"""Invoice, cash-sale, daily-summary, OSS and foreign-currency exports against the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.errors import DataError
from ledgerbridge.progress import MemoryProgress
from ledgerbridge_bokio.target import BokioTarget

D = Decimal
target = BokioTarget()
DEMO_COMPANY = "5b3f7a52-8d1e-4c6a-9f0b-2a7c4e1d9b30"


def export(ledger, route, document, progress=None):
    return target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=progress or MemoryProgress()
    )


def _gross(invoice):
    return D(str(invoice["totalAmount"])) + D(str(invoice["totalTax"]))


def test_domestic_invoice_is_created_published_recorded_and_paid(sandbox, ledger, route, docs):
    document = docs.domestic_invoice()
    result = export(ledger, route, document)

    assert result.document_kind == "invoice"
    assert result.review == ""
    assert result.totals.total == D("623.00")
    assert result.totals.vat == D("80.57")
    listing = sandbox.documents()
    [invoice] = listing["invoices"]
    assert invoice["id"] == result.target_id
    assert invoice["status"] == "paid"
    assert invoice["orderNumberReference"] == "1001"
    assert invoice["metadata"]["lbReference"] == "WC-1001"
    assert _gross(invoice) == D("623.00")
    assert D(str(invoice["totalTax"])) == D("80.57")
    # VAT per rate equals the shop's: Bokio's 25 % VAT needed a 3-öre move plus a rounding line.
    rounding = [line for line in invoice["lineItems"] if line["description"] == "Öresutjämning"]
    assert rounding
    assert rounding[0]["taxRate"] == 0
    assert rounding[0]["bookkeepingAccountNumber"] == 3740
    shipping = [line for line in invoice["lineItems"] if line["description"].startswith("Frakt")]
    assert {line["taxRate"] for line in shipping} == {6, 25}
    assert all(line["bookkeepingAccountNumber"] == 3520 for line in shipping)
    entries = {entry["id"]: entry for entry in listing["journalEntries"]}
    booked = entries[invoice["journalEntryRef"]["id"]]
    vat = {item["account"]: D(str(item["credit"])) for item in booked["items"]}
    assert vat[2611] == D("55.30")
    assert vat[2631] == D("13.27")
    assert vat[2621] == D("12.00")
    [payment] = listing["payments"]
    assert payment["bookkeepingAccountNumber"] == 1580
    assert D(str(payment["sumBaseCurrency"])) == D("623.00")
    assert payment["journalEntryRef"]
    assert "Bokio requests used" in result.details["budget"]


def test_customer_is_reused_by_email_across_orders(sandbox, ledger, route, docs):
    export(ledger, route, docs.domestic_invoice("WC-1101"))
    export(ledger, route, docs.domestic_invoice("WC-1102"))
    listing = sandbox.documents()
    assert listing["counts"]["customers"] == 1
    assert {i["customerRef"]["id"] for i in listing["invoices"]} == {listing["customers"][0]["id"]}


def test_customer_made_by_hand_in_bokio_is_found_by_email(
    sandbox, ledger, docs, make_ledger, make_route
):
    from ledgerbridge_bokio.client import BokioClient

    with BokioClient(ledger) as client:
        made = client.post(
            "/customers",
            {
                "name": "A. Svensson (manuell)",
                "type": "private",
                "contactsDetails": [{"name": "Anna", "email": "ANNA.svensson@example.se"}],
            },
        )
    fresh = make_ledger(sandbox)  # another worker: empty e-mail map
    export(fresh, make_route(fresh), docs.domestic_invoice("WC-1201"))
    listing = sandbox.documents()
    assert listing["counts"]["customers"] == 1
    assert listing["invoices"][0]["customerRef"]["id"] == made["id"]


def test_seeded_customer_from_the_bokio_app_is_reused_and_not_deletable(
    docs, make_ledger, make_route
):
    from ledgerbridge.errors import DataError as Refused
    from ledgerbridge.plugins.types import SandboxOptions
    from ledgerbridge.testing.servers import serve_wsgi
    from ledgerbridge_bokio.client import BokioClient
    from ledgerbridge_bokio.sandbox import create_app

    app = create_app(SandboxOptions(extra={"rounding": "none"}))
    with serve_wsgi(app) as server:
        from types import SimpleNamespace

        ledger = make_ledger(SimpleNamespace(api_url=f"{server.url}/v1"))
        route = make_route(ledger)
        export(ledger, route, docs.domestic_invoice())
        state = app.config["BOKIO_STATE"].companies[DEMO_COMPANY]
        seeded = next(c for c in state.customers.values() if c["name"] == "Anna Svensson")
        [invoice] = state.invoices.values()
        assert invoice["customerRef"]["id"] == seeded["id"]
        assert len(state.customers) == 2
        with BokioClient(ledger) as client, pytest.raises(Refused, match="through the API"):
            client.request("DELETE", f"/customers/{seeded['id']}")


def test_company_customer_carries_vat_number_and_reverse_charge_lines(sandbox, ledger, route, docs):
    result = export(ledger, route, docs.eu_reverse_charge())
    listing = sandbox.documents()
    [customer] = listing["customers"]
    assert customer["type"] == "company"
    assert customer["vatNumber"] == "DE123456789"
    assert customer["address"]["country"] == "DE"
    [invoice] = listing["invoices"]
    assert {line["taxRate"] for line in invoice["lineItems"]} == {0}
    goods = invoice["lineItems"][0]
    assert "bookkeepingAccountNumber" not in goods or goods["bookkeepingAccountNumber"] is None
    assert result.totals.total == D("1100.00")
    assert result.totals.vat == 0


@pytest.mark.parametrize(
    ("builder", "sek", "vat"),
    [("export_eur", "1064.00", "0"), ("eu_consumer_eur", "1400.00", "25.00")],
)
def test_foreign_currency_invoice_is_paid_in_sek(sandbox, ledger, route, docs, builder, sek, vat):
    document = getattr(docs, builder)()
    result = export(ledger, route, document)
    [invoice] = sandbox.documents()["invoices"]
    assert invoice["currency"] == "EUR"
    assert D(str(invoice["currencyRate"])) == D("11.20")
    assert result.totals.vat == D(vat)
    [payment] = sandbox.documents()["payments"]
    assert D(str(payment["sumBaseCurrency"])) == D(sek)
    assert invoice["status"] == "paid"


def test_oss_goes_as_a_journal_entry_with_the_german_accounts(sandbox, ledger, route, docs):
    result = export(ledger, route, docs.oss_germany())
    assert result.document_kind == "journal_entry"
    listing = sandbox.documents()
    assert listing["counts"]["invoices"] == 0
    [entry] = listing["journalEntries"]
    items = {item["account"]: item for item in entry["items"]}
    assert D(str(items[1580]["debit"])) == D("1332.80")
    assert D(str(items[3150]["credit"])) == D("1120.00")
    assert D(str(items[2671]["credit"])) == D("212.80")
    assert entry["title"].endswith("[WC-4001]")


def test_cash_sale_is_one_balanced_entry_debiting_the_payment_account(sandbox, ledger, route, docs):
    result = export(ledger, route, docs.cash_sale())
    listing = sandbox.documents()
    assert listing["counts"] == {**listing["counts"], "invoices": 0, "customers": 0}
    [entry] = listing["journalEntries"]
    debit = sum(D(str(item["debit"])) for item in entry["items"])
    credit = sum(D(str(item["credit"])) for item in entry["items"])
    assert debit == credit == D("623.00")
    assert {item["account"] for item in entry["items"] if item["debit"]} == {1580}
    assert result.target_id == entry["id"]
    assert result.details["number"].startswith("V")


def test_daily_summary_is_one_entry_and_one_request(sandbox, ledger, route, docs):
    before = sandbox.documents()["requestsThisMonth"]
    result = export(ledger, route, docs.daily_summary())
    listing = sandbox.documents()
    assert listing["requestsThisMonth"] - before == 1
    [entry] = listing["journalEntries"]
    assert sum(D(str(item["debit"])) for item in entry["items"]) == D("19753.80")
    assert result.totals.total == D("19753.80")


def test_oere_total_with_bokio_oresavrundning_waits_for_review(sandbox, ledger, route, docs):
    sandbox.settings(rounding="krona")
    result = export(ledger, route, docs.oere_invoice())
    assert "overPaid" in result.review
    assert "623.45" in result.review
    sandbox.settings(rounding="none")
    clean = export(ledger, route, docs.oere_invoice("WC-1003"))
    assert clean.review == ""
    assert sandbox.documents()["invoices"][1]["status"] == "paid"


def test_without_rounding_line_a_vat_difference_leaves_the_draft_for_review(
    sandbox, ledger, docs, make_route
):
    route = make_route(ledger, rounding_line=False)
    result = export(ledger, route, docs.domestic_invoice())
    assert "80.58" in result.review
    assert "80.57" in result.review
    [invoice] = sandbox.documents()["invoices"]
    assert invoice["status"] == "draft"
    assert sandbox.documents()["counts"]["payments"] == 0


def test_unpaid_invoice_is_published_and_recorded_but_left_open(sandbox, ledger, route, docs):
    result = export(ledger, route, docs.domestic_invoice(paid=False))
    [invoice] = sandbox.documents()["invoices"]
    assert invoice["status"] == "published"
    assert invoice["journalEntryRef"]
    assert sandbox.documents()["counts"]["payments"] == 0
    assert result.details["payment"].startswith("not registered")


def test_unpublished_flow_stops_at_the_draft(sandbox, ledger, docs, make_route):
    route = make_route(ledger, publish=False)
    result = export(ledger, route, docs.domestic_invoice())
    assert result.review == ""
    assert sandbox.documents()["invoices"][0]["status"] == "draft"


def test_unsound_document_is_refused_before_any_request(sandbox, ledger, route, docs):
    document = docs.domestic_invoice()
    broken = document.replace(total=document.total + 1)
    with pytest.raises(DataError, match="not sound"):
        export(ledger, route, broken)
    assert sandbox.stats()["requests"] == 0


def test_pdf_of_a_published_invoice(sandbox, ledger, route, docs):
    result = export(ledger, route, docs.domestic_invoice())
    pdf = target.ledgerbridge_target_fetch_pdf(ledger=ledger, result=result)
    assert pdf.startswith(b"%PDF-1.4")
    assert b"Invoice 1" in pdf


def test_find_document_finds_invoice_and_entry_exactly(sandbox, ledger, route, docs):
    assert (
        target.ledgerbridge_target_find_document(ledger=ledger, document=docs.domestic_invoice())
        is None
    )
    made = export(ledger, route, docs.domestic_invoice())
    export(ledger, route, docs.cash_sale())
    found = target.ledgerbridge_target_find_document(
        ledger=ledger, document=docs.domestic_invoice()
    )
    assert found.target_id == made.target_id
    entry = target.ledgerbridge_target_find_document(ledger=ledger, document=docs.cash_sale())
    assert entry.document_kind == "journal_entry"
    other = docs.domestic_invoice("WC-100")  # a prefix of WC-1001 must not match
    assert target.ledgerbridge_target_find_document(ledger=ledger, document=other) is None


def test_check_connection_shows_company_and_budget(sandbox, ledger):
    status = target.ledgerbridge_target_check_connection(ledger=ledger)
    assert status.ok
    assert "Sandlådan Webbshop AB" in status.message
    assert status.details["budget_limit"] == "5000"
    assert "of 5,000 Bokio requests" in status.details["budget"]


def test_reference_data_is_cached(sandbox, ledger):
    accounts = target.ledgerbridge_target_reference_data(ledger=ledger, kind="accounts")
    banks = target.ledgerbridge_target_reference_data(ledger=ledger, kind="bank_accounts")
    years = target.ledgerbridge_target_reference_data(ledger=ledger, kind="fiscal_years")
    requests = sandbox.stats()["requests"]
    again = target.ledgerbridge_target_reference_data(ledger=ledger, kind="accounts")
    assert sandbox.stats()["requests"] == requests
    assert again == accounts
    assert any(item.code == "3740" for item in accounts)
    assert {item.code for item in banks} >= {"1580", "1930"}
    assert all(item.extra["status"] in ("open", "closed") for item in years)
    assert target.ledgerbridge_target_reference_data(ledger=ledger, kind="ways_of_delivery") == []


def test_build_payloads_matches_what_is_sent(sandbox, ledger, route, docs):
    document = docs.domestic_invoice()
    preview = target.ledgerbridge_target_build_payloads(
        ledger=ledger, route=route, document=document
    )
    assert sandbox.stats()["requests"] == 0
    export(ledger, route, document)
    [invoice] = sandbox.documents()["invoices"]
    sent = [
        (line["description"], D(str(line["unitPrice"])), D(str(line["quantity"])))
        for line in invoice["lineItems"]
    ]
    wanted = [
        (line["description"], line["unitPrice"], line["quantity"])
        for line in preview["invoice"]["lineItems"]
    ]
    assert sent == wanted
    journal = target.ledgerbridge_target_build_payloads(
        ledger=ledger, route=route, document=docs.oss_germany()
    )
    assert set(journal) == {"journal_entry"}


def test_product_sync_creates_then_updates_one_item(sandbox, ledger, route):
    from ledgerbridge.model import Product

    product = Product(
        id="311", sku="KB-1", name="Kaffebryggare", price=D("1249.00"), vat_rate=D(25)
    )
    item_id = target.ledgerbridge_target_sync_product(ledger=ledger, route=route, product=product)
    again = target.ledgerbridge_target_sync_product(
        ledger=ledger, route=route, product=product.replace(price=D("999.00"))
    )
    [item] = sandbox.documents()["items"]
    assert item_id == again == item["id"]
    assert item["description"] == "KB-1 Kaffebryggare"
    assert D(str(item["unitPrice"])) == D("799.2000")  # 999.00 incl. 25 % VAT, net
    with pytest.raises(DataError, match="0, 6, 12 or 25"):
        target.ledgerbridge_target_sync_product(
            ledger=ledger, route=route, product=product.replace(id="312", vat_rate=D(19))
        )
