"""The RQ queue backend's collapse rules against a real Redis."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import redis
from rq.job import Job
from sqlalchemy import event

from ledgerbridge.queue.rq_backend import RQQueue

pytestmark = pytest.mark.redis


@pytest.fixture
def rq_queue(redis_url, redis_prefix):
    connection = redis.Redis.from_url(redis_url)
    yield RQQueue(connection, f"{redis_prefix}-rq")
    for key in connection.scan_iter(match=f"*{redis_prefix}-rq*"):
        connection.delete(key)
    connection.close()


def test_a_job_that_finishes_while_a_request_looks_at_it_is_queued_anew(rq_queue, monkeypatch):
    assert rq_queue.enqueue("sync_order", job_id="sync-1-9", site_id=1, order_id="9")
    full_id = rq_queue.full_id("sync-1-9")
    rq_queue.connection.hset(Job.key_for(full_id), "status", "finished")
    fetch = Job.fetch

    def fetch_then_vanish(job_id, *args, **kwargs):
        job = fetch(job_id, *args, **kwargs)
        # the job ends and RQ deletes it (no result kept) right after it was read
        rq_queue.connection.delete(Job.key_for(job_id))
        return job

    monkeypatch.setattr(Job, "fetch", staticmethod(fetch_then_vanish))
    assert rq_queue.enqueue("sync_order", job_id="sync-1-9", site_id=1, order_id="9")
    monkeypatch.undo()
    assert rq_queue.is_live("sync-1-9")


def test_a_request_for_a_finished_job_queues_it_again_and_a_queued_one_collapses(rq_queue):
    assert rq_queue.enqueue("sync_order", job_id="sync-1-8", site_id=1, order_id="8")
    assert not rq_queue.enqueue("sync_order", job_id="sync-1-8", site_id=1, order_id="8")
    full_id = rq_queue.full_id("sync-1-8")
    rq_queue.connection.hset(Job.key_for(full_id), "status", "finished")
    assert not rq_queue.is_live("sync-1-8")
    assert rq_queue.enqueue("sync_order", job_id="sync-1-8", site_id=1, order_id="8")
    assert rq_queue.is_live("sync-1-8")


def test_a_request_for_a_job_already_waiting_costs_one_redis_command(rq_queue, monkeypatch):
    """Webhook storms collapse onto the queued job with one HGET, not a failed enqueue."""
    assert rq_queue.enqueue("sync_order", job_id="sync-1-7", site_id=1, order_id="7")
    commands: list[str] = []
    original = rq_queue.connection.execute_command

    def counting(*args, **kwargs):
        commands.append(str(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(rq_queue.connection, "execute_command", counting)
    assert not rq_queue.enqueue("sync_order", job_id="sync-1-7", site_id=1, order_id="7")
    assert commands == ["HGET"]


@pytest.mark.db
def test_an_export_makes_way_while_its_ledgers_rate_limit_is_saturated(world):
    """The worker takes the next job instead of waiting; the export runs later, once, and
    never while another export already waits for the same ledger."""
    from ledgerbridge.pipeline import exports
    from ledgerbridge.pipeline.sync import request_sync
    from ledgerbridge.services import RateLimit
    from ledgerbridge.store.models import Export, ExportState
    from tests.support.factories import sample_order

    limit = RateLimit(requests=2, per_seconds=30)
    key = f"{world.namespace}-api"
    # The runtime learns a ledger's limit when its connector throttles to it.
    world.runtime._services(f"ledger:{world.ledger_id}").throttle(key, limit)
    world.runtime.base_services.throttle(key, limit)  # the allowance is used up for 30 s
    assert not world.runtime.claim_ledger(world.ledger_id, ExitStack(), ahead=0.1)

    world.put_order(sample_order("401"))
    request_sync(world.runtime, world.site_id, "401", "webhook")
    world.run_next_job()  # the sync queues the export
    queue = world.exports_queue()
    assert [job.func_name.rsplit(".", 1)[-1] for job in queue.jobs] == ["run_export"]
    for postponed in range(1, exports.MAX_POSTPONEMENTS + 1):
        world.run_next_job()  # makes way: queued again, nothing booked, no attempt spent
        (job,) = queue.jobs
        assert job.kwargs["postponed"] == postponed
        with world.runtime.transaction() as session:
            export = session.query(Export).one()
            assert (export.state, export.attempts) == (ExportState.PENDING, 0)
    assert world.documents() == []
    assert job.kwargs["ledger_id"] == world.ledger_id

    # Postponed enough, but another export postponed as often runs for the same ledger (it
    # holds the ledger's turn): this one makes way again, decided without the database, the
    # ledger known from its job.
    turn = f"ledger-turn:{world.ledger_id}"
    statements: list[str] = []

    def on_statement(_connection, _cursor, statement: str, *_args) -> None:
        statements.append(statement)

    with world.runtime.base_services.lock(turn, timeout=10, wait=0):
        event.listen(world.runtime.engine, "before_cursor_execute", on_statement)
        try:
            world.run_next_job()
        finally:
            event.remove(world.runtime.engine, "before_cursor_execute", on_statement)
    assert statements == []
    (job,) = queue.jobs
    assert job.kwargs["postponed"] == exports.MAX_POSTPONEMENTS
    assert world.documents() == []

    world.run_next_job()  # nobody else has the turn: it runs (the test ledger does not throttle)
    with world.runtime.transaction() as session:
        assert session.query(Export).one().state == ExportState.DONE
    assert len(world.documents()) == 1
    with world.runtime.base_services.lock(turn, timeout=10, wait=0):
        pass  # the export gave the turn back when it ended


@pytest.mark.db
def test_an_export_makes_way_for_the_requests_running_exports_still_claim(world):
    """Room in the ledger's window that a running export will use is not room: the next
    export makes way instead of starting and then waiting halfway through."""
    from ledgerbridge.pipeline.sync import request_sync
    from ledgerbridge.services import RateLimit
    from tests.support.factories import sample_order

    limit = RateLimit(requests=3, per_seconds=30)
    key = f"{world.namespace}-api"
    world.runtime._services(f"ledger:{world.ledger_id}").throttle(key, limit)  # 1 of 3 used
    running = world.runtime.base_services.claim(key, limit, 2, ahead=0.1, ttl=30)

    world.put_order(sample_order("402"))
    request_sync(world.runtime, world.site_id, "402", "webhook")
    world.run_next_job()  # the sync queues the export
    world.run_next_job()  # 1 sent + 2 claimed of 3: makes way
    (job,) = world.exports_queue().jobs
    assert job.kwargs["postponed"] == 1
    assert world.documents() == []

    world.runtime.base_services.release(running)  # that export ended
    world.run_next_job()
    assert len(world.documents()) == 1
    assert world.exports_queue().jobs == []


@pytest.mark.db
def test_a_ledgers_exports_claim_as_many_requests_as_they_took_lately(world):
    from ledgerbridge.services import RateLimit

    limit = RateLimit(requests=6, per_seconds=30)
    key = f"{world.namespace}-api"
    ledger = world.runtime._services(f"ledger:{world.ledger_id}")
    ledger.throttle(key, limit)  # the runtime learns the limit; 1 of 6 used
    with ExitStack() as export:
        assert world.runtime.claim_ledger(world.ledger_id, export, ahead=0.1)  # claims 1
        ledger.throttle(key, limit)
        ledger.throttle(key, limit)  # this export took 2: 3 of 6 used
    with ExitStack() as export:
        # 3 free; the next export claims 2, so one more finds room for 1 only
        assert world.runtime.claim_ledger(world.ledger_id, export, ahead=0.1)
        with ExitStack() as other:
            assert not world.runtime.claim_ledger(world.ledger_id, other, ahead=0.1)
    with ExitStack() as export:  # released when the export ended
        assert world.runtime.claim_ledger(world.ledger_id, export, ahead=0.1)


def test_a_job_taken_by_a_worker_killed_before_it_started_is_not_live(rq_queue):
    """Killed between taking the job off the queue and marking it started: an orphan, once
    it has stayed out of line for the worker grace."""
    from datetime import UTC, datetime, timedelta

    rq_queue.worker_grace = 0.5
    assert rq_queue.enqueue("run_export", job_id="export-77", export_id=77)
    queue = rq_queue.rq_queues()[0]
    full_id = rq_queue.full_id("export-77")
    assert rq_queue.is_live("export-77")
    rq_queue.connection.lrem(queue.key, 0, full_id)  # what the killed worker's BLPOP did
    assert rq_queue.is_live("export-77")  # just taken: a live worker may be starting it
    job = Job.fetch(full_id, connection=rq_queue.connection)
    job.enqueued_at = datetime.now(UTC) - timedelta(seconds=60)
    job.save()
    # Long queued, but first seen out of line now: a worker may have taken it a moment ago.
    assert rq_queue.is_live("export-77")
    time.sleep(0.6)
    assert not rq_queue.is_live("export-77")
    assert rq_queue.enqueue("run_export", job_id="export-77", export_id=77)  # queued again
    assert queue.job_ids == [full_id]
    assert rq_queue.is_live("export-77")
