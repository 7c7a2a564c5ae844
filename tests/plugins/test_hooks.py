"""Every hookspec, exercised through the typed facade: one ``test_hook_<name>`` per hook.

Contract hooks must reach only the connector that owns the site or ledger (two connectors of
each role are registered to prove it); pipeline hooks reach every plugin; payload filters
chain through new-style wrappers; notification hooks isolate a failing plugin.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge import hookimpl
from ledgerbridge.contexts import memory_ledger, memory_route, memory_site
from ledgerbridge.errors import DataError, WebhookRejected
from ledgerbridge.model import (
    ConnectionStatus,
    DocumentType,
    ExportResult,
    ItemKind,
    OrderSummary,
    Product,
    ReferenceItem,
    StockLevel,
    VatScenario,
    WebhookAction,
    WebhookEvent,
    WebhookStatus,
)
from ledgerbridge.plugins import hookspecs
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager, module_plugin
from ledgerbridge.plugins.types import ConnectorSpec
from ledgerbridge.progress import MemoryProgress
from tests.support.factories import sample_document, sample_order

CALLS: list[tuple[str, str]] = []


class Source:
    """A source that answers every source hook, naming itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _call(self, hook: str) -> None:
        CALLS.append((self.name, hook))

    @hookimpl
    def ledgerbridge_source_check_connection(self, site):
        self._call("check")
        return ConnectionStatus(ok=True, message=f"{self.name} ok for {site.key}")

    @hookimpl
    def ledgerbridge_source_fetch_order(self, site, order_id):
        self._call("fetch")
        return {"id": order_id, "by": self.name}

    @hookimpl
    def ledgerbridge_source_iter_orders(self, site, modified_after, statuses):
        self._call("iter")
        return iter(
            [OrderSummary(id="7", status=statuses[0], modified_at=datetime(2026, 1, 1, tzinfo=UTC))]
        )

    @hookimpl
    def ledgerbridge_source_parse_webhook(self, site, headers, body):
        self._call("webhook")
        if headers.get("x-sig") != "ok":
            raise WebhookRejected("bad signature", status=401)
        return WebhookEvent(action=WebhookAction.UPDATED, order_id=body.decode())

    @hookimpl
    def ledgerbridge_source_normalize_order(self, site, raw):
        self._call("normalize")
        return sample_order(str(raw["id"]))

    @hookimpl
    def ledgerbridge_source_order_digest(self, site, raw):
        self._call("digest")
        return "" if self.name == "shop-a" else f"{self.name}:{raw['id']}"

    @hookimpl
    def ledgerbridge_source_register_webhooks(self, site, delivery_url):
        self._call("register")
        return [
            WebhookStatus(id="1", topic="order.updated", delivery_url=delivery_url, status="active")
        ]

    @hookimpl
    def ledgerbridge_source_add_order_note(self, site, order_id, note, status):
        self._call(f"note:{order_id}:{note}:{status['state']}")

    @hookimpl
    def ledgerbridge_source_update_stock(self, site, levels):
        self._call("stock")
        return len(levels)

    @hookimpl
    def ledgerbridge_source_iter_products(self, site):
        self._call("products")
        return iter(
            [
                Product(
                    id="1",
                    sku="KB-1",
                    name="Kaffebryggare",
                    price=Decimal("250.00"),
                    vat_rate=Decimal("25"),
                )
            ]
        )


