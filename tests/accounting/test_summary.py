"""Daily summary (dagskassa): one balanced document per route and day, traceable to its orders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerbridge.accounting import build_daily_summary, build_document, daily_summary_eligible
from ledgerbridge.errors import DataError
from ledgerbridge.model import DocumentType

D = Decimal
DAY = date(2026, 5, 4)
SETTINGS = {
    "default_document_type": "cash_sale",
    "payment_accounts": {"stripe": "1580", "swish": "1930"},
    "daily_summary": True,
    "manual_rates": {"EUR": "11.20"},
}


def _documents(make, route):
    orders = [
        make.order(
            [
                make.item("1", "Kaffe", "200.00", "12.00", "6"),
                make.item("2", "Mugg", "200.00", "50.00", "25"),
            ],
            shipping_lines=[make.shipping("3", "39.20", "9.80", "25")],
            number="1001",
        ),
        make.order(
            [make.item("1", "Mugg", "100.00", "25.00", "25")], number="1002", method="swish"
        ),
        make.order([make.item("1", "Kaffe", "50.00", "3.00", "6")], number="1003"),
        make.order([make.item("1", "Mugg", "10.00", "2.50", "25")], number="1004", currency="EUR"),
    ]
    return [build_document(order, route, make.hooks()) for order in orders]


def test_daily_summary_balances_and_adds_up_per_payment_method(make):
    route = make.route(SETTINGS, prefix="WEB-")
    documents = _documents(make, route)

    summary = build_daily_summary(documents, route, DAY)

    assert summary.document_type is DocumentType.DAILY_SUMMARY
    assert summary.reference == "WEB-DAY-2026-05-04-7"
    assert summary.currency == "SEK"
    assert summary.check() == []
    assert make.journal(summary) == [
        ("1580", "704.00", "0.00"),
        ("1930", "125.00", "0.00"),
        ("3003", "0.00", "271.21"),
        ("2631", "0.00", "16.27"),
        ("3001", "0.00", "433.22"),
        ("2611", "0.00", "108.30"),
    ]
    # 704.00 = 511.00 + 53.00 + 12.50 EUR at 11.20 (140.00); 125.00 by Swish.
    assert str(summary.total) == "829.00"
    assert [(str(v.rate), str(v.base), str(v.amount)) for v in summary.vat] == [
        ("6", "271.21", "16.27"),
        ("25", "433.22", "108.30"),
    ]


def test_daily_summary_is_traceable_to_its_orders(make):
    route = make.route(SETTINGS, prefix="WEB-")

    summary = build_daily_summary(_documents(make, route), route, DAY)

    assert summary.source_ids == ("1001", "1002", "1003", "1004")
    assert summary.meta["references"] == "WEB-1001,WEB-1002,WEB-1003,WEB-1004"
    assert summary.meta["orders"] == "4"
    assert any("WEB-1001: " in warning for warning in summary.warnings)


def test_daily_summary_refuses_what_does_not_belong(make):
    route = make.route(SETTINGS)
    documents = _documents(make, route)
    invoice = build_document(
        make.order([make.item("1", "Mugg", "100.00", "25.00", "25")], number="2001"),
        make.route(),
        make.hooks(),
    )

    with pytest.raises(DataError, match="holds cash sales only"):
        build_daily_summary([*documents, invoice], route, DAY)
    with pytest.raises(DataError, match="not 2026-05-05"):
        build_daily_summary(documents, route, date(2026, 5, 5))
    with pytest.raises(DataError, match="listed twice"):
        build_daily_summary([*documents, documents[0]], route, DAY)
    with pytest.raises(DataError, match="No cash sales"):
        build_daily_summary([], route, DAY)


def test_daily_summary_holds_one_scenario(make):
    route = make.route(SETTINGS)
    export = build_document(
        make.order(
            [make.item("1", "Kvarn", "100.00", "0.00", "0")], buyer=make.customer("NO"), number="3"
        ),
        route,
        make.hooks(),
    )
    documents = _documents(make, route)

    assert [daily_summary_eligible(d) for d in (*documents, export)] == [True] * 4 + [False]
    with pytest.raises(DataError, match="one VAT scenario"):
        build_daily_summary([*documents, export], route, DAY)
