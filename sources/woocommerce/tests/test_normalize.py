"""The normalizer over every real sample, and its rules on hand-made variations."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.errors import DataError
from ledgerbridge.model import CustomerKind, ItemKind, RefundLineKind
from ledgerbridge.model.schemas import dump_order, load_order
from ledgerbridge_woocommerce import samples
from ledgerbridge_woocommerce.normalize import PRODUCTS_KEY, REFUNDS_KEY, normalize_order
from ledgerbridge_woocommerce.payloads import ORDER, REFUND


def _payloads(name: str) -> list[dict]:
    data = samples.load(name)
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize("name", samples.names())
def test_every_sample_parses_and_normalizes(name):
    for payload in _payloads(name):
        if "amount" in payload:
            refund = REFUND.load(payload)
            assert refund["amount"] > 0
            continue
        ORDER.load(payload)
        order = normalize_order(payload)
        assert order.id == str(payload["id"])
        assert order.created_at.tzinfo is not None
        # The canonical order survives its own schema (what the queue and audit trail store).
        assert load_order(json.loads(json.dumps(dump_order(order)))) == order


def test_synthetic_swedish_order_key_amounts(synthetic_order):
    order = normalize_order(synthetic_order)
    assert order.currency == "SEK"
    assert order.total == Decimal("1413.40")
    assert order.total_tax == Decimal("260.37")
    assert order.prices_include_tax is True
    assert order.created_at == datetime(2024, 11, 14, 9, 21, 7, tzinfo=UTC)
    assert order.paid_at == datetime(2024, 11, 14, 9, 23, 45, tzinfo=UTC)
    assert order.payment.method == "klarna_payments"
    coffee_maker, coffee = order.lines
    assert (coffee_maker.total, coffee_maker.total_tax, coffee_maker.vat_rate) == (
        Decimal("899.28"),
        Decimal("224.82"),
        Decimal("25"),
    )
    assert (coffee.total, coffee.total_tax, coffee.vat_rate) == (
        Decimal("214.55"),
        Decimal("25.75"),
        Decimal("12"),
    )
    assert coffee.taxes[0].amount == Decimal("25.746429")  # raw precision kept
    assert coffee.variation_id == "415"
    assert coffee.meta == {"Rostning": "Mörkrost"}
    assert coffee.subtotal - coffee.total == coffee.discount == Decimal("23.84")
    (shipping,) = order.shipping_lines
    assert (shipping.total, shipping.total_tax, shipping.vat_rate) == (
        Decimal("39.20"),
        Decimal("9.80"),
        Decimal("25"),
    )
    (coupon,) = order.coupon_lines
    assert (coupon.code, coupon.discount, coupon.discount_tax) == (
        "valkommen10",
        Decimal("123.76"),
        Decimal("27.84"),
    )
    assert [(r.rate, r.tax_total, r.shipping_tax_total) for r in order.tax_rates] == [
        (Decimal("25"), Decimal("224.82"), Decimal("9.80")),
        (Decimal("12"), Decimal("25.75"), Decimal("0.00")),
    ]
    assert order.tax_rates[0].country == "SE"
    # WooCommerce's identity: total = lines + shipping + taxes.
    net = sum(line.total for line in order.lines) + order.shipping_total
    assert net + sum(rate.amount for rate in order.tax_rates) == order.total
    assert order.customer.kind is CustomerKind.COMPANY
    assert order.customer.name == "Lindqvist Design AB"
    assert order.customer.billing.postcode == "111 34"
    assert order.meta["ledgerbridge_refunds_fetched"] == "no"
    assert order.refunds == ()


def test_docs_order_with_its_refunds_embedded():
    orders = samples.load("wc-rest-api-docs_list-orders-response_wc3.0.json")
    raw = copy.deepcopy(next(o for o in orders if o["id"] == 723))
    raw[REFUNDS_KEY] = samples.load("wc-rest-api-docs_list-refunds-response_order723.json")
    order = normalize_order(raw)
    assert order.meta["ledgerbridge_refunds_fetched"] == "yes"
    assert [refund.id for refund in order.refunds] == ["724", "726"]  # oldest first
    line_refund, amount_only = order.refunds
    assert line_refund.amount == Decimal("9.00")
    (line,) = line_refund.lines
    assert (line.kind, line.original_line_id, line.quantity, line.total) == (
        RefundLineKind.ITEM,
        "311",
        Decimal("1"),
        Decimal("9.00"),
    )
    assert line_refund.unallocated == 0
    assert amount_only.lines == ()
    assert amount_only.unallocated == amount_only.amount == Decimal("10.00")
    assert amount_only.refunded_payment is False
    assert order.refunded_total == Decimal("19.00")


def test_refund_lines_map_to_the_order_lines_they_refund():
    raw = copy.deepcopy(samples.load("woocommerce-ios_order-partially-refunded_wc3.7.0.json"))
    refunds = samples.load("woocommerce-ios_refunds-all_order560.json")
    raw["line_items"][0]["id"] = 60
    raw["line_items"][1]["id"] = 65
    raw["refunds"] = [
        {"id": r["id"], "reason": r["reason"], "total": f"-{r['amount']}"} for r in refunds
    ]
    raw[REFUNDS_KEY] = refunds
    order = normalize_order(raw)
    assert [(r.id, r.amount) for r in order.refunds] == [
        ("562", Decimal("27.00")),
        ("590", Decimal("18.00")),
    ]
    assert [line.original_line_id for r in order.refunds for line in r.lines] == ["65", "60"]
    assert all(line.total == refund.amount for refund in order.refunds for line in refund.lines)


def test_refund_listed_but_not_fetched_is_a_data_error():
    raw = copy.deepcopy(samples.load("woocommerce-ios_order-partially-refunded_wc3.7.0.json"))
    raw[REFUNDS_KEY] = []
    with pytest.raises(DataError, match="refund 549"):
        normalize_order(raw)


def test_old_store_without_rate_percent_gets_inferred_rate():
    orders = samples.load("wc-rest-api-docs_list-orders-response_wc3.0.json")
    order = normalize_order(orders[0])
    assert order.tax_rates[0].rate == Decimal("7.5")
    assert {line.vat_rate for line in order.lines} == {Decimal("7.5")}


def test_raw_six_decimal_taxes_and_shipping_tax():
    order = normalize_order(samples.load("woocommerce-ios_order-with-charge_wc6.1.1.json"))
    (line,) = order.lines
    assert line.total_tax == Decimal("0.35")
    assert line.taxes[0].amount == Decimal("0.352941")
    assert order.shipping_lines[0].vat_rate == Decimal("2")
    assert order.shipping_lines[0].total_tax == Decimal("0.30")
    assert order.customer.kind is CustomerKind.PRIVATE
    assert order.customer.source_id == ""


def _with_meta(raw, **meta):
    raw = copy.deepcopy(raw)
    raw["meta_data"] = [
        *raw["meta_data"],
        *({"id": 1, "key": k, "value": v} for k, v in meta.items()),
    ]
    return raw


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("_billing_vat_number", "DE 136 695 976", "DE136695976"),
        ("_vat_number", "de136695976", "DE136695976"),
        ("vat_number", "136695976", "DE136695976"),
        ("_billing_eu_vat_number", "DE136695976", "DE136695976"),
        ("billing_vat", "DE-136.695.976", "DE136695976"),
    ],
)
def test_vat_number_from_plugin_meta_keys(synthetic_order, key, value, expected):
    raw = copy.deepcopy(synthetic_order)
    raw["billing"].update(company="", country="DE")
    order = normalize_order(_with_meta(raw, **{key: value}))
    assert order.customer.vat_number == expected
    assert order.customer.kind is CustomerKind.COMPANY


def test_swedish_organisation_number_validated(synthetic_order):
    order = normalize_order(_with_meta(synthetic_order, _billing_org_nr="5560360793"))
    assert order.customer.organisation_number == "556036-0793"
    bad = normalize_order(_with_meta(synthetic_order, organisationsnummer="5560360794"))
    assert bad.customer.organisation_number == ""
    assert bad.meta["ledgerbridge_invalid_organisation_number"] == "5560360794"
    from_vat = normalize_order(_with_meta(synthetic_order, _billing_vat_number="SE556036079301"))
    assert from_vat.customer.organisation_number == "556036-0793"


def test_private_customer_without_company_or_numbers(synthetic_order):
    raw = copy.deepcopy(synthetic_order)
    raw["billing"]["company"] = ""
    raw["shipping"]["company"] = ""
    customer = normalize_order(raw).customer
    assert customer.kind is CustomerKind.PRIVATE
    assert customer.name == "Anna Lindqvist"


def test_virtual_products_are_services_from_catalogue_data(synthetic_order):
    raw = copy.deepcopy(synthetic_order)
    raw[PRODUCTS_KEY] = {
        "311": {"found": True, "virtual": True, "downloadable": False},
        "415": {"found": False},
    }
    first, second = normalize_order(raw).lines
    assert first.kind is ItemKind.SERVICE
    assert second.kind is ItemKind.GOODS
    assert second.product_deleted is True


def test_all_virtual_order_without_catalogue_data_is_services(synthetic_order):
    raw = copy.deepcopy(synthetic_order)
    raw["needs_processing"] = False
    raw["shipping_lines"] = []
    assert {line.kind for line in normalize_order(raw).lines} == {ItemKind.SERVICE}


def test_negative_fee_is_kept_as_a_discount_fee(synthetic_order):
    raw = copy.deepcopy(synthetic_order)
    raw["fee_lines"] = [
        {
            "id": 99,
            "name": "Rabatt",
            "tax_class": "",
            "tax_status": "taxable",
            "amount": "-40",
            "total": "-40.00",
            "total_tax": "-10.00",
            "taxes": [{"id": 1, "total": "-10", "subtotal": ""}],
            "meta_data": [],
        }
    ]
    (fee,) = normalize_order(raw).fee_lines
    assert (fee.total, fee.total_tax, fee.vat_rate, fee.gross) == (
        Decimal("-40.00"),
        Decimal("-10.00"),
        Decimal("25"),
        Decimal("-50.00"),
    )


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("total",), "12,50", "total"),
        (("total",), 12.5, "JSON number"),
        (("line_items", 0, "total"), "abc", "line_items.0.total"),
        (("date_modified_gmt",), "14/11/2024", "date_modified_gmt"),
        (("line_items", 1, "taxes", 0, "id"), 9, "tax rate id 9"),
    ],
)
def test_what_cannot_be_understood_is_a_data_error_naming_the_field(
    synthetic_order, path, value, message
):
    raw = copy.deepcopy(synthetic_order)
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DataError, match=message):
        normalize_order(raw)


def test_error_object_and_deleted_webhook_bodies_are_data_errors():
    with pytest.raises(DataError, match="woocommerce_rest_cannot_view"):
        normalize_order({"code": "woocommerce_rest_cannot_view", "message": "Sorry"})
    with pytest.raises(DataError, match="status"):
        normalize_order({"id": 4711})


_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.sampled_from(["", "12.50", "-3", "abc", "2026-04-01T10:00:00", "1e5", "NaN"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


_SYNTHETIC = samples.load("synthetic-se-order-25-12-coupon.json")
_ALL_PATHS = sorted(_paths(_SYNTHETIC), key=repr)


@settings(max_examples=400, deadline=None)
@given(
    changes=st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _json_values), min_size=1, max_size=4)
)
def test_fuzz_normalizer_gives_an_order_or_a_data_error(changes):
    raw = copy.deepcopy(_SYNTHETIC)
    for path, value in changes:
        target = raw
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    outcome = _normalized_or_error(raw)
    assert str(outcome) if isinstance(outcome, DataError) else outcome.id


def _normalized_or_error(raw):
    try:
        return normalize_order(raw)
    except DataError as error:
        return error
