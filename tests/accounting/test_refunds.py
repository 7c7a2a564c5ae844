"""Refunds → credit notes: full, by line, amount only, shipping, cumulative limits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledgerbridge.accounting import SkipExport, build_credit_note, build_document
from ledgerbridge.errors import DataError
from ledgerbridge.model import RefundLineKind, RowKind

D = Decimal
CASH = {"document_types": {"stripe": "cash_sale"}, "payment_accounts": {"stripe": "1580"}}
SHIPPING = RefundLineKind.SHIPPING


def _order(make, *refunds, **kwargs):
    """Example A of the research notes: coffee 6 %, two mugs 25 %, shipping 49.00 at 25 %."""
    return make.order(
        [
            make.item("11", "Kaffebönor", "200.00", "12.00", "6"),
            make.item("12", "Mugg", "200.00", "50.00", "25", quantity=2),
        ],
        shipping_lines=[make.shipping("13", "39.20", "9.80", "25")],
        refunds=refunds,
        **kwargs,
    )


def _per_rate(document):
    return {str(line.rate): (str(line.base), str(line.amount)) for line in document.vat}


def _gross(document):
    return sum(row.gross for row in document.rows)


def test_full_refund_by_lines_reverses_the_original_exactly(make):
    refund = make.refund(
        "90",
        "511.00",
        [
            make.refund_line("11", "200.00", "12.00", "6"),
            make.refund_line("12", "200.00", "50.00", "25", quantity=2),
            make.refund_line("13", "39.20", "9.80", "25", quantity=0, kind=SHIPPING),
        ],
    )
    order = _order(make, refund)
    route = make.route(CASH)
    original = build_document(order, route, make.hooks())

    credit = build_credit_note(order, "90", route, make.hooks(), original=original)

    assert _per_rate(credit) == _per_rate(original)
    assert credit.credit.full is True
    assert make.journal(credit) == [
        ("3003", "221.21", "0.00"),
        ("2631", "13.27", "0.00"),
        ("3001", "221.22", "0.00"),
        ("2611", "55.30", "0.00"),
        ("1580", "0.00", "511.00"),
    ]


def test_full_amount_only_refund_reverses_every_line_and_rate(make):
    order = _order(make, make.refund("90", "511.00"))
    route = make.route(CASH)

    credit = build_credit_note(order, "90", route, make.hooks())

    assert _per_rate(credit) == _per_rate(build_document(order, route, make.hooks()))
    assert _gross(credit) == D("511.00")


def test_partial_refund_by_line_uses_the_shops_amounts(make):
    order = _order(
        make, make.refund("91", "125.00", [make.refund_line("12", "100.00", "25.00", "25")])
    )

    credit = build_credit_note(order, "91", make.route(CASH), make.hooks())

    assert [
        (r.description, str(r.quantity), str(r.net), str(r.vat_amount)) for r in credit.rows
    ] == [("Mugg", "1", "100.00", "25.00")]
    assert credit.credit.full is False
    assert credit.reference == "1001-R91"


def test_amount_only_refund_is_spread_over_the_original_rates_with_exact_gross(make):
    order = _order(make, make.refund("92", "100.00", reason="Goodwill"))

    credit = build_credit_note(order, "92", make.route(CASH), make.hooks())

    assert _gross(credit) == D("100.00")
    assert str(credit.total) == "100.00"
    assert {str(row.vat_rate) for row in credit.rows} == {"6", "25"}
    for row in credit.rows:
        assert abs(row.vat_amount - row.net * row.vat_rate / 100) <= D("0.01")
    assert all(row.description == "Återbetalning: Goodwill" for row in credit.rows)
    assert credit.document_type.value == "credit_note"
    assert sum(line.debit for line in credit.journal) == sum(line.credit for line in credit.journal)


def test_shipping_refund_follows_the_originals_split(make):
    order = _order(
        make,
        make.refund(
            "93",
            "49.00",
            [make.refund_line("13", "39.20", "9.80", "25", quantity=0, kind=SHIPPING)],
        ),
    )

    credit = build_credit_note(order, "93", make.route(CASH), make.hooks())

    assert [(str(r.net), str(r.vat_amount), str(r.vat_rate)) for r in credit.rows] == [
        ("21.21", "1.27", "6"),
        ("21.22", "5.30", "25"),
    ]


def test_partial_shipping_refund_is_shared_over_the_originals_rates(make):
    order = _order(
        make,
        make.refund(
            "94",
            "20.00",
            [make.refund_line("13", "16.00", "4.00", "25", quantity=0, kind=SHIPPING)],
        ),
    )

    credit = build_credit_note(order, "94", make.route(CASH), make.hooks())

    assert _gross(credit) == D("20.00")
    assert [str(row.vat_rate) for row in credit.rows] == ["6", "25"]
    assert [row.kind for row in credit.rows] == [RowKind.SHIPPING, RowKind.SHIPPING]


def test_cumulative_refunds_end_exactly_at_the_sale(make):
    first = make.refund("95", "125.00", [make.refund_line("12", "100.00", "25.00", "25")], day=10)
    second = make.refund("96", "200.00", day=11)
    third = make.refund("97", "186.00", day=12)
    order = _order(make, first, second, third)
    route = make.route(CASH)
    original = build_document(order, route, make.hooks())

    credits = [
        build_credit_note(order, refund_id, route, make.hooks(), original=original)
        for refund_id in ("95", "96", "97")
    ]

    for rate, (base, amount) in _per_rate(original).items():
        credited_base = sum(
            line.base for credit in credits for line in credit.vat if str(line.rate) == rate
        )
        credited_vat = sum(
            line.amount for credit in credits for line in credit.vat if str(line.rate) == rate
        )
        assert (str(credited_base), str(credited_vat)) == (base, amount)
    assert [credit.credit.full for credit in credits] == [False, False, True]


def test_refunds_beyond_the_total_are_refused(make):
    order = _order(make, make.refund("95", "500.00", day=10), make.refund("96", "20.00", day=11))

    build_credit_note(order, "95", make.route(CASH), make.hooks())
    with pytest.raises(DataError, match=r"add up to 520\.00, more than its total 511\.00"):
        build_credit_note(order, "96", make.route(CASH), make.hooks())


def test_refunding_more_of_a_line_than_was_sold_is_refused(make):
    order = _order(
        make,
        make.refund("95", "125.00", [make.refund_line("12", "100.00", "25.00", "25")], day=10),
        make.refund("96", "250.00", [make.refund_line("12", "200.00", "50.00", "25", quantity=2)]),
    )

    with pytest.raises(DataError, match="3 of Mugg would be refunded in all, but the order has 2"):
        build_credit_note(order, "96", make.route(CASH), make.hooks())


def test_line_credited_after_an_amount_only_refund_cannot_exceed_what_is_left(make):
    order = _order(
        make,
        make.refund("95", "100.00", day=10),
        make.refund(
            "96", "250.00", [make.refund_line("12", "200.00", "50.00", "25", quantity=2)], day=11
        ),
    )

    with pytest.raises(DataError, match="left to credit after earlier refunds"):
        build_credit_note(order, "96", make.route(CASH), make.hooks())


def test_unknown_refund_and_unknown_line_are_data_errors(make):
    order = _order(make, make.refund("95", "10.00", [make.refund_line("99", "8.00", "2.00", "25")]))

    with pytest.raises(DataError, match="has no refund 42"):
        build_credit_note(order, "42", make.route(CASH), make.hooks())
    with pytest.raises(DataError, match="refers to line 99"):
        build_credit_note(order, "95", make.route(CASH), make.hooks())


def test_zero_refund_is_skipped(make):
    order = _order(make, make.refund("95", "0.00"))

    with pytest.raises(SkipExport, match="nothing to credit"):
        build_credit_note(order, "95", make.route(CASH), make.hooks())


def test_credit_reuses_the_original_rate_after_a_rate_change(make):
    # Food sold in March 2026 at 12 %, refunded in May when food is 6 %: credited at 12 %.
    march = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    refund = make.refund("98", "112.00", [make.refund_line("1", "105.66", "6.34", "6")])
    order = make.order(
        [make.item("1", "Kaffe", "100.00", "12.00", "12")], paid_at=march, refunds=(refund,)
    )

    credit = build_credit_note(order, "98", make.route(), make.hooks())

    assert [(str(r.net), str(r.vat_amount), str(r.vat_rate), r.account) for r in credit.rows] == [
        ("100.00", "12.00", "12", "3002")
    ]
    assert make.journal(credit) == [
        ("3002", "100.00", "0.00"),
        ("2621", "12.00", "0.00"),
        ("1510", "0.00", "112.00"),
    ]


def test_partial_credit_at_another_rate_is_recomputed_at_the_original_rate(make):
    march = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    refund = make.refund("98", "56.00", [make.refund_line("1", "52.83", "3.17", "6")])
    order = make.order(
        [make.item("1", "Kaffe", "100.00", "12.00", "12", quantity=2)],
        paid_at=march,
        refunds=(refund,),
    )

    credit = build_credit_note(order, "98", make.route(), make.hooks())

    assert [(str(r.net), str(r.vat_amount), str(r.vat_rate)) for r in credit.rows] == [
        ("50.00", "6.00", "12")
    ]
    assert any("original rate of 12 %" in warning for warning in credit.warnings)


def test_credit_note_of_a_reverse_charge_invoice_repeats_the_wording(make):
    refund = make.refund("99", "500.00", [make.refund_line("1", "500.00", "0.00", "0")])
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "0.00", "0", quantity=2)],
        buyer=make.customer("DE", company=True, vat_number="DE136695976"),
        method="bacs",
        refunds=(refund,),
    )

    credit = build_credit_note(order, "99", make.route(), make.hooks())

    assert credit.texts[0].startswith("Kreditering av 1001 daterad 2026-05-04")
    assert any("10 kap. 42 §" in text for text in credit.texts)
    assert make.journal(credit) == [("3108", "500.00", "0.00"), ("1510", "0.00", "500.00")]


def test_refund_of_an_export_gives_back_the_foreign_sales_tax_on_its_account(make):
    refund = make.refund("99", "53.75", [make.refund_line("1", "50.00", "3.75", "7.5")])
    order = make.order(
        [make.item("1", "Mössa", "100.00", "7.50", "7.5", country="US", quantity=2)],
        buyer=make.customer("US"),
        refunds=(refund,),
    )

    credit = build_credit_note(order, "99", make.route(), make.hooks())

    assert make.journal(credit) == [
        ("3105", "50.00", "0.00"),
        ("2890", "3.75", "0.00"),
        ("1510", "0.00", "53.75"),
    ]
