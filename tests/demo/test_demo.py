"""``ledgerbridge demo --check``: the comparison itself, and the whole demo run headless."""

from __future__ import annotations

import json
from decimal import Decimal

from click.testing import CliRunner

from ledgerbridge.cli import main
from ledgerbridge.demo.check import Document, ShopOrder, compare, split_reference

D = Decimal


def _order(number: str, total: str, vat: str, refunds=(), currency="SEK", status="completed"):
    return ShopOrder(number, number, status, currency, D(total), D(vat), True, tuple(refunds))


def _doc(reference: str, gross: str, vat: str, currency="SEK", reversal=False, what="doc"):
    order, refund = split_reference(reference, "WS-")
    return Document("t", reference, order, refund, D(gross), D(vat), currency, what, reversal)


def test_references_are_split_into_order_and_refund():
    assert split_reference("WS-1003", "WS-") == ("1003", "")
    assert split_reference("WS-1016-R1017", "WS-") == ("1016", "1017")
    assert split_reference("XX-1003", "WS-") is None
    assert split_reference("WS-abc", "WS-") is None


def test_everything_exported_once_and_matching_is_clean():
    orders = [
        _order("1", "125.00", "25.00"),
        _order("2", "112.00", "12.00", refunds=[("9", D("112.00"), None)]),
        _order("3", "10.00", "2.00", currency="EUR"),
        _order("4", "0.00", "0.00"),  # zero total: not booked
        _order("5", "50.00", "10.00", status="processing"),  # not booked
    ]
    docs = [
        _doc("WS-1", "125.00", "25.00"),
        _doc("WS-2", "112.00", "12.00"),
        _doc("WS-2", "112.00", "12.00", reversal=True),  # a full refund reversing the sale
        _doc("WS-3", "112.00", "22.40"),  # a SEK voucher at the demo's 11.20
    ]
    report = compare(orders, docs)
    assert (report.orders, report.exported, report.failed, report.duplicates) == (3, 3, 0, 0)
    assert report.mismatches == [] and report.refunds == report.credited == 1


def test_duplicates_mismatches_missing_and_strays_are_counted():
    orders = [
        _order("1", "125.00", "25.00"),
        _order("2", "200.00", "40.00", refunds=[("7", D("50.00"), D("10.00"))]),
        _order("3", "80.00", "16.00"),
    ]
    docs = [
        _doc("WS-1", "125.00", "25.00", what="invoice 1"),
        _doc("WS-1", "125.00", "25.00", what="invoice 2"),  # twice
        _doc("WS-2", "200.00", "39.99"),  # VAT off by one öre
        _doc("WS-2-R7", "50.00", "10.00"),
        _doc("WS-2-R8", "5.00", "1.00"),  # a refund the shop does not have
        _doc("WS-9", "1.00", "0.20"),  # an order the shop does not have
    ]
    report = compare(orders, docs)
    assert report.duplicates == 1
    assert report.failed == 1 and report.missing == ["3"]
    fields = {(m.get("order"), m.get("field") or m.get("problem")) for m in report.mismatches}
    assert ("2", "vat") in fields
    assert ("2", "no such refund in the shop") in fields
    assert ("9", "not a bookable order") in fields
    assert report.credited == 1 and report.unexpected == 2


def test_the_demo_runs_headless_and_verifies_both_ledgers(tmp_path):
    result = CliRunner().invoke(
        main, ["demo", "--check", "--orders", "12", "--instance", str(tmp_path / "demo")]
    )
    summary = json.loads(result.output[result.output.index("{") :])
    assert set(summary) >= {"orders", "exported", "failed", "duplicates", "mismatches", "targets"}
    assert set(summary["targets"]) == {"fortnox", "bokio"}
    assert summary["orders"] >= 8 and summary["webhooks"] >= 3
    # the shop's webhooks (sent when the pipeline writes back) reached the UI's endpoint
    deliveries = summary["webhook_deliveries"]
    assert deliveries["sent"] > 0 and deliveries["accepted"] == deliveries["sent"]
    # nothing was booked twice, and everything booked equals the shop's figures
    assert summary["duplicates"] == 0 and summary["mismatches"] == 0, summary
    for report in summary["targets"].values():
        assert report["credited"] == report["refunds"] >= 1
        assert report["exported"] + report["failed"] == report["orders"]
    # every order not booked is explained by the pipeline, and the exit code tells
    assert set(summary["problems"]) == {
        number
        for report in summary["targets"].values()
        for number in report["missing"]
        if " " not in number  # "<order> refund <id>" lines are refunds, not orders
    }
    clean = summary["failed"] == 0
    assert result.exit_code == (0 if clean else 1)
    # the instance folder was refused a second time (it holds a database now)
    again = CliRunner().invoke(main, ["demo", "--check", "--instance", str(tmp_path / "demo")])
    assert again.exit_code == 2 and "empty folder" in again.output
