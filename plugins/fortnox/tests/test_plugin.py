"""The connector as the host sees it: entry point, schemas, the published hook, previews,
reference data, PDF, articles and stock."""

from __future__ import annotations

from decimal import Decimal

from fortnox_documents import daily_summary, domestic_invoice
from fortnox_ledgers import route_for

from ledgerbridge import hookimpl
from ledgerbridge.model import Product
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager, module_plugin
from ledgerbridge.progress import MemoryProgress
from ledgerbridge_fortnox.target import FortnoxTarget
from ledgerbridge_fortnox.text import article_number, clean

TARGET = FortnoxTarget()


def test_entry_point_registers_the_target_with_its_hook():
    @hookimpl(wrapper=True)
    def ledgerbridge_fortnox_invoice_row(payload, row, document, route):
        payload = yield
        payload["CostCenter"] = "WEB"
        return payload

    extra = module_plugin(
        "costcenter", ledgerbridge_fortnox_invoice_row=ledgerbridge_fortnox_invoice_row
    )
    pm = create_plugin_manager(strict=True, extra=[("costcenter", extra)])
    spec = pm.connectors["fortnox"]
    assert spec.role == "target" and spec.sandbox.default_port == 8102
    assert spec.secret_fields() == ["client_secret"]
    assert "order_invoice" in spec.capabilities
    from ledgerbridge.contexts import memory_ledger, memory_route

    hooks = Hooks(pm)
    route = hooks.with_filters(memory_route(ledger=memory_ledger(connector="fortnox")))
    payloads = hooks.target(route.ledger).build_payloads(route, domestic_invoice())
    rows = payloads["invoice"]["Invoice"]["InvoiceRows"]
    assert {row["CostCenter"] for row in rows} == {"WEB"}


def test_preview_of_invoice_and_voucher_sends_nothing():
    from ledgerbridge.contexts import memory_ledger, memory_route

    ledger = memory_ledger(connector="fortnox")
    invoice = TARGET.ledgerbridge_target_build_payloads(
        ledger=ledger, route=memory_route(ledger=ledger), document=domestic_invoice()
    )
    body = invoice["invoice"]["Invoice"]
    assert body["ExternalInvoiceReference1"] == "wc-1001" and body["VATIncluded"] is True
    assert (
        sum(Decimal(str(r["Price"])) * Decimal(r["DeliveredQuantity"]) for r in body["InvoiceRows"])
        == domestic_invoice().total
    )
    assert invoice["customer"]["Customer"]["VATType"] == "SEVAT"
    voucher = TARGET.ledgerbridge_target_build_payloads(
        ledger=ledger,
        route=memory_route(ledger=ledger, target_settings={"voucher_series": "D"}),
        document=daily_summary(),
    )
    assert voucher["voucher"]["Voucher"]["VoucherSeries"] == "D"


def test_reference_data_is_cached(sandbox, ledger):
    accounts = TARGET.ledgerbridge_target_reference_data(ledger=ledger, kind="accounts")
    assert any(item.code == "3001" for item in accounts)
    modes = TARGET.ledgerbridge_target_reference_data(ledger=ledger, kind="payment_modes")
    assert {item.code for item in modes} >= {"BG", "KORT"}
    before = sandbox.state.stats.requests
    TARGET.ledgerbridge_target_reference_data(ledger=ledger, kind="accounts")
    assert sandbox.state.stats.requests == before
    assert TARGET.ledgerbridge_target_reference_data(ledger=ledger, kind="nonsense") == []
    assert TARGET.ledgerbridge_target_currency_rate(
        ledger=ledger, currency="EUR", on_date=None
    ) == Decimal("11.10")


def test_pdf_of_an_invoice(sandbox, ledger):
    result = TARGET.ledgerbridge_target_export_document(
        ledger=ledger,
        route=route_for(ledger),
        document=domestic_invoice(),
        progress=MemoryProgress(),
    )
    pdf = TARGET.ledgerbridge_target_fetch_pdf(ledger=ledger, result=result)
    assert pdf.startswith(b"%PDF") and f"Faktura {result.target_id}".encode() in pdf


def test_product_sync_and_stock(sandbox, ledger):
    route = route_for(ledger)
    product = Product(
        id="311",
        sku="Kaffe/Bryggare Ö 1",
        name="Kaffebryggare 🙂",
        price=Decimal("1249.00"),
        vat_rate=Decimal("25"),
        manage_stock=True,
        weight=Decimal("2.5"),
        dimensions={"width": Decimal("20"), "height": Decimal("35"), "length": Decimal("18")},
    )
    number = TARGET.ledgerbridge_target_sync_product(ledger=ledger, route=route, product=product)
    assert number == "Kaffe/Bryggare-Ö-1"
    assert (
        TARGET.ledgerbridge_target_sync_product(ledger=ledger, route=route, product=product)
        == number
    )
    no_sku = product.replace(id="312", sku="", parent_id="300")
    assert (
        TARGET.ledgerbridge_target_sync_product(ledger=ledger, route=route, product=no_sku)
        == "WC-300-312"
    )
    from fortnox_ledgers import documents_of

    articles = {a["ArticleNumber"]: a for a in documents_of(sandbox)["articles"]}
    assert articles[number]["Weight"] == 2500 and articles[number]["SalesPrice"] == 999.2
    assert articles[number]["Description"] == "Kaffebryggare"
    levels = TARGET.ledgerbridge_target_stock_levels(ledger=ledger, skus=None)
    assert {level.sku for level in levels} == {number, "WC-300-312"}
    assert (
        TARGET.ledgerbridge_target_stock_levels(ledger=ledger, skus=["Kaffe/Bryggare Ö 1"])[
            0
        ].quantity
        == 0
    )


def test_text_rules():
    assert clean('Kaffe "Bönan" 😀 [1 kg]') == "Kaffe ’Bönan’ (1 kg)"
    assert clean("x" * 300, "RowDescription") == "x" * 255
    assert article_number("Å/ä ö+1.2_3") == "Å/ä-ö+1.2_3"
    assert article_number("x" * 51) == ""
