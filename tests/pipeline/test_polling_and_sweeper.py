"""The polling fallback and the sweeper: lost webhooks and lost jobs are found again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from rq.serializers import JSONSerializer
from sqlalchemy import select

from ledgerbridge.pipeline import clock, ids, polling
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


def test_an_order_changed_while_its_sync_runs_is_fetched_again(world):
    """The change's webhook found the order's sync job running and collapsed onto it: the
    job runs again once it ends, instead of the change waiting for the sweeper."""
    world.put_order(sample_order("11"))
    request_sync(world.runtime, world.site_id, "11", "webhook")
    with world.runtime.transaction() as session:  # a webhook the running job will not see
        request = session.get(SyncRequest, (world.site_id, "11"))
        request.requested_at = clock.now() + timedelta(hours=1)
    world.run_next_job()
    sync_job = world.runtime.queue.full_id(ids.sync_job(world.site_id, "11"))
    assert world.exports_queue().job_ids[-1] == sync_job  # queued again, behind the export
    assert synced(world) == {"11"}  # the newer request is kept until a sync has seen it

    with world.runtime.transaction() as session:
        session.get(SyncRequest, (world.site_id, "11")).requested_at = WHEN
    world.worker()
    assert synced(world) == set()
    assert [doc["reference"] for doc in world.documents()] == ["TS-11"]


def test_a_job_gone_only_for_a_moment_is_not_queued_again(world):
    """A job that made way for other work ended and is queued again a moment later: in that
    moment it has no job, but it is not lost, and the sweeper neither queues nor reports it."""
    world.put_order(sample_order("10"))
    request_sync(world.runtime, world.site_id, "10", "webhook")
    world.run_next_job()
    queue = world.exports_queue()
    queue.empty()  # the export's job ended, asking to be postponed...
    with world.runtime.transaction() as session:
        export_id = session.scalar(select(Export.id))
    job_id = ids.export_job(export_id)
    # ...and its worker queues it again while the sweeper is looking
    again = threading.Timer(
        0.1, lambda: world.runtime.queue.enqueue("run_export", job_id=job_id, export_id=export_id)
    )
    again.start()
    report = sweep(world.runtime, stale_after=timedelta(0))
    again.join()
    assert report.exports == []
    assert queue.job_ids == [world.runtime.queue.full_id(job_id)]


def test_work_done_while_the_sweeper_looks_is_not_queued_again(world):
    """A sync request stale when the sweep began, whose job ran and ended before the sweeper
    looked for it: the request is gone by then, so nothing is queued or reported."""
    world.put_order(sample_order("12"))
    request_sync(world.runtime, world.site_id, "12", "webhook")
    world.exports_queue().empty()  # the job has been taken...

    def finish() -> None:  # ...and ends while the sweeper looks, dropping its request
        with world.runtime.transaction() as session:
            session.delete(session.get(SyncRequest, (world.site_id, "12")))

    done = threading.Timer(0.1, finish)
    done.start()
    report = sweep(world.runtime, stale_after=timedelta(0))
    done.join()
    assert report.syncs == []
    assert world.exports_queue().job_ids == []


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
