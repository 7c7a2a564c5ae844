"""While Redis is away, work waits instead of failing, and nothing runs twice.

* every shared service (lock, throttle, cache, counter) and the queue raise a TransientError
  (retried later), never a raw connection error that would be recorded as a bug;
* metrics are best effort: counting one must never fail an API call or an export;
* an order announced while Redis is away is recorded, and the sweeper queues it later;
* an export keeps a database lease while it runs, so a second run cannot start even when
  its Redis lock vanished with a restart.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from ledgerbridge.errors import TransientError
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.rq_backend import RQQueue
from ledgerbridge.runtime.metrics_store import RedisMetrics
from ledgerbridge.runtime.redis_services import RedisServices
from ledgerbridge.services import RateLimit
from ledgerbridge.store.models import Export, ExportState, SyncRequest
from tests.support.factories import sample_order

pytestmark = pytest.mark.redis


@pytest.fixture
def nowhere() -> str:
    """A Redis URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_services_raise_transient_errors_when_redis_is_away(nowhere):
    connection = redis.Redis.from_url(nowhere, socket_connect_timeout=0.5)
    services = RedisServices(connection, "away")
    calls = {
        "lock": lambda: services.lock("x", timeout=1, wait=0.1).__enter__(),
        "throttle": lambda: services.throttle("t", RateLimit(5, 1.0)),
        "cache.get": lambda: services.cache.get("k"),
        "cache.set": lambda: services.cache.set("k", 1, 10),
        "count": lambda: services.count("c", period_seconds=60),
    }
    for name, call in calls.items():
        with pytest.raises(TransientError) as caught:
            call()
        assert caught.value.refused, name
        assert "Redis is unreachable" in str(caught.value), name
    queue = RQQueue(connection, "away")
    with pytest.raises(TransientError):
        queue.enqueue("sweep", job_id="x")
    with pytest.raises(TransientError):
        queue.is_live("x")


def test_metrics_are_best_effort(nowhere):
    metrics = RedisMetrics(redis.Redis.from_url(nowhere, socket_connect_timeout=0.5), "away")
    metrics.api_call("fortnox", 201, 0.2)  # no exception: the document was created all the same
    metrics.export_outcome("done", 1.0)


@pytest.mark.db
def test_an_order_announced_while_redis_is_away_is_queued_by_the_sweeper(world, nowhere):
    world.put_order(sample_order("501"))
    reachable = world.runtime.queue
    world.runtime.queue = RQQueue(redis.Redis.from_url(nowhere, socket_connect_timeout=0.5), "x")
    try:
        assert request_sync(world.runtime, world.site_id, "501", "webhook") is False
    finally:
        world.runtime.queue = reachable
    with world.runtime.transaction() as session:
        assert session.get(SyncRequest, (world.site_id, "501")) is not None

    report = sweep(world.runtime, stale_after=timedelta(0))
    assert (world.site_id, "501") in report.syncs
    assert world.worker().returncode == 0
    assert [doc["reference"] for doc in world.documents()] == ["TS-501"]


@pytest.mark.db
def test_a_running_export_keeps_a_second_run_out_without_its_redis_lock(world):
    world.put_order(sample_order("601"))
    world.knob("die_after_create", 1)
    request_sync(world.runtime, world.site_id, "601", "webhook")
    assert world.worker(timeout=60).returncode != 0  # SIGKILLed right after the create
    assert len(world.documents()) == 1

    # Its Redis lock is gone at once (as after a Redis restart) and the sweeper re-queues it
    # at once, but the lease the dead attempt renewed is still live: nothing runs.
    prefix = world.runtime.config.queue_prefix
    for key in world.redis.scan_iter(match=f"{prefix}:lock:export-*"):
        world.redis.delete(key)
    world.runtime.queue.worker_grace = 0
    started = time.monotonic()
    assert sweep(world.runtime, stale_after=timedelta(0)).exports
    assert world.worker().returncode == 0
    with world.runtime.transaction() as session:
        export = session.scalars(select(Export).where(Export.source_id == "601")).one()
        assert export.state == ExportState.RUNNING
        assert export.attempts == 1
    assert time.monotonic() - started < 10, "the check must run while the lease is live"

    # Once the lease has expired the next run looks the document up and records it.
    time.sleep(11)
    assert sweep(world.runtime, stale_after=timedelta(0)).exports
    assert world.worker().returncode == 0
    with world.runtime.transaction() as session:
        export = session.scalars(select(Export).where(Export.source_id == "601")).one()
        assert export.state == ExportState.DONE
        assert export.progress["document"]["recovered"] is True
    assert len(world.documents()) == 1
