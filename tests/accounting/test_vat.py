"""VAT truth, shipping and fee splits, discounts and rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.accounting import build_document
from ledgerbridge.accounting.allocation import allocate
from ledgerbridge.errors import DataError
from ledgerbridge.model import RowKind

D = Decimal


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        ("49.00", ["212", "250"], ["22.48", "26.52"]),
        ("0.05", ["1", "1", "1"], ["0.01", "0.02", "0.02"]),
        ("-0.05", ["1", "1", "1"], ["-0.01", "-0.02", "-0.02"]),
        ("1.00", ["0", "0"], ["0.00", "1.00"]),
        ("10.00", ["0", "3"], ["0.00", "10.00"]),
        ("100.00", ["1", "1", "1"], ["33.33", "33.33", "33.34"]),
    ],
)
def test_allocate_splits_to_the_ore(total, weights, parts):
    assert allocate(D(total), [D(w) for w in weights]) == [D(p) for p in parts]


def test_allocate_refuses_negative_weights():
    with pytest.raises(ValueError, match="negative"):
        allocate(D("1.00"), [D("-1"), D("2")])


def test_round_at_subtotal_difference_moves_onto_the_largest_line_and_keeps_the_tax_line(make):
    # Three lines of 10.00 incl. 6 %: per line 0.57 VAT (1.71), the shop rounded the sum: 1.70.
    lines = [make.item(str(i), f"Kaka {i}", "9.43", "0.57", "6") for i in range(1, 4)]
    taxes = make.tax_lines(lines, ())
    taxes = (taxes[0].replace(tax_total=D("1.70")),)
    order = make.order(lines, taxes=taxes, total="29.99")

    document = build_document(order, make.route(), make.hooks())

    assert [str(line.amount) for line in document.vat] == ["1.70"]
    assert sum(row.gross for row in document.rows) == D("29.99")
    assert not [row for row in document.rows if row.kind is RowKind.ROUNDING]


def test_tax_lines_far_from_the_lines_are_a_data_error(make):
    lines = [make.item("1", "Mugg", "200.00", "50.00", "25")]
    taxes = (make.tax_lines(lines, ())[0].replace(tax_total=D("40.00")),)

    with pytest.raises(DataError, match="more than rounding"):
        build_document(make.order(lines, taxes=taxes), make.route(), make.hooks())


def test_line_vat_that_does_not_match_its_rate_is_a_data_error(make):
    order = make.order([make.item("1", "Kaffe", "200.00", "24.00", "6")])

    with pytest.raises(DataError, match=r"Kaffe: VAT 24.00 does not match 6 % of 200.00"):
        build_document(order, make.route(), make.hooks())


def test_a_rate_that_is_not_swedish_on_a_domestic_order_is_a_data_error(make):
    order = make.order([make.item("1", "Kaffe", "200.00", "38.00", "19", country="")])

    with pytest.raises(DataError, match="foreign VAT"):
        build_document(order, make.route(), make.hooks())


def test_total_that_differs_by_more_than_rounding_is_a_data_error(make):
    order = make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], total="260.00")

    with pytest.raises(DataError, match="differs from its lines"):
        build_document(order, make.route(), make.hooks())


def test_single_rate_goods_re_rate_shipping_charged_at_another_rate(make):
    order = make.order(
        [make.item("1", "Bok", "200.00", "12.00", "6")],
        shipping_lines=[make.shipping("2", "40.00", "10.00", "25")],
    )

    document = build_document(order, make.route(), make.hooks())

    shipping = [row for row in document.rows if row.kind is RowKind.SHIPPING]
    assert [(str(r.net), str(r.vat_amount), str(r.vat_rate)) for r in shipping] == [
        ("47.17", "2.83", "6")
    ]
    assert document.total == D("262.00")


def test_split_off_keeps_the_shops_shipping_vat_and_warns(make):
    order = make.order(
        [
            make.item("1", "Kaffe", "200.00", "12.00", "6"),
            make.item("2", "Mugg", "200.00", "50.00", "25"),
        ],
        shipping_lines=[make.shipping("3", "39.20", "9.80", "25")],
    )

    document = build_document(order, make.route({"split_shipping_by_rate": False}), make.hooks())

    assert [(str(v.rate), str(v.amount)) for v in document.vat] == [("6", "12.00"), ("25", "59.80")]
    assert any("split_shipping_by_rate is off" in w for w in document.warnings)


def test_untaxed_shipping_is_never_given_vat(make):
    order = make.order(
        [make.item("1", "Mugg", "200.00", "50.00", "25")],
        shipping_lines=[make.shipping("2", "49.00", "0.00", "0")],
    )

    document = build_document(order, make.route(), make.hooks())

    shipping = next(row for row in document.rows if row.kind is RowKind.SHIPPING)
    assert (shipping.net, shipping.vat_amount) == (D("49.00"), D("0.00"))
    assert any("without VAT although the goods carry VAT" in w for w in document.warnings)


def test_invoice_fee_follows_the_goods_and_can_have_its_own_account(make):
    order = make.order(
        [
            make.item("1", "Kaffe", "200.00", "12.00", "6"),
            make.item("2", "Mugg", "200.00", "50.00", "25"),
        ],
        fees=[make.fee("3", "Fakturaavgift", "39.20", "9.80", "25")],
        method="bacs",
    )

    document = build_document(order, make.route({"fee_account": "3540"}), make.hooks())

    fees = [row for row in document.rows if row.kind is RowKind.FEE]
    assert [(r.account, str(r.net), str(r.vat_amount), str(r.vat_rate)) for r in fees] == [
        ("3540", "21.21", "1.27", "6"),
        ("3540", "21.22", "5.30", "25"),
    ]


def test_negative_fee_is_a_discount_split_over_the_goods_rates(make):
    order = make.order(
        [
            make.item("1", "Kaffe", "200.00", "12.00", "6"),
            make.item("2", "Mugg", "200.00", "50.00", "25"),
        ],
        fees=[make.fee("3", "Rabatt", "-40.00", "-10.00", "25")],
    )

    document = build_document(order, make.route(), make.hooks())

    discounts = [row for row in document.rows if row.kind is RowKind.DISCOUNT]
    assert [(r.account, str(r.net), str(r.vat_amount), str(r.vat_rate)) for r in discounts] == [
        ("3730", "-21.64", "-1.30", "6"),
        ("3730", "-21.65", "-5.41", "25"),
    ]
    assert document.total == D("412.00")
    assert sum(row.gross for row in document.rows) == D("412.00")


def test_coupons_are_in_the_line_nets_and_optionally_shown_as_discount_rows(make):
    line = make.item(
        "1", "Kaffebryggare", "899.28", "224.82", "25", subtotal="999.20", subtotal_tax="249.80"
    )
    order = make.order([line])

    plain = build_document(order, make.route(), make.hooks())
    shown = build_document(order, make.route({"show_discounts": True}), make.hooks())

    assert [(r.kind.value, str(r.net), str(r.vat_amount)) for r in plain.rows] == [
        ("item", "899.28", "224.82")
    ]
    assert [(r.kind.value, r.account, str(r.net), str(r.vat_amount)) for r in shown.rows] == [
        ("item", "3001", "999.20", "249.80"),
        ("discount", "3730", "-99.92", "-24.98"),
    ]
    assert make.journal(shown) == [
        ("1510", "1124.10", "0.00"),
        ("3001", "0.00", "999.20"),
        ("3730", "99.92", "0.00"),
        ("2611", "0.00", "224.82"),
    ]


def test_an_item_taxed_at_two_rates_is_a_data_error(make):
    from ledgerbridge.model import LineTax

    line = make.item("1", "Paket", "100.00", "31.00", "25").replace(
        taxes=(LineTax("SE-25", D("25.00")), LineTax("SE-6", D("6.00")))
    )
    taxes = (
        make.tax_lines([make.item("x", "", "100", "25.00", "25")], ())[0],
        make.tax_lines([make.item("y", "", "100", "6.00", "6")], ())[0],
    )

    with pytest.raises(DataError, match="taxed at several rates"):
        build_document(make.order([line], taxes=taxes), make.route(), make.hooks())


def test_food_at_12_percent_during_the_food_cut_is_flagged(make):
    order = make.order([make.item("1", "Kaffe", "200.00", "24.00", "12")])

    document = build_document(order, make.route(), make.hooks())

    assert any("temporary food rate of 6 %" in w for w in document.warnings)


def test_food_at_12_percent_before_the_cut_is_not_flagged(make):
    from datetime import UTC, datetime

    order = make.order(
        [make.item("1", "Kaffe", "200.00", "24.00", "12")],
        paid_at=datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
    )

    document = build_document(order, make.route(), make.hooks())

    assert not document.warnings
    assert document.rows[0].account == "3002"
