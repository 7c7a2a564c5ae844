"""The connector as the host loads it: entry point, settings schema, every hook via the facade."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from ledgerbridge.model import WebhookAction
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import REQUIRED_HOOKS, create_plugin_manager
from ledgerbridge_woocommerce.settings import WooCommerceSettingsSchema
from ledgerbridge_woocommerce.webhooks import signature


@pytest.fixture(scope="module")
def hooks() -> Hooks:
    return Hooks(create_plugin_manager(strict=False))


def test_registered_through_the_entry_point(hooks):
    spec = hooks.connector("woocommerce", "source")
    assert spec.title == "WooCommerce"
    assert spec.sandbox is not None
    assert spec.sandbox.default_port == 8101
    assert sorted(spec.secret_fields()) == ["consumer_key", "consumer_secret", "webhook_secret"]
    for hook in REQUIRED_HOOKS["source"]:
        assert callable(getattr(spec.implementation, hook))


def test_settings_schema():
    loaded = WooCommerceSettingsSchema().load(
        {"consumer_key": "ck_abc", "consumer_secret": "cs_def"}
    )
    assert loaded["api_path"] == "/wp-json/wc/v3"
    assert loaded["auth_mode"] == "auto"
    with pytest.raises(ValidationError) as caught:
        WooCommerceSettingsSchema().load(
            {"consumer_key": "abc", "consumer_secret": "cs_def", "webhook_secret": "short"}
        )
    assert set(caught.value.messages) == {"consumer_key", "webhook_secret"}


def test_every_source_hook_through_the_facade(hooks, site, shop):
    source = hooks.source(site)
    assert source.check_connection().ok
    summaries = list(source.iter_orders(None, ["completed"]))
    assert summaries
    raw = source.fetch_order(summaries[0].id)
    order = source.normalize_order(raw)
    assert order.id == summaries[0].id
    assert order.total == Decimal(raw["total"])
    body = b'{"id":1001}'
    event = source.parse_webhook(
        {
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": signature(body, site.secrets["webhook_secret"]),
        },
        body,
    )
    assert (event.action, event.order_id) == (WebhookAction.UPDATED, "1001")
    source.add_order_note("1001", "Bokförd i Bokio som verifikat 7", {"state": "done"})
    assert shop.sandbox.shop.orders[1001].notes[0]["note"] == "Bokförd i Bokio som verifikat 7"
    assert any(product.sku == "TERMOS-1L" for product in source.iter_products())
    assert source.update_stock([]) == 0
