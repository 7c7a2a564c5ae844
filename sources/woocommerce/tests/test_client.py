"""Our client and hooks against the sandbox over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from ledgerbridge.errors import ConfigError, NotFound, TransientError
from ledgerbridge.model import ItemKind
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.connector import WooCommerceSource
from ledgerbridge_woocommerce.normalize import PRODUCTS_KEY, REFUNDS_KEY, normalize_order

SOURCE = WooCommerceSource()


def test_check_connection(site):
    status = SOURCE.ledgerbridge_source_check_connection(site=site)
    assert status.ok
    assert "60 orders" in status.message


def test_pages_follow_the_pagination_headers(shop, site):
    with WooClient(site) as client:
        pages = list(client.pages("orders", per_page=7, orderby="id", order="asc"))
    assert [len(page) for page in pages] == [7] * 8 + [4]
    ids = [order["id"] for page in pages for order in page]
    assert len(ids) == len(set(ids)) == 60


def test_fetch_order_embeds_refunds_and_product_kinds(site, shop):
    summaries = list(
        SOURCE.ledgerbridge_source_iter_orders(site=site, modified_after=None, statuses=[])
    )
    with shop.sandbox.shop.lock:
        refunded = [r.id for r in shop.sandbox.shop.orders.values() if r.refunds]
        services = [
            r.id
            for r in shop.sandbox.shop.orders.values()
            if any(i["product_id"] == 440 for i in r.data["line_items"])
        ]
    assert refunded
    raw = SOURCE.ledgerbridge_source_fetch_order(site=site, order_id=str(refunded[0]))
    assert len(raw[REFUNDS_KEY]) == len(raw["refunds"]) >= 1
    order = normalize_order(raw)
    assert order.refunds
    assert order.meta["ledgerbridge_refunds_fetched"] == "yes"
    raw = SOURCE.ledgerbridge_source_fetch_order(site=site, order_id=str(services[0]))
    assert raw[PRODUCTS_KEY]["440"] == {"found": True, "virtual": True, "downloadable": False}
    kinds = {line.product_id: line.kind for line in normalize_order(raw).lines}
    assert kinds["440"] is ItemKind.SERVICE
    assert len(summaries) == 60


def test_modified_after_filters(site, shop):
    cut = datetime(2026, 7, 1, tzinfo=UTC)
    summaries = list(
        SOURCE.ledgerbridge_source_iter_orders(
            site=site, modified_after=cut, statuses=["completed"]
        )
    )
    with shop.sandbox.shop.lock:
        expected = {
            str(r.id)
            for r in shop.sandbox.shop.orders.values()
            if r.modified >= cut and r.data["status"] == "completed"
        }
    assert {s.id for s in summaries} == expected
    assert all(s.status == "completed" for s in summaries)
    stamps = [s.modified_at for s in summaries]
    assert stamps == sorted(stamps)


def test_unknown_order_is_not_found(site):
    with pytest.raises(NotFound):
        SOURCE.ledgerbridge_source_fetch_order(site=site, order_id="999999")


def test_wrong_secret_is_a_config_error_saying_what_to_fix(shop, make_site):
    site = make_site(shop.url, secrets={"consumer_secret": "cs_wrong"})
    with pytest.raises(ConfigError, match="consumer key and secret"):
        SOURCE.ledgerbridge_source_fetch_order(site=site, order_id="1001")
    status = SOURCE.ledgerbridge_source_check_connection(site=site)
    assert not status.ok
    assert "cs_wrong" not in status.message


def test_read_only_key_cannot_write(start_shop, make_site):
    shop = start_shop(orders=3, key_permissions="read")
    site = make_site(shop.url)
    with pytest.raises(ConfigError, match="Read/Write"):
        SOURCE.ledgerbridge_source_add_order_note(
            site=site, order_id="1001", note="Bokförd", status={"state": "done"}
        )


def test_wrong_address_is_a_config_error(shop, make_site):
    site = make_site(shop.url + "/shop")
    with pytest.raises(ConfigError, match="REST API was not found"):
        SOURCE.ledgerbridge_source_fetch_order(site=site, order_id="1001")


def test_missing_keys_and_private_network_are_config_errors(shop, make_site):
    with pytest.raises(ConfigError, match="REST API keys"):
        WooClient(make_site(shop.url, secrets={"consumer_key": None}))
    with pytest.raises(ConfigError, match="private network"):
        WooClient(make_site(shop.url, allow_private_network=False))
    with pytest.raises(ConfigError, match="plain http"):
        WooClient(make_site(shop.url, settings={"auth_mode": "basic"}))


def test_transient_5xx_is_retried(shop, site):
    shop.knobs(fail_next=2)
    with WooClient(site, sleep=lambda seconds: None) as client:
        assert client.get("orders/1001")["id"] == 1001
    shop.knobs(fail_next=10)
    with WooClient(site, sleep=lambda seconds: None) as client, pytest.raises(TransientError):
        client.get("orders/1001")
    shop.knobs(fail_next=0)


def test_latency_knob(shop, site):
    shop.knobs(latency_ms=300)
    started = time.monotonic()
    with WooClient(site) as client:
        client.get("orders/1001")
    assert time.monotonic() - started >= 0.3
    shop.knobs(latency_ms=0)


def test_rest_route_api_path(shop, make_site):
    site = make_site(shop.url, settings={"api_path": "/?rest_route=/wc/v3"})
    raw = SOURCE.ledgerbridge_source_fetch_order(site=site, order_id="1001")
    assert raw["id"] == 1001


class _PlainTransport(httpx.BaseTransport):
    """Sends https:// requests over plain loopback HTTP (the sandbox plays the TLS store)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        request.url = request.url.copy_with(scheme="http")
        return self._inner.handle_request(request)


def test_basic_and_query_auth_against_an_https_store(start_shop, make_site):
    shop = start_shop(orders=3, https=True)
    url = shop.url.replace("http://", "https://")
    for mode in ("auto", "query"):
        transport = _PlainTransport()
        site = make_site(url, settings={"auth_mode": mode})
        with WooClient(site, transport=transport) as client:
            assert client.get("orders/1001")["id"] == 1001
        request = transport.seen[0]
        if mode == "auto":
            assert request.headers["authorization"].startswith("Basic ")
            assert "consumer_secret" not in str(request.url)
        else:
            assert "authorization" not in request.headers
            assert "consumer_key=ck_sandbox" in str(request.url)
    wrong = make_site(url, secrets={"consumer_secret": "cs_nope"})
    with (
        WooClient(wrong, transport=_PlainTransport()) as client,
        pytest.raises(ConfigError, match="refused the REST API key"),
    ):
        client.get("orders/1001")


def test_plain_http_basic_auth_is_ignored_like_woocommerce(shop):
    response = httpx.get(f"{shop.url}/wp-json/wc/v3/orders", auth=("ck_sandbox", "cs_sandbox"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }


def test_error_rate_knob_gives_transient_errors(shop, site):
    shop.knobs(error_rate=1)
    with (
        WooClient(site, sleep=lambda seconds: None) as client,
        pytest.raises(TransientError, match="will retry"),
    ):
        client.get("orders/1001")
    shop.knobs(error_rate=0)
    status = SOURCE.ledgerbridge_source_check_connection(site=site)
    assert status.ok
