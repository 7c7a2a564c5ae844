"""The RQ queue backend's collapse rules against a real Redis."""

from __future__ import annotations

import pytest
import redis
from rq.job import Job

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
