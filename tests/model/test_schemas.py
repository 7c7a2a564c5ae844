"""The canonical model's marshmallow schemas: exact round trips, field-level refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from ledgerbridge.model import ExportResult, Totals
from ledgerbridge.model.schemas import (
    dump_document,
    dump_order,
    dump_result,
    load_document,
    load_order,
    load_result,
)
from ledgerbridge.money import MoneyError, ore, quantize, to_decimal, vat_of_gross
from tests.support.factories import order_with_shipping, sample_document


def test_orders_round_trip_exactly():
    order = order_with_shipping()
    data = dump_order(order)
    assert data["total"] == "300.00"
    assert data["lines"][0]["vat_rate"] == "25"
    assert data["created_at"].endswith("+00:00")
    assert load_order(data) == order


def test_documents_and_results_round_trip_exactly():
    document = sample_document()
    assert load_document(dump_document(document)) == document
    assert document.check() == []
    result = ExportResult(
        target_id="17",
        document_kind="invoice",
        totals=Totals(total=Decimal("250.00"), vat=Decimal("50.00")),
        details={"series": "B"},
    )
    assert load_result(dump_result(result)) == result


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("total",), 12.5, "expected an amount as a string, got float"),
        (("total",), "12.345", "more than 2 decimals"),
        (("total",), "NaN", "not a finite number"),
        (("lines", 0, "vat_rate"), "125", "not between 0 and 100"),
        (("created_at",), "2026-11-20T10:30:00", "Not a valid aware datetime"),
        (("customer", "kind"), "alien", "Must be one of"),
        (("lines", 0, "quantity"), "many", "is not a number"),
    ],
)
def test_malformed_orders_are_refused_naming_the_field(path, value, message):
    data = dump_order(order_with_shipping())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as refused:
        load_order(data)
    errors = refused.value.messages
    for key in path:
        errors = errors[key]
    assert message in " ".join(errors)


def test_missing_required_fields_are_named():
    data = dump_order(order_with_shipping())
    del data["currency"]
    del data["customer"]["name"]
    with pytest.raises(ValidationError) as refused:
        load_order(data)
    assert set(refused.value.messages) == {"currency", "customer"}
    assert "name" in refused.value.messages["customer"]


def test_a_broken_document_says_what_is_wrong():
    document = sample_document()
    broken = document.replace(total=document.total + Decimal("0.01"))
    assert broken.check() == ["rows add up to 250.00, document total is 250.01"]
    unbalanced = document.replace(journal=document.journal[:-1])
    assert unbalanced.check() == ["journal does not balance: debit 250.00, credit 200.00"]


def test_money_helpers_never_take_floats_and_round_half_up():
    with pytest.raises(MoneyError):
        to_decimal(0.1)
    assert ore("2.345") == Decimal("2.35")
    assert quantize(Decimal("1116.9375")) == Decimal("1116.94")
    assert vat_of_gross(Decimal("250.00"), Decimal("25")) == Decimal("50.00")
    assert vat_of_gross(Decimal("212.00"), Decimal("6")) == Decimal("12.00")
