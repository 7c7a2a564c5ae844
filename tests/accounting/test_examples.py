"""The worked examples of the accounting research notes, as exact fixtures.

Source: swedish-accounting.md §3.2 (A-E), §4 (credit note) and §8.1 (rounding), copied into
docs/accounting.md. Every journal line is asserted.
"""

from __future__ import annotations

from ledgerbridge.accounting import build_credit_note, build_document
from ledgerbridge.model import DocumentType, LineTax, VatScenario

CASH_SALE_PSP = {"document_types": {"stripe": "cash_sale"}, "payment_accounts": {"stripe": "1580"}}


def _example_a(make, **shipping_kwargs):
    return make.order(
        [
            make.item("11", "Kaffebönor", "200.00", "12.00", "6"),
            make.item("12", "Mugg", "200.00", "50.00", "25"),
        ],
        shipping_lines=[make.shipping("13", "39.20", "9.80", "25", **shipping_kwargs)],
    )


def test_a_domestic_mixed_rates_with_shipping_split(make):
    # WooCommerce charged all shipping at 25 % (9.80); the rules split it by net value.
    document = build_document(_example_a(make), make.route(CASH_SALE_PSP), make.hooks())

    assert document.document_type is DocumentType.CASH_SALE
    assert document.scenario is VatScenario.DOMESTIC
    assert str(document.total) == "511.00"
    assert make.journal(document) == [
        ("1580", "511.00", "0.00"),
        ("3003", "0.00", "221.21"),
        ("2631", "0.00", "13.27"),
        ("3001", "0.00", "221.22"),
        ("2611", "0.00", "55.30"),
    ]
    shipping = [row for row in document.rows if row.kind.value == "shipping"]
    assert [(str(row.net), str(row.vat_amount), str(row.vat_rate)) for row in shipping] == [
        ("21.21", "1.27", "6"),
        ("21.22", "5.30", "25"),
    ]
    assert [(str(v.rate), str(v.base), str(v.amount)) for v in document.vat] == [
        ("6", "221.21", "13.27"),
        ("25", "221.22", "55.30"),
    ]
    assert any("split by the goods' net value" in warning for warning in document.warnings)


def test_a_shop_that_split_shipping_itself_gives_the_same_journal(make):
    shipping = make.shipping("13", "42.43", "6.57", "25").replace(
        taxes=(LineTax("SE-6", make.D("1.27")), LineTax("SE-25", make.D("5.30")))
    )
    order = make.order(
        [
            make.item("11", "Kaffebönor", "200.00", "12.00", "6"),
            make.item("12", "Mugg", "200.00", "50.00", "25"),
        ],
        shipping_lines=[shipping],
    )
    order = order.replace(
        tax_rates=tuple(
            tax.replace(shipping_tax_total=make.D("1.27") if tax.rate == 6 else make.D("5.30"))
            for tax in order.tax_rates
        ),
        total=make.D("511.00"),
    )

    document = build_document(order, make.route(CASH_SALE_PSP), make.hooks())

    assert make.journal(document) == [
        ("1580", "511.00", "0.00"),
        ("3003", "0.00", "221.21"),
        ("2631", "0.00", "13.27"),
        ("3001", "0.00", "221.22"),
        ("2611", "0.00", "55.30"),
    ]
    assert not document.warnings


def test_a_with_shipping_on_3520_keeps_the_vat_rows(make):
    settings = {**CASH_SALE_PSP, "shipping_account": "3520"}

    document = build_document(_example_a(make), make.route(settings), make.hooks())

    assert make.journal(document) == [
        ("1580", "511.00", "0.00"),
        ("3003", "0.00", "200.00"),
        ("3520", "0.00", "21.21"),
        ("2631", "0.00", "13.27"),
        ("3001", "0.00", "200.00"),
        ("3520", "0.00", "21.22"),
        ("2611", "0.00", "55.30"),
    ]


