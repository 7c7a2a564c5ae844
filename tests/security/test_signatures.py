"""Webhook signatures, case by case, through the real endpoint: wrong, missing, truncated,
another site's secret, a replayed body with changed bytes — each refused with 401 and
nothing changed. The right signature over the exact bytes is accepted and queues one sync."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

pytestmark = [pytest.mark.db, pytest.mark.redis]

BODY = json.dumps({"id": 4711, "status": "completed", "total": "250.00"}).encode()


def sign(body: bytes, secret: str) -> str:
    """WooCommerce's X-WC-Webhook-Signature (written here, not imported from the connector)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(client, body: bytes, signature: str | None, site: str = "webshop"):
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-ID": "3"}
    if signature is not None:
        headers["X-WC-Webhook-Signature"] = signature
    return client.post(f"/webhooks/woocommerce/{site}", data=body, headers=headers)


def refused_cases(installation) -> dict[str, tuple[bytes, str | None]]:
    secret = installation.shops["webshop"].secret
    right = sign(BODY, secret)
    flipped = bytearray(BODY)
    flipped[10] ^= 0x01
    return {
        "missing": (BODY, None),
        "empty": (BODY, ""),
        "wrong": (BODY, sign(BODY, "not-the-secret")),
        "truncated": (BODY, right[:-4]),
        "one character off": (BODY, right[:-2] + ("A" if right[-2] != "A" else "B") + right[-1]),
        "hex instead of base64": (BODY, hmac.new(secret.encode(), BODY, "sha256").hexdigest()),
        "sha1": (BODY, base64.b64encode(hmac.new(secret.encode(), BODY, "sha1").digest()).decode()),
        "other site's secret": (BODY, sign(BODY, installation.shops["outlet"].secret)),
        "replayed, one bit changed": (bytes(flipped), right),
        "replayed, order id changed": (BODY.replace(b"4711", b"4712"), right),
        "replayed, bytes appended": (BODY + b" ", right),
        "replayed, re-encoded": (json.dumps(json.loads(BODY), indent=1).encode(), right),
    }


def test_every_bad_signature_is_refused_and_changes_nothing(app, installation):
    client = app.test_client()
    before = installation.snapshot()
    for name, (body, signature) in refused_cases(installation).items():
        answer = post(client, body, signature)
        assert answer.status_code == 401, (name, answer.status_code, answer.get_json())
        assert installation.shops["webshop"].secret not in answer.get_data(as_text=True)
    assert installation.snapshot() == before


def test_a_signature_for_one_site_is_refused_by_the_other(app, installation):
    client = app.test_client()
    before = installation.snapshot()
    signed_for_outlet = sign(BODY, installation.shops["outlet"].secret)
    assert post(client, BODY, signed_for_outlet, site="webshop").status_code == 401
    assert installation.snapshot() == before
    assert post(client, BODY, signed_for_outlet, site="outlet").status_code == 202
    assert installation.snapshot()["sync_requests"][0][:2] == (
        installation.shops["outlet"].id,
        "4711",
    )


def test_the_right_signature_queues_one_sync_and_a_replay_collapses_onto_it(app, installation):
    client = app.test_client()
    right = sign(BODY, installation.shops["webshop"].secret)
    first = post(client, BODY, right)
    assert first.status_code == 202 and first.get_json() == {"ok": True, "queued": "4711"}
    queued = installation.snapshot()
    # An exact replay only asks for the order to be fetched again (what the worker books
    # is the shop's current state): the sync request is refreshed, no second job is queued.
    assert post(client, BODY, right).status_code == 202
    again = installation.snapshot()
    assert again["queues"] == queued["queues"]
    assert [(s, o) for s, o, _ in again["sync_requests"]] == [
        (installation.shops["webshop"].id, "4711")
    ]
