"""VAT scenarios: domestic, EU reverse charge, EU consumer, OSS, export, and refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.accounting import build_document
from ledgerbridge.errors import DataError
from ledgerbridge.model import ItemKind, VatScenario


def _net_order(make, country, **kwargs):
    return make.order(
        [make.item("1", "Kvarn", "1000.00", "0.00", "0")], buyer=make.customer(country, **kwargs)
    )


def test_eu_business_with_a_valid_vat_number_gets_reverse_charge(make):
    order = _net_order(make, "FR", company=True, vat_number="FR40303265045")

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_REVERSE_CHARGE
    assert make.journal(document)[1] == ("3108", "0.00", "1000.00")
    assert any("checked in format only" in warning for warning in document.warnings)


def test_vies_hook_confirming_the_number_removes_the_format_only_warning(make):
    def ledgerbridge_validate_vat_number(vat_number, country):
        return True

    order = _net_order(make, "FR", company=True, vat_number="FR40303265045")
    hooks = make.hooks(ledgerbridge_validate_vat_number=ledgerbridge_validate_vat_number)

    document = build_document(order, make.route(), hooks)

    assert document.scenario is VatScenario.EU_REVERSE_CHARGE
    assert not document.warnings


def test_vat_number_without_country_prefix_takes_the_billing_country(make):
    order = _net_order(make, "DE", company=True, vat_number="136695976")

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_REVERSE_CHARGE
    assert document.meta["buyer_vat_number"] == "DE136695976"


def test_reverse_charge_services_go_to_3308_with_reverse_charge_wording(make):
    order = make.order(
        [make.item("1", "Kurs", "500.00", "0.00", "0", kind=ItemKind.SERVICE)],
        buyer=make.customer("DE", company=True, vat_number="DE136695976"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert make.journal(document)[1] == ("3308", "0.00", "500.00")
    assert any("Reverse charge" in text for text in document.texts)
    assert not any("10 kap. 42" in text for text in document.texts)


def test_invalid_vat_number_format_is_a_consumer_and_needs_vat(make):
    order = _net_order(make, "DE", company=True, vat_number="DE123")

    with pytest.raises(DataError, match="no VAT was charged to a consumer in DE"):
        build_document(order, make.route(), make.hooks())


def test_invalid_vat_number_with_swedish_vat_is_an_eu_consumer_sale(make):
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "250.00", "25")],
        buyer=make.customer("DE", company=True, vat_number="DE123"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_CONSUMER
    assert make.journal(document) == [
        ("1510", "1250.00", "0.00"),
        ("3106", "0.00", "1000.00"),
        ("2611", "0.00", "250.00"),
    ]
    assert any("DE123 is not a valid VAT number" in w for w in document.warnings)


def test_vies_hook_refusing_the_number_prevents_reverse_charge(make):
    calls = []

    def ledgerbridge_validate_vat_number(vat_number, country):
        calls.append((vat_number, country))
        return False

    order = _net_order(make, "DE", company=True, vat_number="DE136695976")
    hooks = make.hooks(ledgerbridge_validate_vat_number=ledgerbridge_validate_vat_number)

    with pytest.raises(DataError, match="no VAT was charged"):
        build_document(order, make.route(), hooks)
    assert calls == [("DE136695976", "DE")]


def test_swedish_vat_number_is_domestic_even_abroad_billing(make):
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "250.00", "25")],
        buyer=make.customer("SE", company=True, vat_number="SE556703748501"),
    )

    assert build_document(order, make.route(), make.hooks()).scenario is VatScenario.DOMESTIC


def test_eu_consumer_under_the_threshold_pays_swedish_vat(make):
    order = make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], buyer=make.customer("FI"))

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_CONSUMER
    assert make.journal(document)[1:] == [("3106", "0.00", "200.00"), ("2611", "0.00", "50.00")]


def test_eu_consumer_services_with_swedish_vat_stay_on_service_accounts(make):
    order = make.order(
        [make.item("1", "Kurs", "200.00", "50.00", "25", kind=ItemKind.SERVICE)],
        buyer=make.customer("FI"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert make.journal(document)[1] == ("3041", "0.00", "200.00")


def test_swedish_rate_listed_under_the_buyers_country_is_swedish_vat(make):
    # Shops below the threshold list each EU country at the Swedish rates (a "*" row would
    # also tax exports), so the tax line carries the buyer's country with a Swedish rate.
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "250.00", "25", country="DE")],
        buyer=make.customer("DE"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_CONSUMER
    assert [(line.rate, line.amount) for line in document.vat] == [
        (Decimal("25"), Decimal("250.00"))
    ]


def test_swedish_rate_labelled_with_another_country_is_still_foreign(make):
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "250.00", "25", country="FR")],
        buyer=make.customer("DE"),
    )

    with pytest.raises(DataError, match="foreign VAT"):
        build_document(order, make.route(), make.hooks())


def test_foreign_vat_without_oss_is_a_data_error(make):
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "190.00", "19", country="DE")],
        buyer=make.customer("DE"),
    )

    with pytest.raises(DataError, match=r"foreign VAT \(190.00 at 19 % \(DE\)\).*not registered"):
        build_document(order, make.route(), make.hooks())


def test_oss_germany_books_destination_vat_per_country(make):
    order = make.order(
        [
            make.item("1", "Kvarn", "1000.00", "190.00", "19", country="DE"),
            make.item("2", "Bok", "100.00", "7.00", "7", country="DE"),
        ],
        shipping_lines=[make.shipping("3", "50.00", "9.50", "19", country="DE")],
        buyer=make.customer("DE"),
    )
    settings = {"accounts": {"oss_sales:DE": "3161", "oss_vat:DE": "2671", "oss_vat:DE:7": "2672"}}

    document = build_document(order, make.route(settings, oss=True), make.hooks())

    assert document.scenario is VatScenario.OSS
    assert make.journal(document) == [
        ("1510", "1356.50", "0.00"),
        ("3161", "0.00", "104.59"),
        ("2672", "0.00", "7.32"),
        ("3161", "0.00", "1045.87"),
        ("2671", "0.00", "198.72"),
    ]
    assert any("below DE's standard rate" in warning for warning in document.warnings)


def test_oss_registered_but_swedish_vat_charged_is_a_data_error(make):
    order = make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], buyer=make.customer("DE"))

    with pytest.raises(DataError, match="must be charged DE VAT"):
        build_document(order, make.route(oss=True), make.hooks())


def test_oss_to_a_country_whose_standard_rate_is_25_accepts_an_unlabelled_rate(make):
    order = make.order(
        [make.item("1", "Mugg", "200.00", "50.00", "25", country="")],
        buyer=make.customer("DK"),
    )

    document = build_document(order, make.route(oss=True), make.hooks())

    assert document.scenario is VatScenario.OSS
    assert make.journal(document)[1:] == [("3106", "0.00", "200.00"), ("2670", "0.00", "50.00")]


def test_export_outside_the_eu_without_vat(make):
    order = make.order(
        [
            make.item("1", "Kvarn", "800.00", "0.00", "0"),
            make.item("2", "Kurs", "200.00", "0.00", "0", kind=ItemKind.SERVICE),
        ],
        buyer=make.customer("CH"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EXPORT
    assert make.journal(document)[1:] == [("3105", "0.00", "800.00"), ("3305", "0.00", "200.00")]


def test_canary_islands_are_an_export(make):
    order = make.order(
        [make.item("1", "Kvarn", "800.00", "0.00", "0")],
        buyer=make.customer("ES", shipping_country="ES", postcode="35001", state="GC"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EXPORT
    assert any("Canary Islands" in warning for warning in document.warnings)


def test_swedish_vat_charged_on_an_export_is_booked_as_charged(make):
    order = make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], buyer=make.customer("NO"))

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.DOMESTIC
    assert make.journal(document)[1:] == [("3001", "0.00", "200.00"), ("2611", "0.00", "50.00")]
    assert any("outside the EU VAT area" in warning for warning in document.warnings)


def test_foreign_sales_tax_on_an_export_is_a_liability(make):
    order = make.order(
        [make.item("1", "Mössa", "100.00", "7.50", "7.5", country="US")],
        buyer=make.customer("US"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EXPORT
    assert make.journal(document) == [
        ("1510", "107.50", "0.00"),
        ("3105", "0.00", "100.00"),
        ("2890", "0.00", "7.50"),
    ]
    assert all(line.amount == 0 for line in document.vat)


def test_shipping_address_decides_the_destination(make):
    order = make.order(
        [make.item("1", "Mugg", "200.00", "0.00", "0")],
        buyer=make.customer("SE", shipping_country="NO"),
    )

    assert build_document(order, make.route(), make.hooks()).scenario is VatScenario.EXPORT


def test_plugin_may_choose_a_scenario_and_the_rules_still_check_it(make):
    def ledgerbridge_choose_vat_scenario(order, route, default):
        return VatScenario.EU_REVERSE_CHARGE

    order = make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], buyer=make.customer("DE"))
    hooks = make.hooks(ledgerbridge_choose_vat_scenario=ledgerbridge_choose_vat_scenario)

    with pytest.raises(DataError, match="reverse charge needs the buyer's valid EU VAT number"):
        build_document(order, make.route(), hooks)


def test_plugin_choosing_export_for_an_untaxed_order_is_accepted_with_a_warning(make):
    def ledgerbridge_choose_vat_scenario(order, route, default):
        return VatScenario.EXPORT if order.meta.get("vat_exempt") == "yes" else None

    order = _net_order(make, "DE").replace(meta={"vat_exempt": "yes"})
    hooks = make.hooks(ledgerbridge_choose_vat_scenario=ledgerbridge_choose_vat_scenario)

    document = build_document(order, make.route(), hooks)

    assert document.scenario is VatScenario.EXPORT
    assert any("A plugin chose the VAT scenario export" in w for w in document.warnings)


def test_reverse_charge_with_vat_charged_falls_back_to_the_vat_charged(make):
    order = make.order(
        [make.item("1", "Mugg", "200.00", "50.00", "25")],
        buyer=make.customer("DE", company=True, vat_number="DE136695976"),
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.scenario is VatScenario.EU_CONSUMER
    assert any("but the shop charged VAT" in warning for warning in document.warnings)


def test_classify_line_hook_makes_a_line_a_service(make):
    def ledgerbridge_classify_line(order, line, default):
        return ItemKind.SERVICE if line.sku.startswith("SRV-") else None

    order = make.order(
        [make.item("1", "Installation", "400.00", "100.00", "25", sku="SRV-1")],
    )
    hooks = make.hooks(ledgerbridge_classify_line=ledgerbridge_classify_line)

    document = build_document(order, make.route(), hooks)

    assert document.rows[0].item_kind is ItemKind.SERVICE
    assert document.rows[0].account == "3041"
