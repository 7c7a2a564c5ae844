"""The sandbox speaks WooCommerce: pagination headers, errors, filters, auth, admin API, CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
import pytest

from ledgerbridge_woocommerce.auth import WooOAuth1
from ledgerbridge_woocommerce.sandbox.wcauth import base_string


@pytest.fixture
def api(shop):
    with httpx.Client(
        base_url=f"{shop.url}/wp-json/wc/v3/",
        auth=WooOAuth1("ck_sandbox", "cs_sandbox"),
        timeout=30,
    ) as client:
        yield client


def test_pagination_headers_and_link(api, shop):
    response = api.get(
        "orders", params={"per_page": 20, "page": 2, "orderby": "id", "order": "asc"}
    )
    assert response.headers["X-WP-Total"] == "60"
    assert response.headers["X-WP-TotalPages"] == "3"
    prev_link, next_link = response.headers["Link"].split(", ")
    assert prev_link.endswith('>; rel="prev"')
    assert next_link.endswith('>; rel="next"')
    assert "per_page=20" in next_link
    assert "orderby=id" in next_link
    assert "page=3" in next_link
    assert "page=1" in prev_link
    assert "oauth_" not in response.headers["Link"]  # the signature travelled in the header
    last = api.get("orders", params={"per_page": 20, "page": 3})
    assert 'rel="next"' not in last.headers["Link"]
    past = api.get("orders", params={"per_page": 20, "page": 9})
    assert past.status_code == 200
    assert past.json() == []


def test_validation_errors_have_woocommerce_bodies(api):
    response = api.get("orders", params={"per_page": 101})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rest_invalid_param"
    assert body["data"]["params"]["per_page"].startswith("per_page must be between 1")
    assert body["data"]["details"]["per_page"]["code"] == "rest_invalid_param"
    assert api.get("orders", params={"status": "nonsense"}).status_code == 400
    assert api.get("orders", params={"modified_after": "yesterday"}).status_code == 400
    missing = api.get("orders/99999")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    no_route = api.get("nothing-here")
    assert no_route.status_code == 404
    assert no_route.json()["code"] == "rest_no_route"


def test_fields_status_trash_and_refund_ids(api, shop):
    slim = api.get("orders", params={"_fields": "id,status,billing.email", "per_page": 1}).json()
    assert set(slim[0]) == {"id", "status", "billing"}
    assert set(slim[0]["billing"]) == {"email"}
    trashed = api.delete("orders/1001").json()
    assert trashed["status"] == "trash"
    assert api.delete("orders/1001").status_code == 410
    ids = {o["id"] for o in api.get("orders", params={"per_page": 100}).json()}
    assert 1001 not in ids
    assert [o["id"] for o in api.get("orders", params={"status": "trash"}).json()] == [1001]
    refund_id = next(
        r["id"] for record in shop.sandbox.shop.orders.values() for r in record.refunds
    )
    assert api.get(f"orders/{refund_id}").status_code == 404  # refund ids are not orders


def test_dates_are_exclusive_and_gmt_switch(api, shop):
    record = shop.sandbox.shop.orders[1001]
    stamp = record.modified.strftime("%Y-%m-%dT%H:%M:%S")
    after = api.get(
        "orders", params={"modified_after": stamp, "dates_are_gmt": "true", "per_page": 100}
    ).json()
    assert 1001 not in {o["id"] for o in after}  # exclusive
    local = record.modified.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Stockholm"))
    before_local = api.get(
        "orders",
        params={"modified_before": local.strftime("%Y-%m-%dT%H:%M:%S"), "per_page": 100},
    ).json()
    assert 1001 not in {o["id"] for o in before_local}


def _oauth_query(method: str, url: str, params: dict[str, str], age: int = 0) -> dict:
    signed = {
        **params,
        "oauth_consumer_key": "ck_sandbox",
        "oauth_timestamp": str(int(time.time()) - age),
        "oauth_nonce": "n" + str(time.time_ns()),
        "oauth_signature_method": "HMAC-SHA1",
    }
    base = base_string(method, url, signed)
    digest = hmac.new(b"cs_sandbox&", base.encode(), hashlib.sha1).digest()
    return {**signed, "oauth_signature": base64.b64encode(digest).decode()}


def test_oauth_query_signatures_nonces_and_timestamps(shop):
    url = f"{shop.url}/wp-json/wc/v3/orders"
    params = _oauth_query("GET", url, {"per_page": "2"})
    assert httpx.get(url, params=params).status_code == 200
    replay = httpx.get(url, params=params)
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
    stale = _oauth_query("GET", url, {"per_page": "2"}, age=3600)
    assert httpx.get(url, params=stale).json()["message"] == "Invalid timestamp."
    partial = {"oauth_consumer_key": "ck_sandbox"}
    missing = httpx.get(url, params=partial).json()
    assert missing["code"] == "woocommerce_rest_authentication_missing_parameter"
    bad_key = _oauth_query("GET", url, {})
    bad_key["oauth_consumer_key"] = "ck_other"
    assert httpx.get(url, params=bad_key).json()["message"] == "Consumer key is invalid."
    assert quote("a b", safe="~") == "a%20b"


def test_https_mode_wrong_secret_has_www_authenticate(start_shop):
    shop = start_shop(orders=1, https=True)
    response = httpx.get(f"{shop.url}/wp-json/wc/v3/orders", auth=("ck_sandbox", "cs_nope"))
    assert response.status_code == 401
    assert response.json()["message"] == "Consumer secret is invalid."
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="WooCommerce API.')
    ok = httpx.get(
        f"{shop.url}/wp-json/wc/v3/orders",
        params={"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"},
    )
    assert ok.status_code == 200


def test_refund_creation_rules(api, shop):
    record = next(
        r for r in shop.sandbox.shop.orders.values() if not r.refunds and r.data["total"] != "0.00"
    )
    negative = api.post(f"orders/{record.id}/refunds", json={"amount": "-5"})
    assert negative.status_code == 400
    assert negative.json()["message"] == "Refund amount must be greater than zero."
    too_much = api.post(f"orders/{record.id}/refunds", json={"amount": "999999"})
    assert too_much.status_code == 500
    before = record.modified
    made = api.post(f"orders/{record.id}/refunds", json={"amount": "10.00", "api_refund": False})
    assert made.status_code == 201
    order = api.get(f"orders/{record.id}").json()
    assert order["refunds"] == [{"id": made.json()["id"], "reason": "", "total": "-10.00"}]
    assert record.modified >= before


def test_admin_api_knobs_reset_and_seed(shop):
    state = shop.admin.get("").json()
    assert state["orders"] == 60
    assert shop.admin.post("/knobs", json={"nonsense": 1}).status_code == 400
    assert shop.admin.post("/knobs", json={"drop_rate": 2}).status_code == 400
    assert shop.admin.post("/reset", json={"seed": False}).json() == {"orders": []}
    created = shop.admin.post("/seed", json={"orders": 5}).json()["orders"]
    assert len(created) == 5
    assert shop.admin.post("/orders/999/touch").status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_runs_the_sandbox():
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledgerbridge.cli",
            "sandbox",
            "woocommerce",
            "--port",
            str(port),
            "--option",
            "orders=3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "deliveries" in line:
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/wp-json/wc/v3/" in text
        assert "ck_sandbox" in text
        assert "cs_sandbox" in text
        for _ in range(50):
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_sandbox", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert state["orders"] == 3
        assert re.search(r"Seeded orders: 3", text)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
