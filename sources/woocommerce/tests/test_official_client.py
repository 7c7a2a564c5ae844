"""The official ``woocommerce`` Python client (PyPI) talks to the sandbox over real HTTP.

It signs with OAuth 1.0a HMAC-SHA256 in the query string on http:// URLs, exactly as it does
against a real store, so this proves the sandbox speaks WooCommerce.
"""

from __future__ import annotations

from woocommerce import API


def _api(url: str, secret: str = "cs_sandbox") -> API:  # noqa: S107 - the sandbox key
    return API(
        url=url, consumer_key="ck_sandbox", consumer_secret=secret, version="wc/v3", timeout=30
    )


def test_official_client_lists_and_fetches_orders(shop):
    api = _api(shop.url)
    listing = api.get("orders", params={"per_page": 25, "orderby": "id", "order": "asc"})
    assert listing.status_code == 200
    assert listing.headers["X-WP-Total"] == "60"
    assert listing.headers["X-WP-TotalPages"] == "3"
    orders = listing.json()
    assert len(orders) == 25
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)
    second = api.get("orders", params={"per_page": 25, "orderby": "id", "order": "asc", "page": 2})
    assert second.json()[0]["id"] > orders[-1]["id"]

    first_id = orders[0]["id"]
    single = api.get(f"orders/{first_id}")
    assert single.status_code == 200
    order = single.json()
    assert order["id"] == first_id
    assert order["total"] == "1413.40"
    assert list(order)[:6] == [
        "id",
        "parent_id",
        "status",
        "currency",
        "version",
        "prices_include_tax",
    ]

    refunded = next(o for o in api.get("orders", params={"per_page": 100}).json() if o["refunds"])
    refunds = api.get(f"orders/{refunded['id']}/refunds").json()
    assert {r["id"] for r in refunds} == {r["id"] for r in refunded["refunds"]}


def test_official_client_with_wrong_secret_is_refused(shop):
    response = _api(shop.url, secret="cs_wrong").get("orders")
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"
    assert "signature" in response.json()["message"]


def test_official_client_creates_an_order(shop):
    api = _api(shop.url)
    response = api.post(
        "orders",
        {
            "status": "processing",
            "currency": "SEK",
            "billing": {
                "first_name": "Test",
                "last_name": "Köpare",
                "country": "SE",
                "email": "t@example.se",
            },
            "line_items": [{"product_id": 311, "quantity": 1}, {"product_id": 430, "quantity": 2}],
            "shipping_lines": [{"method_id": "flat_rate", "instance_id": "3"}],
        },
    )
    assert response.status_code == 201
    created = response.json()
    # 1249 + 2 × 299 + 49 (39.20 + 25 % VAT) incl. VAT.
    assert created["total"] == "1896.00"
    assert {t["rate_percent"] for t in created["tax_lines"]} == {25, 6}
