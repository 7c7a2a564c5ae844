"""Sandbox webhook deliveries reach a real receiver, signed as WooCommerce signs them; the
connector registers and repairs webhooks."""

from __future__ import annotations

import pytest

from ledgerbridge.errors import WebhookRejected
from ledgerbridge.model import WebhookAction
from ledgerbridge_woocommerce.connector import WooCommerceSource

SOURCE = WooCommerceSource()


def test_register_ping_and_signed_deliveries(shop, site, receiver):
    statuses = SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    assert sorted(s.topic for s in statuses) == [
        "order.created",
        "order.deleted",
        "order.restored",
        "order.updated",
    ]
    assert not any(s.repaired for s in statuses)
    shop.deliveries()
    pings = [body for headers, body in receiver.requests]
    assert sorted(pings) == sorted(f"webhook_id={s.id}".encode() for s in statuses)
    assert all("X-Wc-Webhook-Signature" not in h for h, _ in receiver.requests)

    receiver.requests.clear()
    store = shop.sandbox.shop
    store.update_order(1001, {"status": "completed"})
    store.trash_order(1002)
    store.restore_order(1002)
    shop.deliveries()
    events = receiver.events(site)
    assert [(e.action, e.order_id) for e in events] == [
        (WebhookAction.UPDATED, "1001"),
        (WebhookAction.DELETED, "1002"),
        (WebhookAction.RESTORED, "1002"),
    ]
    headers, body = receiver.requests[0]
    assert headers["X-Wc-Webhook-Source"] == f"{shop.url}/"
    assert headers["User-Agent"].startswith("WooCommerce/")
    assert b"\\/" in body  # PHP's escaped slashes: signatures cover the exact bytes
    assert receiver.requests[1][1] == b'{"id":1002}'

    # Registering again is idempotent: the same four webhooks, re-secreted, nothing new.
    again = SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    assert sorted(s.id for s in again) == sorted(s.id for s in statuses)


def test_drop_and_duplicate_knobs(shop, site, receiver):
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    shop.deliveries()
    receiver.requests.clear()
    shop.knobs(drop_rate=1)
    shop.sandbox.shop.touch(1003)
    log = shop.deliveries()
    assert receiver.requests == []
    assert log[-1]["dropped"] is True

    shop.knobs(drop_rate=0, duplicate_rate=1)
    shop.sandbox.shop.touch(1004)
    shop.deliveries()
    events = receiver.events(site)
    assert [(e.action, e.order_id) for e in events] == [(WebhookAction.UPDATED, "1004")] * 2

    receiver.requests.clear()
    shop.knobs(duplicate_rate=0, copies=3)
    shop.sandbox.shop.touch(1005)
    log = shop.deliveries()
    events = receiver.events(site)
    assert [(e.action, e.order_id) for e in events] == [(WebhookAction.UPDATED, "1005")] * 3
    assert [entry["duplicate"] for entry in log[-3:]] == [False, True, True]


def test_failing_receiver_disables_webhook_and_register_repairs_it(shop, site, receiver):
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    shop.deliveries()
    receiver.status = "500 Internal Server Error"
    for attempt in range(7):
        shop.sandbox.shop.touch(1001 + attempt)
        shop.deliveries()
    hooks = {h.topic: h for h in shop.sandbox.shop.webhooks.values()}
    assert hooks["order.updated"].status == "disabled"
    assert hooks["order.created"].status == "active"

    receiver.status = "200 OK"
    statuses = SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    repaired = [s for s in statuses if s.repaired]
    assert [s.topic for s in repaired] == ["order.updated"]
    assert "disabled" in repaired[0].message
    assert hooks["order.updated"].status == "active"


def test_deliveries_signed_with_another_secret_are_rejected(shop, site, receiver, make_site):
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    shop.deliveries()
    receiver.requests.clear()
    shop.sandbox.shop.touch(1001)
    shop.deliveries()
    other = make_site(shop.url, secrets={"webhook_secret": "a-different-site-secret-123"})
    headers, body = receiver.requests[0]
    with pytest.raises(WebhookRejected) as caught:
        SOURCE.ledgerbridge_source_parse_webhook(site=other, headers=headers, body=body)
    assert caught.value.status == 401


def test_missing_webhook_secret_is_generated_and_stored(shop, make_site, receiver):
    site = make_site(shop.url, secrets={"webhook_secret": None})
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    secret = site.secrets.get("webhook_secret")
    assert secret
    assert len(secret) >= 32
    assert {h.secret for h in shop.sandbox.shop.webhooks.values()} == {secret}


def test_reorder_knob_delivers_newest_first(shop, site, receiver):
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    shop.deliveries()
    receiver.requests.clear()
    shop.knobs(reorder=True, delivery_delay_ms=200)
    for order_id in (1001, 1002, 1003, 1004):
        shop.sandbox.shop.touch(order_id)
    shop.deliveries(wait=10)
    delivered = [event.order_id for event in receiver.events(site)]
    assert sorted(delivered) == ["1001", "1002", "1003", "1004"]
    # The first job may already be on its way; the rest arrive newest first.
    assert delivered[-3:] == sorted(delivered[-3:], reverse=True)
    assert delivered != sorted(delivered)
