"""The polling fallback and the sweeper: lost webhooks and lost jobs are found again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.serializers import JSONSerializer
from sqlalchemy import select

from ledgerbridge.pipeline import polling
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.worker import InProcessWorker
from ledgerbridge.store.models import Export, ExportState, Site, SyncRequest
from tests.support.factories import WHEN, sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]


def cursor(world):
    with world.runtime.transaction() as session:
        return session.get(Site, world.site_id).poll_cursor


def synced(world) -> set[str]:
    with world.runtime.transaction() as session:
        return {source for (source,) in session.execute(select(SyncRequest.source_id))}


def test_polling_queues_every_order_and_never_skips_one_sharing_a_timestamp(world):
    # three orders share one modification second; a fourth comes later
    for order_id in ("1", "2", "3"):
        world.put_order(sample_order(order_id, modified_at=WHEN))
    world.put_order(sample_order("4", modified_at=WHEN + timedelta(minutes=5)))
    with world.runtime.transaction() as session:
        session.get(Site, world.site_id).poll_cursor = WHEN - timedelta(hours=1)
    assert polling.poll_site(world.runtime, world.site_id) == 4
    assert synced(world) == {"1", "2", "3", "4"}
    assert cursor(world) == WHEN + timedelta(minutes=5)

    # an order saved later in the very second of the cursor is still found
    world.put_order(sample_order("5", modified_at=WHEN + timedelta(minutes=5)))
    world.put_order(sample_order("6", modified_at=WHEN + timedelta(minutes=9)))
    polling.poll_site(world.runtime, world.site_id)
    assert {"5", "6"} <= synced(world)
    assert cursor(world) == WHEN + timedelta(minutes=9)


def test_polled_orders_are_exported(world):
    world.put_order(sample_order("7", modified_at=WHEN))
    with world.runtime.transaction() as session:
        session.get(Site, world.site_id).poll_cursor = WHEN - timedelta(minutes=1)
    polling.poll_site(world.runtime, world.site_id)
    world.worker()
    assert [doc["reference"] for doc in world.documents()] == ["TS-7"]


def test_a_sync_request_whose_job_was_lost_is_queued_again(world):
    world.put_order(sample_order("8"))
    request_sync(world.runtime, world.site_id, "8", "webhook")
    # Redis loses everything (flushed or restarted without persistence)
    for key in world.redis.scan_iter(match=f"*{world.runtime.config.queue_prefix}*"):
        if b"-conn" not in key:
            world.redis.delete(key)
    assert world.worker().returncode == 0
    assert world.documents() == []  # nothing ran: the job was gone
    report = sweep(world.runtime, stale_after=timedelta(0))
    assert report.syncs == [(world.site_id, "8")]
    world.worker()
    assert [doc["reference"] for doc in world.documents()] == ["TS-8"]
    assert synced(world) == set()


def test_an_export_whose_job_was_lost_is_queued_again(world):
    world.put_order(sample_order("9"))
    request_sync(world.runtime, world.site_id, "9", "webhook")
    # run only the sync job, then lose the export job that it queued
    world.run_next_job()
    world.exports_queue().empty()
    with world.runtime.transaction() as session:
        export = session.scalar(select(Export))
        assert export.state == ExportState.PENDING
    report = sweep(world.runtime, stale_after=timedelta(0))
    assert report.exports == [export.id]
    world.worker()
    assert [doc["reference"] for doc in world.documents()] == ["TS-9"]


def test_an_order_cancelled_before_booking_is_skipped(world):
    world.put_order(sample_order("10"))
    world.knob("transient_before", 99)
    request_sync(world.runtime, world.site_id, "10", "webhook")
    world.worker()  # fails transiently, waits for its retry
    world.put_order(sample_order("10", status="cancelled"))
    world.knob("transient_before", 0)
    request_sync(world.runtime, world.site_id, "10", "webhook")
    InProcessWorker(
        world.runtime.queue.rq_queues(), connection=world.redis, serializer=JSONSerializer
    ).work(burst=True)
    with world.runtime.transaction() as session:
        export = session.scalar(select(Export))
    assert export.state == ExportState.SKIPPED
    assert "cancelled" in export.message
