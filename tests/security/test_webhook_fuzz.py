"""The webhook endpoint under generated input (hypothesis, through the Flask test client).

Properties, for every generated delivery:

* never a 5xx;
* a delivery is accepted (2xx) only when it carries the signature of *that* site's secret over
  *those exact* bytes (or is WooCommerce's unsigned creation ping, which changes nothing);
* a rejected delivery changes nothing: no row in any table, no sync request, no queued job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import examples

pytestmark = [pytest.mark.db, pytest.mark.redis]

TOPICS = ["order.created", "order.updated", "order.deleted", "order.restored"]
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=80
)


def sign(body: bytes, secret: str) -> str:
    """WooCommerce's X-WC-Webhook-Signature (written here, not imported from the connector)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
order_like = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(), st.text(max_size=12), st.none(), st.floats(allow_nan=False))},
    optional={
        "status": st.sampled_from(["completed", "processing", "", "trash"]),
        "code": st.text(max_size=10),
        "line_items": st.lists(json_values, max_size=3),
    },
)
bodies = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda value: json.dumps(value).encode()),
    order_like.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=0, max_value=10**25).map(lambda n: f"webhook_id={n}".encode()),
)


@st.composite
def deliveries(draw):
    """(site key in the path, connector in the path, headers, body, signed with which secret)."""
    body = draw(bodies)
    path_site = draw(
        st.sampled_from(["webshop", "outlet", "nosuchshop", "WEBSHOP", "webshop%2F.."])
    )
    connector = draw(st.sampled_from(["woocommerce", "woocommerce", "fortnox", "x"]))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["X-WC-Webhook-Topic"] = draw(st.sampled_from(TOPICS) | HEADER_TEXT)
    # How it is signed: not at all, junk, the other site's secret, the right secret over other
    # bytes, a truncated right signature.
    mode = draw(st.sampled_from(["none", "junk", "other", "tampered", "truncated"]))
    right = {"webshop": "whsec_webshop_0123456789abcdef", "outlet": "whsec_outlet_fedcba9876543210"}
    secret = right.get(path_site, right["webshop"])
    other = right["outlet"] if secret == right["webshop"] else right["webshop"]
    if mode == "junk":
        headers["X-WC-Webhook-Signature"] = draw(HEADER_TEXT)
    elif mode == "other":
        headers["X-WC-Webhook-Signature"] = sign(body, other)
    elif mode == "tampered":
        headers["X-WC-Webhook-Signature"] = sign(
            body + draw(st.binary(min_size=1, max_size=4)), secret
        )
    elif mode == "truncated":
        headers["X-WC-Webhook-Signature"] = sign(body, secret)[: draw(st.integers(0, 43))]
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    "X-WC-Webhook-ID",
                    "X-WC-Webhook-Source",
                    "X-WC-Webhook-Delivery-ID",
                    "Content-Type",
                    "X-Forwarded-For",
                    "Cookie",
                ]
            ),
            max_size=4,
        )
    ):
        headers[name] = draw(HEADER_TEXT)
    return path_site, connector, headers, body


def _is_ping(headers: dict[str, str], body: bytes) -> bool:
    # WooCommerce's creation ping: unsigned (a blank signature is no signature) and no topic.
    stripped = body.strip()
    return (
        not headers.get("X-WC-Webhook-Signature", "").strip()
        and not headers.get("X-WC-Webhook-Topic", "")
        and stripped.startswith(b"webhook_id=")
        and stripped[len(b"webhook_id=") :].isdigit()
        and len(stripped) <= len(b"webhook_id=") + 20
    )


def test_unsigned_or_wrongly_signed_deliveries_never_get_in(app, installation):
    client = app.test_client()
    before = installation.snapshot()
    seen = {"answers": {}}

    @settings(
        max_examples=examples(6000),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(delivery=deliveries())
    def deliver(delivery):
        site, connector, headers, body = delivery
        answer = client.post(f"/webhooks/{connector}/{site}", data=body, headers=headers)
        seen["answers"][answer.status_code] = seen["answers"].get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (answer.status_code, answer.get_data()[:200])
        if 200 <= answer.status_code < 300:
            assert _is_ping(headers, body), (site, headers, body[:100])
            assert answer.get_json() == {"ok": True, "ping": True}

    deliver()
    assert installation.snapshot() == before
    assert seen["answers"].get(401, 0) > 0 and seen["answers"].get(404, 0) > 0


@st.composite
def signed_deliveries(draw):
    """Deliveries signed with the site's own secret over the exact bytes: only the content
    (topic, JSON, order id) decides."""
    body = draw(bodies)
    headers = {
        "X-WC-Webhook-Signature": sign(body, "whsec_outlet_fedcba9876543210"),
        "X-WC-Webhook-Topic": draw(st.sampled_from(TOPICS) | HEADER_TEXT),
    }
    return headers, body


def test_signed_deliveries_queue_exactly_the_order_they_name_or_nothing(app, installation):
    client = app.test_client()
    shop = installation.shops["outlet"]
    answers: dict[int, int] = {}

    @settings(
        max_examples=examples(1500),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(delivery=signed_deliveries())
    def deliver(delivery):
        headers, body = delivery
        before = installation.snapshot()
        answer = client.post("/webhooks/woocommerce/outlet", data=body, headers=headers)
        answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (answer.status_code, answer.get_data()[:200])
        after = installation.snapshot()
        if answer.status_code >= 400:
            assert after == before
            return
        queued = answer.get_json()["queued"]
        payload = json.loads(body)
        assert str(int(payload["id"])) == queued
        assert headers["X-WC-Webhook-Topic"] in TOPICS
        new = set(after["sync_requests"]) - set(before["sync_requests"])
        assert {(site, order) for site, order, _ in after["sync_requests"]} >= {(shop.id, queued)}
        assert {(site, order) for site, order, _ in new} <= {(shop.id, queued)}
        assert after["counts"] == before["counts"] | {
            "sync_requests": after["counts"]["sync_requests"]
        }

    deliver()
    assert answers.get(400, 0) > 0


def test_headers_and_path_cannot_name_another_site(app, installation):
    """The site comes from the path only, and its own secret must sign the body."""
    client = app.test_client()
    body = json.dumps({"id": 4711}).encode()
    outlet = sign(body, installation.shops["outlet"].secret)
    before = installation.snapshot()
    for path in ("/webhooks/woocommerce/webshop", "/webhooks/woocommerce/webshop/"):
        answer = client.post(
            path,
            data=body,
            headers={
                "X-WC-Webhook-Signature": outlet,
                "X-WC-Webhook-Topic": "order.updated",
                "X-WC-Webhook-Source": "https://outlet.example.com/",
            },
        )
        assert answer.status_code in (401, 404), path
    assert installation.snapshot() == before