class Target:
    """A target that answers every target hook, naming itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _call(self, hook: str) -> None:
        CALLS.append((self.name, hook))

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger):
        self._call("check")
        return ConnectionStatus(ok=True, message=self.name)

    @hookimpl
    def ledgerbridge_target_authorize_url(self, ledger, redirect_uri, state):
        self._call("authorize")
        return f"https://auth.example/{self.name}?state={state}&redirect_uri={redirect_uri}"

    @hookimpl
    def ledgerbridge_target_finish_authorization(self, ledger, redirect_uri, params):
        self._call("finish")
        ledger.secrets.update({"access_token": f"token-for-{params['code']}"})
        return ConnectionStatus(ok=True, message="connected")

    @hookimpl
    def ledgerbridge_target_reference_data(self, ledger, kind):
        self._call(f"reference:{kind}")
        return [ReferenceItem(code="1930", name="Företagskonto")] if kind == "accounts" else []

    @hookimpl
    def ledgerbridge_target_find_document(self, ledger, document):
        self._call("find")
        return ExportResult(target_id="17", document_kind="invoice")

    @hookimpl
    def ledgerbridge_target_export_document(self, ledger, route, document, progress):
        self._call("export")
        step = progress.run("invoice", lambda: {"number": "18"})
        return ExportResult(target_id=step["number"], document_kind="invoice")

    @hookimpl
    def ledgerbridge_target_export_credit_note(self, ledger, route, document, original, progress):
        self._call("credit")
        return ExportResult(target_id=f"C{original.target_id}", document_kind="credit_invoice")

    @hookimpl
    def ledgerbridge_target_build_payloads(self, ledger, route, document):
        self._call("payloads")
        row = route.filters.row({"account": document.rows[0].account}, document.rows[0], document)
        return {"invoice": route.filters.document({"rows": [row]}, document)}

    @hookimpl
    def ledgerbridge_target_fetch_pdf(self, ledger, result):
        self._call("pdf")
        return b"%PDF-" + result.target_id.encode()

    @hookimpl
    def ledgerbridge_target_sync_product(self, ledger, route, product):
        self._call("product")
        return product.sku

    @hookimpl
    def ledgerbridge_target_stock_levels(self, ledger, skus):
        self._call("stock")
        return [StockLevel(sku=sku, quantity=Decimal("3")) for sku in skus or ["KB-1"]]

    @hookimpl
    def ledgerbridge_target_currency_rate(self, ledger, currency, on_date):
        self._call("rate")
        return Decimal("11.25") if currency == "EUR" else None


def _registration():
    return [
        ConnectorSpec(name="shop-a", role="source", title="A", implementation=Source("shop-a")),
        ConnectorSpec(name="shop-b", role="source", title="B", implementation=Source("shop-b")),
        ConnectorSpec(
            name="ledger-a", role="target", title="LA", implementation=Target("ledger-a")
        ),
        ConnectorSpec(
            name="ledger-b", role="target", title="LB", implementation=Target("ledger-b")
        ),
    ]


def make_hooks(*extra) -> Hooks:
    """A facade over the two test connectors of each role plus ``extra`` plugins."""
    CALLS.clear()
    connectors = module_plugin(
        "connectors", ledgerbridge_register_connectors=hookimpl(_registration)
    )
    pm = create_plugin_manager(
        strict=True, entry_points=False, extra=[("connectors", connectors), *extra]
    )
    return Hooks(pm)


@pytest.fixture
def hooks() -> Hooks:
    return make_hooks()


def only(owner: str, hook: str) -> None:
    assert CALLS == [(owner, hook)], CALLS


# -- registration --------------------------------------------------------------------------


def test_hook_register_connectors(hooks):
    assert set(hooks.connectors) == {"shop-a", "shop-b", "ledger-a", "ledger-b"}
    assert hooks.connector("ledger-b", "target").title == "LB"


def test_hook_add_hookspecs():
    class ExtraSpecs:
        @staticmethod
        @hookspecs.hookspec(firstresult=True)
        def ledgerbridge_test_extra(value):
            """A hook published by a plugin."""

    publisher = module_plugin(
        "publisher",
        ledgerbridge_add_hookspecs=hookimpl(
            lambda pluginmanager: pluginmanager.add_hookspecs(ExtraSpecs)
        ),
    )
    user = module_plugin("user", ledgerbridge_test_extra=hookimpl(lambda value: value * 2))
    hooks = make_hooks(("publisher", publisher), ("user", user))
    route = hooks.with_filters(memory_route())
    assert route.filters.extension("ledgerbridge_test_extra", value=21) == 42
    assert route.filters.extension("ledgerbridge_nobody_publishes_this") is None


# -- source contract -----------------------------------------------------------------------


def site(name: str = "shop-a"):
    return memory_site(connector=name, key="site-1")


def test_hook_source_check_connection(hooks):
    assert hooks.source(site("shop-b")).check_connection().message == "shop-b ok for site-1"
    only("shop-b", "check")


def test_hook_source_fetch_order(hooks):
    assert hooks.source(site()).fetch_order("12") == {"id": "12", "by": "shop-a"}
    only("shop-a", "fetch")


def test_hook_source_iter_orders(hooks):
    listed = list(hooks.source(site("shop-b")).iter_orders(None, ["completed"]))
    assert [summary.id for summary in listed] == ["7"]
    only("shop-b", "iter")


def test_hook_source_parse_webhook(hooks):
    event = hooks.source(site()).parse_webhook({"x-sig": "ok"}, b"55")
    assert (event.action, event.order_id) == (WebhookAction.UPDATED, "55")
    with pytest.raises(WebhookRejected) as rejected:
        hooks.source(site()).parse_webhook({}, b"55")
    assert rejected.value.status == 401


def test_hook_source_normalize_order(hooks):
    assert hooks.source(site()).normalize_order({"id": 5}).id == "5"
    only("shop-a", "normalize")


def test_hook_source_order_digest(hooks):
    assert hooks.source(site("shop-b")).order_digest({"id": 5}) == "shop-b:5"
    only("shop-b", "digest")
    CALLS.clear()
    assert hooks.source(site()).order_digest({"id": 5}) == ""  # no digest: every delivery fetched
    only("shop-a", "digest")


def test_hook_source_register_webhooks(hooks):
    statuses = hooks.source(site()).register_webhooks("https://lb.example/webhooks/x")
    assert statuses[0].delivery_url == "https://lb.example/webhooks/x"
    only("shop-a", "register")


def test_hook_source_add_order_note(hooks):
    hooks.source(site("shop-b")).add_order_note("9", "Bokförd", {"state": "done"})
    only("shop-b", "note:9:Bokförd:done")


def test_hook_source_update_stock(hooks):
    levels = [StockLevel(sku="A", quantity=Decimal("1")), StockLevel(sku="B", quantity=Decimal(2))]
    assert hooks.source(site()).update_stock(levels) == 2
    only("shop-a", "stock")


def test_hook_source_iter_products(hooks):
    assert [p.sku for p in hooks.source(site()).iter_products()] == ["KB-1"]
    only("shop-a", "products")


# -- target contract -----------------------------------------------------------------------


def ledger(name: str = "ledger-a"):
    return memory_ledger(connector=name, key="ledger-1", name="Bolaget AB")


def test_hook_target_check_connection(hooks):
    assert hooks.target(ledger("ledger-b")).check_connection().message == "ledger-b"
    only("ledger-b", "check")


def test_hook_target_authorize_url(hooks):
    url = hooks.target(ledger()).authorize_url("https://lb.example/cb", "signed")
    assert url.startswith("https://auth.example/ledger-a?state=signed")
    only("ledger-a", "authorize")


def test_hook_target_finish_authorization(hooks):
    context = ledger()
    status = hooks.target(context).finish_authorization("https://lb.example/cb", {"code": "c1"})
    assert status.ok and context.secrets["access_token"] == "token-for-c1"


def test_hook_target_reference_data(hooks):
    assert [item.code for item in hooks.target(ledger()).reference_data("accounts")] == ["1930"]
    assert hooks.target(ledger()).reference_data("ways_of_delivery") == []


def test_hook_target_find_document(hooks):
    assert hooks.target(ledger()).find_document(sample_document()).target_id == "17"
    only("ledger-a", "find")


def test_hook_target_export_document(hooks):
    progress = MemoryProgress()
    result = hooks.target(ledger("ledger-b")).export_document(
        memory_route(), sample_document(), progress
    )
    assert result.target_id == "18" and progress.get("invoice") == {"number": "18"}
    only("ledger-b", "export")


def test_hook_target_export_credit_note(hooks):
    original = ExportResult(target_id="18", document_kind="invoice")
    result = hooks.target(ledger()).export_credit_note(
        memory_route(), sample_document(), original, MemoryProgress()
    )
    assert result.target_id == "C18"


def test_hook_target_build_payloads(hooks):
    payloads = hooks.target(ledger()).build_payloads(
        hooks.with_filters(memory_route()), sample_document()
    )
    assert payloads == {"invoice": {"rows": [{"account": "3001"}]}}


def test_hook_target_fetch_pdf(hooks):
    result = ExportResult(target_id="18", document_kind="invoice")
    assert hooks.target(ledger()).fetch_pdf(result) == b"%PDF-18"


def test_hook_target_sync_product(hooks):
    product = Product(id="1", sku="KB-1", name="K", price=Decimal("1.00"), vat_rate=Decimal(25))
    assert hooks.target(ledger()).sync_product(memory_route(), product) == "KB-1"


def test_hook_target_stock_levels(hooks):
    levels = hooks.target(ledger()).stock_levels(["A"])
    assert [(level.sku, level.quantity) for level in levels] == [("A", Decimal("3"))]


def test_hook_target_currency_rate(hooks):
    route = memory_route(ledger=ledger())
    assert hooks.currency_rate("EUR", date(2026, 11, 20), route) == Decimal("11.25")
    assert hooks.currency_rate("NOK", date(2026, 11, 20), route) is None


def test_contract_calls_for_an_unknown_connector_explain_the_fix(hooks):
    from ledgerbridge.errors import ConfigError

    with pytest.raises(ConfigError, match="pip install"):
        hooks.target(ledger("nonexistent"))
    with pytest.raises(ConfigError, match="is a source, not a target"):
        hooks.target(ledger("shop-a"))


# -- pipeline hooks ------------------------------------------------------------------------


def test_hook_order_received():
    @hookimpl(wrapper=True)
    def ledgerbridge_order_received(site, order):
        order = yield
        return order.replace(customer=order.customer.replace(email=order.customer.email.upper()))

    hooks = make_hooks(
        ("upper", module_plugin("upper", ledgerbridge_order_received=ledgerbridge_order_received))
    )
    order = hooks.order_received(site(), sample_order())
    assert order.customer.email == "ANNA@EXAMPLE.SE"
    assert make_hooks().order_received(site(), sample_order()) == sample_order()


def test_hook_classify_line():
    plugin = module_plugin(
        "services",
        ledgerbridge_classify_line=hookimpl(
            lambda order, line, default: ItemKind.SERVICE if line.sku == "KB-1" else None
        ),
    )
    hooks = make_hooks(("services", plugin))
    order = sample_order()
    assert hooks.classify_line(order, order.lines[0], ItemKind.GOODS) is ItemKind.SERVICE
    other = order.lines[0].replace(sku="X")
    assert hooks.classify_line(order, other, ItemKind.GOODS) is ItemKind.GOODS


def test_hook_choose_document_type():
    plugin = module_plugin(
        "types",
        ledgerbridge_choose_document_type=hookimpl(
            lambda order, route, default: (
                DocumentType.CASH_SALE if order.payment.method == "swish" else None
            )
        ),
    )
    hooks = make_hooks(("types", plugin))
    route = memory_route()
    swish = sample_order(payment_method="swish")
    assert hooks.choose_document_type(swish, route, DocumentType.INVOICE) is DocumentType.CASH_SALE
    assert hooks.choose_document_type(sample_order(), route, DocumentType.INVOICE) is (
        DocumentType.INVOICE
    )


def test_hook_choose_vat_scenario():
    plugin = module_plugin(
        "scenario",
        ledgerbridge_choose_vat_scenario=hookimpl(lambda order, route, default: VatScenario.EXPORT),
    )
    hooks = make_hooks(("scenario", plugin))
    assert hooks.choose_vat_scenario(sample_order(), memory_route(), VatScenario.DOMESTIC) is (
        VatScenario.EXPORT
    )


def test_hook_choose_account():
    plugin = module_plugin(
        "accounts",
        ledgerbridge_choose_account=hookimpl(
            lambda purpose, order, route, line, default: (
                "3011" if purpose == "sales" and line is not None else None
            )
        ),
    )
    hooks = make_hooks(("accounts", plugin))
    order = sample_order()
    assert hooks.choose_account("sales", order, memory_route(), "3001", order.lines[0]) == "3011"
    assert hooks.choose_account("sales", order, memory_route(), "3001") == "3001"
    assert hooks.choose_account("vat", order, memory_route(), "2611", order.lines[0]) == "2611"


def test_hook_validate_vat_number():
    assert make_hooks().validate_vat_number("DE123456789", "DE") is None
    plugin = module_plugin(
        "vies",
        ledgerbridge_validate_vat_number=hookimpl(
            lambda vat_number, country: vat_number.endswith("9")
        ),
    )
    hooks = make_hooks(("vies", plugin))
    assert hooks.validate_vat_number("DE123456789", "DE") is True
    assert hooks.validate_vat_number("DE123456788", "DE") is False


def test_hook_currency_rate():
    route = memory_route(ledger=ledger())
    manual = replace(route, settings=route.settings.replace(manual_rates={"EUR": Decimal("11.1")}))
    hooks = make_hooks()
    assert hooks.currency_rate("EUR", date(2026, 11, 20), manual) == Decimal("11.1")
    plugin = module_plugin(
        "riksbank",
        ledgerbridge_currency_rate=hookimpl(lambda currency, on_date, route: Decimal("11.4321")),
    )
    hooks = make_hooks(("riksbank", plugin))
    assert hooks.currency_rate("EUR", date(2026, 11, 20), manual) == Decimal("11.4321")


def test_hook_document_built():
    @hookimpl(wrapper=True)
    def ledgerbridge_document_built(document, order, route):
        document = yield
        return document.replace(texts=(*document.texts, "Tack!"))

    hooks = make_hooks(
        ("thanks", module_plugin("thanks", ledgerbridge_document_built=ledgerbridge_document_built))
    )
    built = hooks.document_built(sample_document(), sample_order(), memory_route())
    assert built.texts == ("Tack!",)


def _wrapper(hook_name: str, key: str, value: str):
    @hookimpl(wrapper=True)
    def wrapper(payload, document, route):
        payload = yield
        payload[key] = value
        return payload

    wrapper.__name__ = hook_name
    return wrapper


def test_hook_customer_payload():
    first = module_plugin(
        "first",
        ledgerbridge_customer_payload=_wrapper("ledgerbridge_customer_payload", "Comments", "web"),
    )
    second = module_plugin(
        "second",
        ledgerbridge_customer_payload=_wrapper(
            "ledgerbridge_customer_payload", "Comments", "web (changed twice)"
        ),
    )
    hooks = make_hooks(("first", first), ("second", second))
    route = hooks.with_filters(memory_route())
    payload = route.filters.customer({"Name": "Anna"}, sample_document())
    # wrappers chain: the outer (registered last) sees and overrides the inner's change
    assert payload == {"Name": "Anna", "Comments": "web (changed twice)"}


def test_hook_document_payload():
    plugin = module_plugin(
        "remarks",
        ledgerbridge_document_payload=_wrapper(
            "ledgerbridge_document_payload", "Remarks", "Webborder"
        ),
    )
    hooks = make_hooks(("remarks", plugin))
    route = hooks.with_filters(memory_route(ledger=ledger()))
    payloads = hooks.target(ledger()).build_payloads(route, sample_document())
    assert payloads["invoice"]["Remarks"] == "Webborder"


def test_hook_row_payload():
    @hookimpl(wrapper=True)
    def ledgerbridge_row_payload(payload, row, document, route):
        payload = yield
        payload["CostCenter"] = "WEB" if row.account == "3001" else ""
        return payload

    hooks = make_hooks(
        ("cc", module_plugin("cc", ledgerbridge_row_payload=ledgerbridge_row_payload))
    )
    route = hooks.with_filters(memory_route(ledger=ledger()))
    payloads = hooks.target(ledger()).build_payloads(route, sample_document())
    assert payloads["invoice"]["rows"] == [{"account": "3001", "CostCenter": "WEB"}]


def test_hook_after_export(caplog):
    seen: list[str] = []

    def broken(route, document, result):
        raise RuntimeError("notifier down")

    good = module_plugin(
        "good",
        ledgerbridge_after_export=hookimpl(
            lambda route, document, result: seen.append(result.target_id)
        ),
    )
    bad = module_plugin("bad", ledgerbridge_after_export=hookimpl(broken))
    hooks = make_hooks(("good", good), ("bad", bad))
    with caplog.at_level(logging.ERROR):
        hooks.after_export(
            memory_route(), sample_document(), ExportResult(target_id="18", document_kind="invoice")
        )
    assert seen == ["18"]
    assert "'bad' failed in ledgerbridge_after_export" in caplog.text


def test_hook_export_failed():
    seen: list[tuple[str, str]] = []
    plugin = module_plugin(
        "mail",
        ledgerbridge_export_failed=hookimpl(
            lambda route, reference, error, failure_class: seen.append((reference, failure_class))
        ),
    )
    hooks = make_hooks(("mail", plugin))
    hooks.export_failed(memory_route(), "WS-1001", DataError("foreign VAT without OSS"))
    assert seen == [("WS-1001", "data")]


def test_hook_quota_notice():
    seen: list[tuple[int, int, str]] = []
    plugin = module_plugin(
        "chat",
        ledgerbridge_quota_notice=hookimpl(
            lambda ledger, used, limit, level: seen.append((used, limit, level))
        ),
    )
    hooks = make_hooks(("chat", plugin))
    hooks.quota_notice(ledger(), 10, 15, "warning")
    assert seen == [(10, 15, "warning")]


def test_every_hookspec_has_a_test():
    specs = {
        name.removeprefix("ledgerbridge_")
        for name in dir(hookspecs)
        if name.startswith("ledgerbridge_")
    }
    tested: set[str] = set()
    for path in Path(__file__).resolve().parents[1].rglob("test_*.py"):
        tested.update(re.findall(r"def test_hook_(\w+)\(", path.read_text()))
    assert specs - tested == set(), f"hooks without a test_hook_<name>: {specs - tested}"
