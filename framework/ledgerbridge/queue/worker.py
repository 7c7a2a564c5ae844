"""``ledgerbridge worker``: RQ workers (with the scheduler) plus the periodic ticker.

Workers fork a work horse per job; the runtime discards inherited database connections in
the child (see :class:`~ledgerbridge.runtime.runtime.Runtime`). Any number of workers on any
number of machines may run against one Redis and one database. Periodic jobs (sweep, polling,
webhook checks, inventory) are queued by every worker's ticker under a job id unique per time
bucket, so however many workers run, each periodic job runs once per period.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from typing import Any

import redis
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker, Worker

from ledgerbridge.queue.base import Attempt, postponable, reset_attempt, set_attempt
from ledgerbridge.runtime.runtime import Runtime

log = logging.getLogger(__name__)

#: Periodic task → period in seconds.
PERIODS = {"sweep": 60, "poll_sites": 300, "check_webhooks": 3600, "inventory": 3600}

#: How often a busy worker runs RQ's maintenance (seconds), which is also when it takes over
#: the scheduler (retries, delayed jobs) from a worker that died holding the scheduler lock;
#: RQ's default is ten minutes. Retries overdue meanwhile are re-queued by the sweeper (see
#: ``RQQueue.is_live``), so nothing waits on this alone.
MAINTENANCE_INTERVAL = 60


#: What RQ raises when Redis is unreachable.
REDIS_GONE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def wait_for_redis(connection: redis.Redis, *, longest: float = 10.0) -> None:
    """Block until Redis answers a PING, checking with a growing pause (up to ``longest``)."""
    pause = 0.5
    while True:
        try:
            connection.ping()
            return
        except REDIS_GONE:
            time.sleep(pause)
            pause = min(pause * 2, longest)


class AttemptMixin:
    """Tells each job which attempt it is on (see :func:`~ledgerbridge.queue.current_attempt`)."""

    # RQ 3 passes the job's Execution as a third argument; RQ 2 does not.
    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        intervals = list(job.retry_intervals or [])
        remaining = job.retries_left
        if remaining is None:
            attempt = Attempt(number=1, last=True)
        else:
            total = max(len(intervals), remaining)
            attempt = Attempt(number=total - remaining + 1, last=remaining == 0)
        token = set_attempt(attempt)
        try:
            with postponable() as postponement:
                done = super().perform_job(job, queue, *args, **kwargs)  # type: ignore[misc]
        finally:
            reset_attempt(token)
        if postponement.requested:
            # The job ended (and, keeping no result, is gone), so its id is free again.
            from ledgerbridge.runtime.runtime import current

            current().queue.enqueue_again(job, postponement.changes)  # type: ignore[attr-defined]
        return done


class LedgerbridgeWorker(AttemptMixin, Worker):
    """The production worker: a forked work horse per job."""


class InProcessWorker(AttemptMixin, SimpleWorker):
    """A worker that runs jobs in its own process (no fork): tests, and hosts without fork."""


class Ticker(threading.Thread):
    """Queues the periodic jobs; safe to run in every worker at once."""

    def __init__(self, runtime: Runtime, interval: float = 15.0) -> None:
        super().__init__(name="ledgerbridge-ticker", daemon=True)
        self.runtime = runtime
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                tick(self.runtime)
            except Exception:  # the ticker must outlive a passing Redis or database error
                log.exception("Ticker failed; trying again in %.0f s", self.interval)
            self.stopping.wait(self.interval)


def tick(runtime: Runtime, moment: float | None = None) -> list[str]:
    """Queue every periodic job whose period bucket has not been queued yet; their ids."""
    from sqlalchemy import select

    from ledgerbridge.pipeline import ids
    from ledgerbridge.store.models import Route

    now = time.time() if moment is None else moment
    queued: list[str] = []
    for task in ("sweep", "poll_sites", "check_webhooks"):
        job_id = ids.periodic_job(task, int(now // PERIODS[task]))
        if runtime.queue.enqueue(task, job_id=job_id, queue="maintenance", retry=None):
            queued.append(job_id)
    bucket = int(now // PERIODS["inventory"])
    with runtime.transaction() as session:
        routes = [
            route.id
            for route in session.scalars(select(Route).where(Route.enabled))
            if (route.settings or {}).get("sync_stock")
        ]
    for route_id in routes:
        job_id = ids.periodic_job(f"inventory-{route_id}", bucket)
        if runtime.queue.enqueue(
            "sync_inventory", job_id=job_id, queue="maintenance", retry=None, route_id=route_id
        ):
            queued.append(job_id)
    return queued


#: Modules the jobs import when they run. Imported once in the worker before it forks, so
#: no work horse imports them again (in a fresh process that is some 400 ms per job).
PRELOAD = (
    "ledgerbridge.pipeline.jobs",
    "ledgerbridge.pipeline.sync",
    "ledgerbridge.pipeline.exports",
    "ledgerbridge.pipeline.writeback",
    "ledgerbridge.pipeline.maintenance",
    "ledgerbridge.pipeline.bulk",
    "ledgerbridge.pipeline.polling",
    "ledgerbridge.pipeline.sweeper",
    "ledgerbridge.pipeline.summary",
)


def preload() -> None:
    """Prepare a worker: import what jobs need, then freeze the heap.

    Frozen objects (plugins, schemas, the runtime, these modules) sit in the garbage
    collector's permanent generation: the work horses' collections no longer walk them, which
    would touch, and so copy, most of the parent's memory in every forked job.
    """
    from sqlalchemy.orm import configure_mappers

    for module in PRELOAD:
        importlib.import_module(module)
    configure_mappers()  # else every work horse configures every mapper again (~30 ms)
    gc.collect()
    gc.freeze()


def run_worker(
    runtime: Runtime,
    *,
    burst: bool = False,
    name: str | None = None,
    ticker: bool = True,
    fork: bool = True,
) -> bool:
    """Run one RQ worker on the runtime's queues until stopped (or empty with ``burst``)."""
    from ledgerbridge.queue.rq_backend import RQQueue

    queue = runtime.queue
    if not isinstance(queue, RQQueue):
        raise RuntimeError("`ledgerbridge worker` needs LEDGERBRIDGE_QUEUE=redis")
    from ledgerbridge.http import ssl_context
    from ledgerbridge.queue.rq_backend import HEARTBEAT

    ssl_context()  # built once here, inherited by every forked work horse
    preload()  # so the first job after a start does not import and configure everything
    worker_class = LedgerbridgeWorker if fork else InProcessWorker
    background: Ticker | None = None
    if ticker and not burst:
        background = Ticker(runtime)
        background.start()
    kwargs: dict[str, Any] = {
        "burst": burst,
        "with_scheduler": True,
        "logging_level": logging.getLevelName(log.getEffectiveLevel()),
    }
    try:
        while True:
            worker = worker_class(
                queue.rq_queues(),
                connection=queue.connection,
                serializer=JSONSerializer,
                name=name,
                job_monitoring_interval=HEARTBEAT,
                maintenance_interval=MAINTENANCE_INTERVAL,
            )
            # RQ survives Redis going away only while it waits for a job; with a job running
            # it quits ("unhandled exception"). Redis is the transport, not the truth: a
            # worker that quit without being asked to waits for Redis and works again (the
            # sweeper re-queues what a Redis restart lost).
            try:
                worked = worker.work(**kwargs)
            except REDIS_GONE as error:
                if burst:
                    raise
                log.warning("Redis went away (%s); working again once it answers.", error)
            else:
                if burst or worker._stop_requested:
                    return worked
                log.warning("The worker quit without being asked to; starting it again.")
            time.sleep(1.0)
            wait_for_redis(queue.connection)
    finally:
        if background is not None:
            background.stopping.set()
