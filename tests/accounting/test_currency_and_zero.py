"""Foreign currency (SEK rate providers, journal in SEK to the öre) and zero-total orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.accounting import SkipExport, build_credit_note, build_document
from ledgerbridge.errors import DataError
from ledgerbridge.money import quantize

D = Decimal


def _eur_order(make, **kwargs):
    return make.order(
        [
            make.item("1", "Mugg", "33.33", "8.33", "25"),
            make.item("2", "Kaffe", "16.67", "1.00", "6"),
        ],
        currency="EUR",
        **kwargs,
    )


def test_eur_order_with_a_manual_rate(make):
    order = make.order([make.item("1", "Mugg", "100.00", "25.00", "25")], currency="EUR")
    route = make.route({"manual_rates": {"EUR": "11.20"}, "default_document_type": "cash_sale"})

    document = build_document(order, route, make.hooks())

    assert document.currency == "EUR"
    assert document.sek_rate == D("11.20")
    assert str(document.total) == "125.00"
    assert make.journal(document) == [
        ("1930", "1400.00", "0.00"),
        ("3001", "0.00", "1120.00"),
        ("2611", "0.00", "280.00"),
    ]


def test_journal_in_sek_converts_vat_once_per_rate_and_rounds_to_the_ore(make):
    rate = D("11.2347")
    route = make.route({"manual_rates": {"EUR": str(rate)}})

    document = build_document(_eur_order(make), route, make.hooks())

    journal = {line.account: line for line in document.journal}
    assert journal["1510"].debit == quantize(document.total * rate)
    assert journal["2611"].credit == quantize(D("8.33") * rate)
    assert journal["2631"].credit == quantize(D("1.00") * rate)
    debit = sum(line.debit for line in document.journal)
    credit = sum(line.credit for line in document.journal)
    assert debit == credit
    assert all(line.debit == quantize(line.debit) for line in document.journal)


def test_plugin_rate_provider_comes_before_the_manual_rate(make):
    calls = []

    def ledgerbridge_currency_rate(currency, on_date, route):
        calls.append((currency, on_date.isoformat()))
        return D("11.50")

    route = make.route({"manual_rates": {"EUR": "11.20"}})
    hooks = make.hooks(ledgerbridge_currency_rate=ledgerbridge_currency_rate)

    document = build_document(_eur_order(make), route, hooks)

    assert document.sek_rate == D("11.50")
    assert calls == [("EUR", "2026-05-04")]


def test_no_rate_is_a_data_error(make):
    with pytest.raises(DataError, match="No SEK rate for EUR on 2026-05-04"):
        build_document(_eur_order(make), make.route(), make.hooks())


def test_credit_note_keeps_the_rate_of_the_original(make):
    refund = make.refund("9", "41.66", [make.refund_line("1", "33.33", "8.33", "25")])
    order = _eur_order(make, refunds=(refund,))
    original = build_document(order, make.route({"manual_rates": {"EUR": "11.20"}}), make.hooks())

    def ledgerbridge_currency_rate(currency, on_date, route):
        return D("12.00")

    credit = build_credit_note(
        order,
        "9",
        make.route(),
        make.hooks(ledgerbridge_currency_rate=ledgerbridge_currency_rate),
        original=original,
    )

    assert credit.sek_rate == D("11.20")
    # 41.66 EUR at 11.20 is 466.59 SEK; the converted rows give 466.60: one öre to 3740.
    assert make.journal(credit) == [
        ("3001", "373.30", "0.00"),
        ("2611", "93.30", "0.00"),
        ("3740", "0.00", "0.01"),
        ("1510", "0.00", "466.59"),
    ]


def _free_order(make):
    line = make.item("1", "Provpåse", "0.00", "0.00", "25", subtotal="40.00", subtotal_tax="10.00")
    return make.order([line])


def test_zero_total_is_skipped_by_default(make):
    with pytest.raises(SkipExport, match=r"total of 0\.00"):
        build_document(_free_order(make), make.route(), make.hooks())
    assert issubclass(SkipExport, DataError)


def test_zero_total_is_exported_when_the_route_says_so(make):
    document = build_document(_free_order(make), make.route({"zero_total": "export"}), make.hooks())

    assert document.total == 0
    assert [(row.description, row.net) for row in document.rows] == [("Provpåse", D("0.00"))]
    assert document.journal == ()
    assert document.check() == []
