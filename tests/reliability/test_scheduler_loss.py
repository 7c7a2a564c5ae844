"""Retries survive the death of the worker that ran RQ's scheduler.

RQ moves scheduled jobs (our retries) to their queue only in the worker holding its scheduler
lock. SIGKILL that worker and, until the lock expires and another worker's maintenance takes
over, retries would stay "scheduled" forever while looking alive to the sweeper. A retry
overdue by more than the worker grace therefore counts as not live, and queuing its id again
replaces it.
"""

from __future__ import annotations

import time

import pytest
import redis
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from ledgerbridge.queue.base import RetryPolicy
from ledgerbridge.queue.rq_backend import RQQueue

pytestmark = pytest.mark.redis


@pytest.fixture
def queue(redis_url, redis_prefix):
    connection = redis.Redis.from_url(redis_url)
    built = RQQueue(connection, redis_prefix, worker_grace=5)
    yield built
    connection.close()


def _status(queue: RQQueue, job_id: str) -> JobStatus:
    job = Job.fetch(queue.full_id(job_id), connection=queue.connection, serializer=JSONSerializer)
    return job.get_status(refresh=True)


def test_an_overdue_retry_is_not_live_and_is_replaced(queue):
    assert queue.enqueue("sweep", job_id="retry-me", retry=RetryPolicy((1,)), delay=60)
    assert _status(queue, "retry-me") == JobStatus.SCHEDULED
    assert queue.is_live("retry-me")
    assert not queue.enqueue("sweep", job_id="retry-me")  # a live retry collapses a new job

    # No scheduler ran: the retry is now long overdue (its due time moved into the past).
    registry = ScheduledJobRegistry(f"{queue.prefix}-exports", connection=queue.connection)
    full_id = queue.full_id("retry-me")
    queue.connection.zadd(registry.key, {full_id: time.time() - 6})
    assert not queue.is_live("retry-me")

    assert queue.enqueue("sweep", job_id="retry-me")
    assert _status(queue, "retry-me") == JobStatus.QUEUED
    assert queue.connection.zscore(registry.key, full_id) is None


def test_a_retry_due_soon_stays_live(queue):
    assert queue.enqueue("sweep", job_id="later", delay=2)
    registry = ScheduledJobRegistry(f"{queue.prefix}-exports", connection=queue.connection)
    queue.connection.zadd(registry.key, {queue.full_id("later"): time.time() - 4})
    assert queue.is_live("later")  # overdue by less than the grace: the scheduler is just slow
