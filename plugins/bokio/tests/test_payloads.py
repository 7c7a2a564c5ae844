"""The pure translation: lines, accounts Bokio picks itself, rounding protection, dates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge import jsonnum
from ledgerbridge.contexts import IdentityFilters
from ledgerbridge.errors import DataError
from ledgerbridge.model import VatScenario
from ledgerbridge_bokio import payloads
from ledgerbridge_bokio.settings import RouteConfig

D = Decimal


def test_paid_date_is_the_swedish_date(docs):
    late = docs.domestic_invoice().replace(meta={"paid_at": "2026-11-20T23:30:00+00:00"})
    assert payloads.paid_on(late) == "2026-11-21"
    assert payloads.paid_on(docs.domestic_invoice(paid=False)) == ""


def test_lines_predict_bokio_and_balance_with_a_rounding_line(docs):
    document = docs.domestic_invoice()
    lines = payloads.invoice_lines(document, RouteConfig())
    net = sum(line.net for line in lines)
    vat = sum(line.amounts()[2] for line in lines)
    assert net + vat == document.total
    assert vat == document.total_vat
    assert lines[-1].description == "Öresutjämning"
    assert lines[-1].net == D("0.03")
    without = payloads.invoice_lines(document, RouteConfig(rounding_line=False))
    assert sum(line.amounts()[2] for line in without) == D("80.58")  # Bokio's own arithmetic


def test_quantity_kept_when_a_unit_price_can_carry_the_net(docs):
    rows = docs.domestic_rows()
    coffee = rows[0].replace(quantity=D(3), net=D("100.00"), vat_amount=D("6.00"))
    document = docs.document("WC-1", [coffee], customer=docs.swedish_customer())
    [line] = payloads.invoice_lines(document, RouteConfig())
    quantity, unit, vat = line.amounts()
    assert (quantity, unit, vat) == (D(3), D("33.3333"), D("6.00"))
    assert payloads.bokio_line_amounts(quantity, unit, D(6))[0] == D("100.00")


def test_only_accounts_bokio_would_not_pick_are_sent(docs):
    payload = payloads.invoice_payload(
        docs.domestic_invoice(), "cid", RouteConfig(), IdentityFilters()
    )
    accounts = {
        line["description"]: line.get("bookkeepingAccountNumber") for line in payload["lineItems"]
    }
    assert accounts["Mugg"] is None  # 3001 is Bokio's own choice for 25 % goods
    assert accounts["Catering"] is None  # 3012 for 12 % services
    assert accounts["Frakt (25 %)"] == 3520
    assert payloads.automatic_account(VatScenario.EU_REVERSE_CHARGE, "goods", D(0)) == "3108"
    assert payloads.automatic_account(VatScenario.EXPORT, "services", D(0)) == "3305"
    assert payloads.automatic_account(VatScenario.EU_CONSUMER, "goods", D(25)) == "3106"


def test_foreign_vat_cannot_be_an_invoice_and_goes_as_a_journal_entry(docs):
    oss = docs.oss_germany()
    assert payloads.goes_as_journal_entry(oss)
    with pytest.raises(DataError, match="OSS"):
        payloads.invoice_lines(oss.replace(scenario=VatScenario.EU_CONSUMER), RouteConfig())
    entry = payloads.journal_payload(oss, RouteConfig(), IdentityFilters())
    assert entry["title"] == "Försäljning OSS DE 4001 [WC-4001]"


def test_unbalanced_journal_is_refused(docs):
    sale = docs.cash_sale()
    broken = sale.replace(journal=sale.journal[:-1])
    with pytest.raises(DataError, match="does not balance"):
        payloads.journal_payload(broken, RouteConfig(), IdentityFilters())


def test_amounts_are_exact_json_numbers():
    body = jsonnum.dumps({"unitPrice": D("33.3333"), "taxRate": 25, "sum": D("1234.50")})
    assert body == b'{"unitPrice":33.3333,"taxRate":25,"sum":1234.50}'
    assert jsonnum.loads(body)["sum"] == D("1234.50")
