"""The production queue: RQ on Redis, JSON-serialized jobs with deterministic unique ids."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer
from rq.worker import Worker

from ledgerbridge.queue.base import DEFAULT_RETRY, QUEUES, TASKS, RetryPolicy
from ledgerbridge.runtime.redis_services import UNREACHABLE, unreachable

JOB_TIMEOUT = 900
FAILURE_TTL = 14 * 24 * 3600
_DONE_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
_LIVE_STATES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}


def queue_name(prefix: str, queue: str) -> str:
    """The RQ queue name of one of our queues for an installation prefix."""
    return f"{prefix}-{queue}"


#: A running job's worker counts as dead when its heartbeat is older than this (seconds).
#: Workers beat every ``HEARTBEAT`` seconds while a job runs; a wrong "dead" verdict is
#: harmless (the export lock stops a second run), a missed one only delays recovery.
WORKER_GRACE = float(os.environ.get("LEDGERBRIDGE_WORKER_GRACE", "60"))
HEARTBEAT = 10


class RQQueue:
    """:class:`~ledgerbridge.queue.base.TaskQueue` on RQ."""

    def __init__(
        self, connection: redis.Redis, prefix: str, worker_grace: float = WORKER_GRACE
    ) -> None:
        self.connection = connection
        self.prefix = prefix
        self.worker_grace = worker_grace
        self._queues = {
            name: Queue(queue_name(prefix, name), connection=connection, serializer=JSONSerializer)
            for name in QUEUES
        }

    def rq_queues(self) -> list[Queue]:
        """The RQ queues in priority order (what workers listen on)."""
        return [self._queues[name] for name in QUEUES]

    def full_id(self, job_id: str) -> str:
        """The RQ job id (prefixed, so installations sharing a Redis never collide)."""
        return f"{self.prefix}-{job_id}"

    def enqueue(
        self,
        task: str,
        *,
        job_id: str,
        queue: str = "exports",
        retry: RetryPolicy | None = DEFAULT_RETRY,
        delay: float | None = None,
        front: bool = False,
        **kwargs: Any,
    ) -> bool:
        full_id = self.full_id(job_id)
        options: dict[str, Any] = {
            "job_id": full_id,
            "unique": True,
            "kwargs": kwargs,
            "result_ttl": 0,
            "failure_ttl": FAILURE_TTL,
            "job_timeout": JOB_TIMEOUT,
            "description": f"{task} {kwargs}",
            "meta": {"task": task},
        }
        if retry is not None and retry.retries:
            options["retry"] = Retry(max=retry.retries, interval=list(retry.intervals))
        if front and not delay:
            options["at_front"] = True
        try:
            return self._enqueue(self._queues[queue], task, full_id, options, delay)
        except UNREACHABLE as error:
            # The database already holds the work; the sweeper queues it once Redis is back.
            raise unreachable(error) from error

    def enqueue_again(self, job: Job, changes: dict[str, Any]) -> bool:
        """Queue a job that just ended (it asked to be postponed) again, at the back of its
        queue, with ``changes`` to its arguments."""
        name = next(name for name, queue in self._queues.items() if queue.name == job.origin)
        return self.enqueue(
            job.meta["task"],
            job_id=job.id.removeprefix(f"{self.prefix}-"),
            queue=name,
            **{**job.kwargs, **changes},
        )

    def _enqueue(
        self, target: Queue, task: str, full_id: str, options: dict[str, Any], delay: float | None
    ) -> bool:
        if not delay and self._waiting(full_id):
            return False
        for _ in range(2):
            try:
                if delay:
                    target.enqueue_in(timedelta(seconds=delay), TASKS[task], **options)
                else:
                    target.enqueue(TASKS[task], **options)
                return True
            except DuplicateJobError:
                # A finished or failed job keeps its id for a while; it must not block a new
                # run. A live one (queued, scheduled, running) means this request collapses.
                if not self._clear_if_done(full_id):
                    return False
        return False

    def _waiting(self, full_id: str) -> bool:
        """Whether the job is queued and not yet taken: the request collapses onto it.

        One HGET instead of building a job, failing to enqueue it and fetching the old one:
        webhook storms for one order take this path (the same verdict ``_clear_if_done``
        reaches for a queued job)."""
        status = self.connection.hget(Job.key_for(full_id), "status")
        if isinstance(status, bytes):
            status = status.decode()
        return status == JobStatus.QUEUED.value

    def _clear_if_done(self, full_id: str) -> bool:
        try:
            job = Job.fetch(full_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            return True
        # The status the fetch just read: asking Redis again fails when the job finishes and
        # is deleted in between (results are not kept).
        status = job.get_status(refresh=False)
        if (
            status in _DONE_STATES
            or (status == JobStatus.STARTED and not self._worker_alive(job))
            or (status == JobStatus.SCHEDULED and self._overdue(job))
        ):
            with contextlib.suppress(InvalidJobOperation):  # it was deleted meanwhile: gone
                job.delete(remove_from_queue=True)
            return True
        return False

    def is_live(self, job_id: str) -> bool:
        try:
            return self._is_live(job_id)
        except UNREACHABLE as error:
            raise unreachable(error) from error

    def _is_live(self, job_id: str) -> bool:
        try:
            job = Job.fetch(
                self.full_id(job_id), connection=self.connection, serializer=JSONSerializer
            )
        except NoSuchJobError:
            return False
        status = job.get_status(refresh=False)
        if status not in _LIVE_STATES:
            return False
        if status == JobStatus.STARTED:
            return self._worker_alive(job)
        if status == JobStatus.SCHEDULED:
            return not self._overdue(job)
        if status == JobStatus.QUEUED:
            return self._in_line(job)
        return True

    def _in_line(self, job: Job) -> bool:
        # A worker killed between taking a job off its queue and marking it started leaves it
        # "queued" in no queue at all: nothing would run it, and every new request would
        # collapse onto it. Such an orphan is not live: it is removed, so the job can be
        # queued again. A live worker leaves that state within moments (and the status read
        # above may predate its taking the job), so a job counts as an orphan only when it
        # is still queued and out of line ``worker_grace`` after it was first seen so.
        line = Queue(job.origin, connection=self.connection).key
        if self.connection.lpos(line, job.id) is not None:
            return True
        enqueued = job.enqueued_at
        if enqueued is None:
            return True
        enqueued = enqueued.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if (now - enqueued).total_seconds() <= self.worker_grace:
            return True
        sighting = f"{job.key}:out-of-line:{enqueued.timestamp():.6f}"
        keep = int(max(3600, self.worker_grace * 4))
        self.connection.set(sighting, now.timestamp(), nx=True, ex=keep)
        first_seen = float(self.connection.get(sighting) or now.timestamp())
        if now.timestamp() - first_seen < self.worker_grace:
            return True
        if not self._waiting(job.id):
            return True  # taken and started (or ended) since: the caller asks again next time
        if self.connection.lpos(line, job.id) is not None:
            return True
        with contextlib.suppress(InvalidJobOperation, NoSuchJobError):
            job.delete()
        self.connection.delete(sighting)
        return False

    def _overdue(self, job: Job) -> bool:
        # A job scheduled (a retry) for a time long past: no scheduler is running. RQ's
        # scheduler runs in the one worker holding its lock; when that worker is killed, the
        # others take over only after the lock expires and their next maintenance run, and
        # until then retries would wait. The sweeper re-queues such jobs instead.
        registry = ScheduledJobRegistry(job.origin, connection=self.connection)
        due = self.connection.zscore(registry.key, job.id)
        return due is not None and time.time() - float(due) > self.worker_grace

    def _worker_alive(self, job: Job) -> bool:
        name = job.worker_name
        if not name:
            return False
        worker = Worker.find_by_key(
            Worker.redis_worker_namespace_prefix + name, connection=self.connection
        )
        if worker is None or worker.last_heartbeat is None:
            return False
        age = (datetime.now(UTC) - worker.last_heartbeat.replace(tzinfo=UTC)).total_seconds()
        return age <= self.worker_grace

    def depth(self) -> dict[str, int]:
        depths = {name: queue.count for name, queue in self._queues.items()}
        depths["scheduled"] = sum(
            ScheduledJobRegistry(queue=queue).count for queue in self._queues.values()
        )
        depths["failed"] = sum(
            FailedJobRegistry(queue=queue).count for queue in self._queues.values()
        )
        return depths

    def close(self) -> None:
        self.connection.close()
