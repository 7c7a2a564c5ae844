"""``POST /webhooks/<connector>/<site>``: verified deliveries are recorded and queued at once;
rejected ones change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from rq import Queue
from sqlalchemy import func, select

from ledgerbridge.queue.rq_backend import queue_name
from ledgerbridge.store.models import SyncRequest
from ledgerbridge_webui.app import create_app
from tests.support.factories import sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]

SECRET = "shop-token-123456"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Test-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


@pytest.fixture
def client(world):
    from ledgerbridge_webui import webhooks

    webhooks.forget_sites()
    app = create_app(world.runtime, TESTING=True)
    return app.test_client()


def requests(world) -> int:
    with world.runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(SyncRequest))


def jobs(world) -> int:
    return Queue(
        queue_name(world.runtime.config.queue_prefix, "exports"), connection=world.redis
    ).count


def test_a_verified_delivery_is_recorded_and_queued_once(client, world):
    body = json.dumps({"action": "updated", "order_id": "77"}).encode()
    for _ in range(3):  # WooCommerce does deliver duplicates
        response = client.post("/webhooks/memshop/test-shop", data=body, headers=signed(body))
        assert response.status_code == 202
        assert response.get_json() == {"ok": True, "queued": "77"}
    assert requests(world) == 1
    assert jobs(world) == 1


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"),
    [
        ("/webhooks/memshop/test-shop", {}, b'{"action":"updated","order_id":"1"}', 401),
        (
            "/webhooks/memshop/test-shop",
            {"X-Test-Signature": "0" * 64},
            b'{"action":"updated","order_id":"1"}',
            401,
        ),
        (
            "/webhooks/memshop/test-shop",
            "other-secret",
            b'{"action":"updated","order_id":"1"}',
            401,
        ),
        ("/webhooks/memshop/test-shop", "sign", b"{not json", 400),
        ("/webhooks/memshop/no-such-shop", "sign", b'{"action":"updated","order_id":"1"}', 404),
        ("/webhooks/woocommerce/test-shop", "sign", b'{"action":"updated","order_id":"1"}', 404),
    ],
)
def test_rejected_deliveries_change_nothing(client, world, path, headers, body, status):
    if headers == "sign":
        headers = signed(body)
    elif headers == "other-secret":
        headers = signed(body, "another-shops-secret")
    response = client.post(path, data=body, headers=headers)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert requests(world) == 0
    assert jobs(world) == 0


def test_an_oversized_body_is_refused(client, world):
    body = b"x" * (2 * 1024 * 1024 + 1)
    response = client.post("/webhooks/memshop/test-shop", data=body, headers=signed(body))
    assert response.status_code == 413
    assert requests(world) == 0


def fetched_digest(world, order_id: str) -> str:
    """Sync the order in this process; the digest it kept."""
    from ledgerbridge.pipeline.sync import sync_order
    from ledgerbridge.store.models import OrderRecord

    sync_order(world.runtime, world.site_id, order_id)
    with world.runtime.transaction() as session:
        return session.scalar(
            select(OrderRecord.content_digest).where(OrderRecord.source_id == order_id)
        )


def announce(client, order_id: str, digest: str):
    body = json.dumps({"action": "updated", "order_id": order_id, "digest": digest}).encode()
    return client.post("/webhooks/memshop/test-shop", data=body, headers=signed(body))


def test_a_delivery_of_the_order_as_last_fetched_queues_nothing(client, world):
    world.put_order(sample_order("77"))
    digest = fetched_digest(world, "77")
    assert len(digest) == 64
    queued_before = jobs(world)  # the order's export

    response = announce(client, "77", digest)  # e.g. our own write-back, announced
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "unchanged": "77"}
    assert requests(world) == 0
    assert jobs(world) == queued_before

    response = announce(client, "77", "0" * 64)  # the order changed
    assert response.status_code == 202
    assert requests(world) == 1


def test_a_changed_route_or_a_deleted_order_is_fetched_again(client, world):
    from ledgerbridge.store.models import OrderRecord, Route

    world.put_order(sample_order("78"))
    digest = fetched_digest(world, "78")
    with world.runtime.transaction() as session:
        session.get(Route, world.route_id).settings = {"export_statuses": ["completed"]}
    # A route's settings decide which orders it books: the same order may now need an export.
    assert announce(client, "78", digest).status_code == 202

    digest = fetched_digest(world, "78")
    assert announce(client, "78", digest).status_code == 200
    with world.runtime.transaction() as session:
        record = session.scalar(select(OrderRecord).where(OrderRecord.source_id == "78"))
        record.deleted = True
    assert announce(client, "78", digest).status_code == 202


def test_a_source_without_digests_has_every_delivery_fetched(client, world):
    world.put_order(sample_order("79"))
    fetched_digest(world, "79")
    assert announce(client, "79", "").status_code == 202
