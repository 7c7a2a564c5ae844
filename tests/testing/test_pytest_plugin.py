"""The fixtures of ledgerbridge's pytest plugin, used the way a connector author uses them."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.errors import PluginError
from ledgerbridge.model import DocumentType, VatScenario
from ledgerbridge.testing.orders import (
    FIXTURE_ORDER_NAMES,
    build_documents,
    check_expected,
    fixture_route,
)

pytest_plugins = ["pytester"]


def test_fixture_orders_book_to_their_expected_totals(fixture_orders, hooks) -> None:
    assert tuple(fixture_orders) == FIXTURE_ORDER_NAMES
    route = fixture_route(reference_prefix="T-")
    for fixture in fixture_orders.values():
        documents = build_documents(fixture, route, hooks)
        assert check_expected(fixture, documents) == [], fixture.name
        assert fixture.order.total == fixture.expected.total


def test_fixture_orders_cover_what_targets_must_get_right(fixture_orders) -> None:
    expected = {name: fixture.expected for name, fixture in fixture_orders.items()}
    assert set(expected["vat_mix"].vat) == {Decimal(6), Decimal(12), Decimal(25)}
    assert fixture_orders["vat_mix"].order.shipping_lines
    assert fixture_orders["coupon"].order.coupon_lines
    assert expected["coupon"].document_type is DocumentType.CASH_SALE
    refunds = fixture_orders["refund"].order.refunds
    assert [bool(refund.lines) for refund in refunds] == [True, False]  # line, amount only
    assert expected["zero_total"].total == 0
    assert expected["foreign_currency"].currency == "EUR"
    assert expected["foreign_currency"].sek_total == Decimal("1512.00")
    assert expected["eu_b2b"].scenario is VatScenario.EU_REVERSE_CHARGE
    assert expected["export"].scenario is VatScenario.EXPORT


def test_a_wrong_booking_is_reported_against_the_expectation(fixture_orders, hooks) -> None:
    fixture = fixture_orders["foreign_currency"]
    route = fixture_route(settings={"manual_rates": {"EUR": "11.00"}})
    problems = check_expected(fixture, build_documents(fixture, route, hooks))
    assert problems == ["foreign_currency: SEK total is 1485.00, expected 1512.00"]


def test_plugin_manager_loads_the_installed_connectors(plugin_manager) -> None:
    assert {"woocommerce", "fortnox", "bokio"} <= set(plugin_manager.connectors)
    assert plugin_manager.strict


def test_register_plugin_changes_payloads_for_one_test(
    register_plugin, hooks, fixture_orders
) -> None:
    document = build_documents(fixture_orders["vat_mix"], fixture_route(), hooks).document

    def ledgerbridge_document_payload(payload):
        return {**payload, "CostCenter": "WEB"}

    plugin = register_plugin(ledgerbridge_document_payload=ledgerbridge_document_payload)
    assert hooks.pm.is_registered(plugin)
    changed = hooks.document_payload({"Total": "1"}, document, fixture_route())
    assert changed == {"Total": "1", "CostCenter": "WEB"}


def test_register_plugin_refuses_unknown_hooks(register_plugin, plugin_manager) -> None:
    with pytest.raises(PluginError, match="ledgerbridge_documnet_payload"):
        register_plugin(ledgerbridge_documnet_payload=lambda payload: payload)
    assert [name for name in plugin_manager.list_name_plugin() if "test-plugin" in name[0]] == []


def test_registered_plugins_are_gone_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_two="""
        SEEN = []

        def test_one(register_plugin, plugin_manager):
            SEEN.append(plugin_manager)
            register_plugin(ledgerbridge_document_payload=lambda payload: payload, name="mine")
            assert plugin_manager.get_plugin("mine") is not None

        def test_two():
            assert SEEN[0].get_plugin("mine") is None
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_three_sandboxes_answer_over_http(
    woocommerce_sandbox, fortnox_sandbox, bokio_sandbox
) -> None:
    shop = httpx.get(f"{woocommerce_sandbox.url}/_sandbox", timeout=10)
    assert shop.status_code == 200 and shop.json()
    assert httpx.get(f"{fortnox_sandbox.url}/_sandbox/stats", timeout=10).status_code == 200
    assert httpx.get(f"{bokio_sandbox.url}/_sandbox/stats", timeout=10).status_code == 200
    urls = {woocommerce_sandbox.url, fortnox_sandbox.url, bokio_sandbox.url}
    assert len(urls) == 3


def test_serve_sandbox_takes_options_and_names_what_exists(serve_sandbox) -> None:
    server = serve_sandbox("woocommerce", seed=False)
    assert httpx.get(f"{server.url}/_sandbox", timeout=10).status_code == 200
    with pytest.raises(LookupError, match="bokio"):
        serve_sandbox("nosuch")


def test_a_ledger_of_a_target_reaches_its_connector(hooks, fortnox_sandbox) -> None:
    ledger = memory_ledger(connector="fortnox", settings={"api_base_url": fortnox_sandbox.url})
    status = hooks.target(ledger).check_connection()
    assert not status.ok  # not authorized yet: the message says what to do
    assert status.message
