"""Accounts, document types, booking dates, references and the document_built hook."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from ledgerbridge import hookimpl
from ledgerbridge.accounting import build_document
from ledgerbridge.accounting.accounts import AccountBook, unknown_account_keys
from ledgerbridge.accounting.dates import booking_date
from ledgerbridge.errors import DataError
from ledgerbridge.model import DocumentType, ItemKind
from ledgerbridge.model.route import load_route_settings

D = Decimal


def _mug(make, **kwargs):
    return make.order([make.item("1", "Mugg", "200.00", "50.00", "25")], **kwargs)


def test_bas_defaults_and_lookup_from_specific_to_general():
    book = AccountBook({"oss_vat:DE": "2671", "eu_goods": "3109"})

    assert book.sales(ItemKind.GOODS, D("6")) == "3003"
    assert book.sales(ItemKind.SERVICE, D("25")) == "3041"
    assert book.vat(D("12")) == "2621"
    assert book.get("oss_vat", "DE", "7") == "2671"
    assert book.get("oss_vat", "FR", "20") == "2670"
    assert book.get("eu_goods", "FR") == "3109"
    assert book.get("export_goods", "NO") == "3105"


def test_unknown_account_keys_are_refused_by_the_route_schema():
    assert unknown_account_keys(["sales_goods:25", "oss_vat:DE:7", "sales", "vat:19"]) == [
        "sales",
        "vat:19",
    ]
    with pytest.raises(ValidationError, match="Unknown account key"):
        load_route_settings({"accounts": {"shipping": "3520"}})


def test_every_account_is_configurable_per_route(make):
    settings = {
        "accounts": {"sales_goods:25": "3011", "vat:25": "2612", "receivable": "1511"},
    }

    document = build_document(_mug(make, method="bacs"), make.route(settings), make.hooks())

    assert make.journal(document) == [
        ("1511", "250.00", "0.00"),
        ("3011", "0.00", "200.00"),
        ("2612", "0.00", "50.00"),
    ]


def test_per_country_eu_accounts(make):
    order = make.order(
        [make.item("1", "Kvarn", "1000.00", "0.00", "0")],
        buyer=make.customer("FI", company=True, vat_number="FI20774740"),
    )
    settings = {"accounts": {"eu_goods:FI": "3118"}}

    document = build_document(order, make.route(settings), make.hooks())

    assert document.rows[0].account == "3118"


def test_product_meta_sets_the_revenue_account(make):
    order = make.order(
        [
            make.item(
                "1", "Presentkort", "200.00", "50.00", "25", meta={"ledgerbridge_account": "3010"}
            )
        ]
    )

    document = build_document(order, make.route(), make.hooks())

    assert document.rows[0].account == "3010"


def test_product_meta_with_a_bad_account_is_a_data_error(make):
    order = make.order(
        [
            make.item(
                "1", "Presentkort", "200.00", "50.00", "25", meta={"ledgerbridge_account": "30"}
            )
        ]
    )

    with pytest.raises(DataError, match="ledgerbridge_account = '30'"):
        build_document(order, make.route(), make.hooks())


def test_choose_account_hook_sees_purpose_and_line(make):
    seen = []

    def ledgerbridge_choose_account(purpose, order, route, line, default):
        seen.append((purpose, line.id if line else None, default))
        if purpose == "sales" and line is not None and line.name == "Mugg":
            return "3002"
        return None

    document = build_document(
        _mug(make),
        make.route(),
        make.hooks(ledgerbridge_choose_account=ledgerbridge_choose_account),
    )

    assert document.rows[0].account == "3002"
    assert ("vat", "1", "2611") in seen
    assert ("payment", None, "1930") in seen


def test_choose_account_hook_returning_a_non_account_is_a_data_error(make):
    def ledgerbridge_choose_account(purpose, order, route, line, default):
        return "bank" if purpose == "payment" else None

    with pytest.raises(DataError, match="'bank' for payment"):
        build_document(
            _mug(make),
            make.route(),
            make.hooks(ledgerbridge_choose_account=ledgerbridge_choose_account),
        )


def test_document_type_and_payment_account_per_payment_method(make):
    settings = {
        "default_document_type": "invoice",
        "document_types": {"stripe": "cash_sale", "swish": "cash_sale"},
        "payment_accounts": {"stripe": "1686", "swish": "1930"},
    }
    route = make.route(settings)

    card = build_document(_mug(make, method="stripe"), route, make.hooks())
    swish = build_document(_mug(make, method="swish"), route, make.hooks())
    bank = build_document(_mug(make, method="bacs"), route, make.hooks())

    assert (card.document_type, make.journal(card)[0][0]) == (DocumentType.CASH_SALE, "1686")
    assert (swish.document_type, make.journal(swish)[0][0]) == (DocumentType.CASH_SALE, "1930")
    assert (bank.document_type, make.journal(bank)[0][0]) == (DocumentType.INVOICE, "1510")
    assert bank.payment_account == "1930"


def test_document_type_hook_overrides_the_route(make):
    def ledgerbridge_choose_document_type(order, route, default):
        return DocumentType.INVOICE if order.customer.is_company else None

    hooks = make.hooks(ledgerbridge_choose_document_type=ledgerbridge_choose_document_type)
    route = make.route({"default_document_type": "cash_sale"})

    company = build_document(_mug(make, buyer=make.customer("SE", company=True)), route, hooks)
    private = build_document(_mug(make), route, hooks)

    assert company.document_type is DocumentType.INVOICE
    assert private.document_type is DocumentType.CASH_SALE


def test_document_type_hook_cannot_make_an_order_a_credit_note(make):
    def ledgerbridge_choose_document_type(order, route, default):
        return DocumentType.CREDIT_NOTE

    hooks = make.hooks(ledgerbridge_choose_document_type=ledgerbridge_choose_document_type)

    with pytest.raises(DataError, match="invoice or a cash sale"):
        build_document(_mug(make), make.route(), hooks)


def test_reference_uses_the_site_prefix(make):
    document = build_document(_mug(make, number="A-77"), make.route(prefix="WEB-"), make.hooks())

    assert document.reference == "WEB-A-77"


@pytest.mark.parametrize(
    ("paid", "completed", "expected"),
    [
        # Paid at checkout on 30 April, completed 3 May: April (the prepayment).
        ((2026, 4, 30, 21, 30), (2026, 5, 3, 8, 0), "2026-04-30"),
        # Paid after completion (invoice paid later): the completion date.
        ((2026, 5, 20, 8, 0), (2026, 5, 3, 8, 0), "2026-05-03"),
        # 23:30 UTC on 31 May is 1 June in Stockholm.
        ((2026, 5, 31, 23, 30), None, "2026-06-01"),
        (None, None, "2026-05-04"),
    ],
)
def test_booking_date(make, paid, completed, expected):
    order = make.order(
        [make.item("1", "Mugg", "200.00", "50.00", "25")],
        paid_at=datetime(*paid, tzinfo=UTC) if paid else None,
        completed_at=datetime(*completed, tzinfo=UTC) if completed else None,
    )

    assert booking_date(order).isoformat() == expected


def test_document_built_hook_can_add_text(make):
    @hookimpl(wrapper=True)
    def ledgerbridge_document_built(document, order, route):
        document = yield
        return document.replace(texts=(*document.texts, "Tack för ditt köp!"))

    document = build_document(
        _mug(make),
        make.route(),
        make.hooks(ledgerbridge_document_built=ledgerbridge_document_built),
    )

    assert document.texts[-1] == "Tack för ditt köp!"


def test_document_built_hook_that_unbalances_the_document_is_a_data_error(make):
    @hookimpl(wrapper=True)
    def ledgerbridge_document_built(document, order, route):
        document = yield
        return document.replace(journal=document.journal[:-1])

    with pytest.raises(DataError, match=r"a plugin changed the document.*journal does not balance"):
        build_document(
            _mug(make),
            make.route(),
            make.hooks(ledgerbridge_document_built=ledgerbridge_document_built),
        )
