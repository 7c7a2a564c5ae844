"""The order digest: the same for a fetched order and a webhook carrying the same state, blind
to our own write-back and the modification dates, changed by anything the books see."""

from __future__ import annotations

import pytest

from ledgerbridge.model import WebhookAction
from ledgerbridge_woocommerce.connector import WooCommerceSource
from ledgerbridge_woocommerce.digest import order_digest

SOURCE = WooCommerceSource()


def _fetched(site, order_id: int) -> str:
    raw = SOURCE.ledgerbridge_source_fetch_order(site=site, order_id=str(order_id))
    return SOURCE.ledgerbridge_source_order_digest(site=site, raw=raw)


def _announced(shop, site, receiver) -> list:
    shop.deliveries()
    events = receiver.events(site)
    receiver.requests.clear()
    return events


def test_our_write_back_is_announced_with_the_digest_of_the_order_as_fetched(
    shop,
    site,
    receiver,
):
    SOURCE.ledgerbridge_source_register_webhooks(site=site, delivery_url=receiver.url)
    shop.deliveries()
    receiver.requests.clear()
    before = _fetched(site, 1001)

    SOURCE.ledgerbridge_source_add_order_note(
        site=site,
        order_id="1001",
        note="Bokförd i Fortnox som verifikation A 7.",
        status={"x": "1"},
    )
    [event] = _announced(shop, site, receiver)
    assert (event.action, event.order_id) == (WebhookAction.UPDATED, "1001")
    assert event.content_digest == before == _fetched(site, 1001)

    shop.sandbox.shop.update_order(1001, {"status": "refunded"})
    [event] = _announced(shop, site, receiver)
    assert event.content_digest != before
    assert event.content_digest == _fetched(site, 1001)

    shop.sandbox.shop.trash_order(1002)
    [event] = _announced(shop, site, receiver)
    assert event.action is WebhookAction.DELETED
    assert event.content_digest == ""


@pytest.mark.parametrize(
    ("change", "same"),
    [
        (lambda o: o.update(date_modified="2030-01-01T00:00:00"), True),
        (
            lambda o: o["meta_data"].append({"id": 9, "key": "_ledgerbridge_status", "value": "x"}),
            True,
        ),
        (lambda o: o.update(ledgerbridge_refunds=[{"id": 5}]), True),
        (lambda o: o["meta_data"].append({"id": 9, "key": "_billing_vat", "value": "SE1"}), False),
        (lambda o: o.update(total="1.00"), False),
        (lambda o: o["line_items"][0].update(quantity=7), False),
    ],
)
def test_what_changes_the_digest(synthetic_order, change, same):
    before = order_digest(synthetic_order)
    change(synthetic_order)
    assert (order_digest(synthetic_order) == before) is same