def test_b_invoice_to_a_swedish_company(make):
    order = make.order(
        [make.item("21", "Konsulttjänst paket", "10000.00", "2500.00", "25")],
        buyer=make.customer("SE", company=True, vat_number="SE556703748501"),
        method="bacs",
        title="Banköverföring",
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.document_type is DocumentType.INVOICE
    assert document.scenario is VatScenario.DOMESTIC
    assert make.journal(document) == [
        ("1510", "12500.00", "0.00"),
        ("3001", "0.00", "10000.00"),
        ("2611", "0.00", "2500.00"),
    ]
    assert document.payment_account == "1930"
    assert document.receivable_account == "1510"


def test_c_intra_eu_b2b_goods(make):
    order = make.order(
        [make.item("31", "Espressomaskin", "1000.00", "0.00", "0")],
        buyer=make.customer("DE", company=True, vat_number="DE136695976"),
        method="bacs",
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_REVERSE_CHARGE
    assert make.journal(document) == [("1510", "1000.00", "0.00"), ("3108", "0.00", "1000.00")]
    assert document.vat[0].amount == 0
    assert any("10 kap. 42 §" in text for text in document.texts)
    assert any("DE136695976" in text for text in document.texts)
    assert document.meta["buyer_vat_number"] == "DE136695976"


def _example_d(make):
    return make.order(
        [make.item("41", "Kaffekvarn", "1000.00", "190.00", "19", country="DE")],
        buyer=make.customer("DE"),
    )


def test_d_oss_goods_to_a_german_consumer_on_country_accounts(make):
    settings = {
        "document_types": {"stripe": "cash_sale"},
        "payment_accounts": {"stripe": "1686"},
        "accounts": {"oss_sales:DE": "3161", "oss_vat:DE": "2671"},
    }

    document = build_document(_example_d(make), make.route(settings, oss=True), make.hooks())

    assert document.scenario is VatScenario.OSS
    assert document.country == "DE"
    assert make.journal(document) == [
        ("1686", "1190.00", "0.00"),
        ("3161", "0.00", "1000.00"),
        ("2671", "0.00", "190.00"),
    ]
    assert document.journal[2].description == "Utgående moms DE 19 %"
    assert not document.warnings


def test_d_oss_without_country_accounts_uses_the_group_accounts_and_warns(make):
    settings = {"document_types": {"stripe": "cash_sale"}, "payment_accounts": {"stripe": "1686"}}

    document = build_document(_example_d(make), make.route(settings, oss=True), make.hooks())

    assert make.journal(document) == [
        ("1686", "1190.00", "0.00"),
        ("3106", "0.00", "1000.00"),
        ("2670", "0.00", "190.00"),
    ]
    assert any("oss_sales:DE and oss_vat:DE" in warning for warning in document.warnings)


def test_e_export_to_norway(make):
    order = make.order(
        [make.item("51", "Kaffebryggare", "1000.00", "0.00", "0")],
        buyer=make.customer("NO"),
    )

    document = build_document(order, make.route(CASH_SALE_PSP), make.hooks())

    assert document.scenario is VatScenario.EXPORT
    assert make.journal(document) == [("1580", "1000.00", "0.00"), ("3105", "0.00", "1000.00")]
    assert document.texts == (
        "Export utanför EU, ingen svensk moms / Export outside the EU, no Swedish VAT.",
    )


def test_credit_note_for_the_mug_of_example_a(make):
    refund = make.refund("90", "250.00", [make.refund_line("12", "200.00", "50.00", "25")])
    order = _example_a(make).replace(refunds=(refund,))
    route = make.route(CASH_SALE_PSP)

    credit = build_credit_note(order, "90", route, make.hooks())

    assert credit.document_type is DocumentType.CREDIT_NOTE
    assert make.journal(credit) == [
        ("3001", "200.00", "0.00"),
        ("2611", "50.00", "0.00"),
        ("1580", "0.00", "250.00"),
    ]
    assert credit.reference == "1001-R90"
    assert credit.credit is not None
    assert credit.credit.original_reference == "1001"
    assert credit.credit.full is False


def test_rounding_of_the_amount_payable_goes_to_3740(make):
    order = make.order(
        [make.item("81", "Kaffe", "987.65", "246.91", "25")], method="bacs", total="1235.00"
    )

    document = build_document(order, make.route(), make.hooks())

    assert make.journal(document) == [
        ("1510", "1235.00", "0.00"),
        ("3001", "0.00", "987.65"),
        ("2611", "0.00", "246.91"),
        ("3740", "0.00", "0.44"),
    ]
    assert document.vat[0].amount == make.D("246.91")
