"""The embedded queue: jobs run in threads of this process (the demo; no Redis needed).

Same contract as RQ: deterministic ids collapse duplicates while a job is queued or running,
transient failures are retried after the policy's intervals, delayed jobs wait on a timer.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.errors import TransientError
from ledgerbridge.queue.base import (
    DEFAULT_RETRY,
    QUEUES,
    Attempt,
    RetryPolicy,
    postponable,
    reset_attempt,
    resolve_task,
    set_attempt,
)

log = logging.getLogger(__name__)


@dataclass
class _Job:
    task: str
    job_id: str
    queue: str
    kwargs: dict[str, Any]
    retry: RetryPolicy | None
    attempt: int = 1
    timer: threading.Timer | None = field(default=None, repr=False)


class _JobLine(stdlib_queue.Queue):
    """A FIFO of jobs that can also take a job at its head."""

    def put_front(self, item: _Job) -> None:
        """Put ``item`` where the next ``get`` takes it."""
        with self.not_empty:
            self.queue.appendleft(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()


class EmbeddedQueue:
    """:class:`~ledgerbridge.queue.base.TaskQueue` in threads of the current process."""

    def __init__(self, workers: int = 2, *, retry_scale: float = 1.0) -> None:
        self._pending = _JobLine()
        self._live: dict[str, _Job] = {}
        self._running = 0
        self._guard = threading.Condition()
        self._retry_scale = retry_scale
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"ledgerbridge-job-{index}", daemon=True)
            for index in range(workers)
        ]
        for thread in self._threads:
            thread.start()

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
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}")
        with self._guard:
            if self._closed or job_id in self._live:
                return False
            job = _Job(task=task, job_id=job_id, queue=queue, kwargs=kwargs, retry=retry)
            self._live[job_id] = job
        if delay:
            self._schedule(job, delay)
        elif front:
            self._pending.put_front(job)
        else:
            self._pending.put(job)
        return True

    def _schedule(self, job: _Job, delay: float) -> None:
        timer = threading.Timer(delay, self._pending.put, args=(job,))
        timer.daemon = True
        job.timer = timer
        timer.start()

    def _work(self) -> None:
        while True:
            job = self._pending.get()
            if job is None:
                return
            with self._guard:
                self._running += 1
            try:
                self._run(job)
            finally:
                with self._guard:
                    self._running -= 1
                    self._guard.notify_all()

    def _run(self, job: _Job) -> None:
        retries = job.retry.retries if job.retry else 0
        token = set_attempt(Attempt(number=job.attempt, last=job.attempt > retries))
        try:
            with postponable() as postponement:
                resolve_task(job.task)(**job.kwargs)
            if postponement.requested and not self._closed:
                job.kwargs.update(postponement.changes)
                self._pending.put(job)  # behind what waits now; still live
                return
        except TransientError as error:
            if job.retry is not None and job.attempt <= retries and not self._closed:
                delay = job.retry.intervals[job.attempt - 1] * self._retry_scale
                job.attempt += 1
                log.info("Job %s: %s; retry %d in %.1f s", job.job_id, error, job.attempt, delay)
                self._schedule(job, delay)
                return
            log.warning("Job %s gave up after %d attempts: %s", job.job_id, job.attempt, error)
        except Exception:
            log.exception("Job %s failed", job.job_id)
        finally:
            reset_attempt(token)
        with self._guard:
            self._live.pop(job.job_id, None)
            self._guard.notify_all()

    def is_live(self, job_id: str) -> bool:
        with self._guard:
            return job_id in self._live

    def depth(self) -> dict[str, int]:
        with self._guard:
            counts = {name: 0 for name in QUEUES}
            for job in self._live.values():
                counts[job.queue] += 1
            counts["scheduled"] = sum(1 for job in self._live.values() if job.timer is not None)
            counts["failed"] = 0
            return counts

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no job is queued, scheduled or running; False on timeout."""
        with self._guard:
            return self._guard.wait_for(lambda: not self._live and not self._running, timeout)

    def close(self) -> None:
        with self._guard:
            self._closed = True
            for job in self._live.values():
                if job.timer is not None:
                    job.timer.cancel()
        for _ in self._threads:
            self._pending.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
