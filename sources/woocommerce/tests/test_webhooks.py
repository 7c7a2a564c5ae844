"""parse_webhook: the ping, signatures, topics, limits, and a fuzz that it only ever answers
with a WebhookEvent or a WebhookRejected."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.contexts import memory_site
from ledgerbridge.errors import WebhookRejected
from ledgerbridge.model import WebhookAction, WebhookEvent
from ledgerbridge.services import MemorySecrets
from ledgerbridge_woocommerce import samples
from ledgerbridge_woocommerce.sandbox.wcjson import php_json
from ledgerbridge_woocommerce.webhooks import MAX_BODY_BYTES, parse_webhook, signature

SECRET = "my-webhook-secret"
SITE = memory_site(secrets=MemorySecrets({"webhook_secret": SECRET}))
OTHER_SITE = memory_site(secrets=MemorySecrets({"webhook_secret": "another-sites-secret-42"}))


def _headers(body: bytes, topic: str = "order.updated", secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://butik.example.se/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-Signature": signature(body, secret),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "5d41402abc4b2a76b9719d911017c592",
    }


def test_signature_test_vector():
    # Reference §5.4, computed the way WooCommerce does (base64 of the binary HMAC-SHA256).
    body = b'{"id":4711,"status":"processing"}'
    assert signature(body, "my-webhook-secret") == "XvCpcCnKzz7UQP4qxNY5XKJ7FYjsK5lD3V/GeHTdDsg="


def test_ping_is_answered_without_signature():
    event = parse_webhook(
        SITE, {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=12"
    )
    assert event == WebhookEvent(action=WebhookAction.PING, delivery_id="12")


@pytest.mark.parametrize(
    ("topic", "action"),
    [
        ("order.created", WebhookAction.CREATED),
        ("order.updated", WebhookAction.UPDATED),
        ("order.deleted", WebhookAction.DELETED),
        ("order.restored", WebhookAction.RESTORED),
    ],
)
def test_verified_order_topics(topic, action):
    order = samples.load("synthetic-se-order-25-12-coupon.json")
    body = (php_json({"id": 4711}) if topic == "order.deleted" else php_json(order)).encode()
    event = parse_webhook(SITE, _headers(body, topic), body)
    assert event.action is action
    assert event.order_id == "4711"
    assert event.topic == topic
    assert event.delivery_id == "5d41402abc4b2a76b9719d911017c592"


def test_header_names_are_case_insensitive():
    body = b'{"id":7}'
    headers = {key.lower(): value for key, value in _headers(body).items()}
    assert parse_webhook(SITE, headers, body).order_id == "7"


def _rejected(site, headers, body) -> int:
    with pytest.raises(WebhookRejected) as caught:
        parse_webhook(site, headers, body)
    return caught.value.status


def test_rejections():
    body = b'{"id":4711,"status":"processing"}'
    good = _headers(body)
    assert _rejected(SITE, {k: v for k, v in good.items() if "Signature" not in k}, body) == 401
    assert _rejected(SITE, {**good, "X-WC-Webhook-Signature": "nope"}, body) == 401
    truncated = good["X-WC-Webhook-Signature"][:-4]
    assert _rejected(SITE, {**good, "X-WC-Webhook-Signature": truncated}, body) == 401
    assert _rejected(SITE, good, body + b" ") == 401  # body changed after signing
    assert _rejected(OTHER_SITE, good, body) == 401  # another site's secret
    assert _rejected(memory_site(), good, body) == 401  # no secret configured
    assert _rejected(SITE, _headers(body, "product.updated"), body) == 400
    assert _rejected(SITE, _headers(body, "action.woocommerce_x"), body) == 400
    not_json = b"{not json"
    assert _rejected(SITE, _headers(not_json), not_json) == 400
    array = b"[1,2,3]"
    assert _rejected(SITE, _headers(array), array) == 400
    no_id = b'{"status":"processing"}'
    assert _rejected(SITE, _headers(no_id), no_id) == 400
    # Digits only ASCII spells: a superscript two is not an id, nor is Arabic-Indic three.
    for odd in ("\u00b2", "\u0663"):
        odd_id = json.dumps({"id": odd}).encode()
        assert _rejected(SITE, _headers(odd_id), odd_id) == 400
    error_object = b'{"code":"woocommerce_rest_cannot_view","message":"Sorry"}'
    assert _rejected(SITE, _headers(error_object), error_object) == 400
    big = b'{"id":1,"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    assert _rejected(SITE, _headers(big), big) == 413
    # A ping body with a topic header is not a ping.
    assert _rejected(SITE, {"X-WC-Webhook-Topic": "order.updated"}, b"webhook_id=1") == 401


_header_values = st.text(max_size=80)
_topics = st.sampled_from(
    ["order.created", "order.updated", "order.deleted", "order.restored", "order.x", "", "ping"]
)
_bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda n: f"webhook_id={n}".encode(), st.integers(min_value=-5, max_value=10**25)),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda order_id: json.dumps({"id": order_id}).encode(),
        st.one_of(st.integers(), st.text(max_size=12), st.floats(), st.none()),
    ),
)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=_bodies,
    topic=_topics,
    sign=st.sampled_from(["right", "wrong", "none", "other"]),
    noise=st.dictionaries(_header_values, _header_values, max_size=3),
)
def test_fuzz_only_events_or_rejections(body, topic, sign, noise):
    headers = dict(noise)
    headers["X-WC-Webhook-Topic"] = topic
    if sign == "right":
        headers["X-WC-Webhook-Signature"] = signature(body, SECRET)
    elif sign == "wrong":
        headers["X-WC-Webhook-Signature"] = signature(body, "wrong-secret-000")
    elif sign == "other":
        headers["X-WC-Webhook-Signature"] = signature(body + b"x", SECRET)
    outcome = _outcome(headers, body)
    if isinstance(outcome, WebhookRejected):
        assert 400 <= outcome.status < 500
        if sign in ("wrong", "other"):
            assert outcome.status in (401, 413)
        return
    assert isinstance(outcome, WebhookEvent)
    if outcome.action is not WebhookAction.PING:
        # Anything accepted that is not a ping was signed with the right secret.
        assert sign == "right"
        assert outcome.order_id.isdigit()
        assert int(outcome.order_id) > 0


def _outcome(headers: dict[str, str], body: bytes) -> WebhookEvent | WebhookRejected:
    try:
        return parse_webhook(SITE, headers, body)
    except WebhookRejected as rejected:
        return rejected
