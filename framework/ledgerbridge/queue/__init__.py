"""Job queues: RQ on Redis in production, an in-process queue for the embedded demo.

Jobs take ids, never objects. Job ids are deterministic, so the same order queued three times
at once runs once (RQ's ``unique=True``, rq ≥ 2.8). Retries use RQ's ``Retry`` with intervals
(workers run with the scheduler). rq 2.12, the newest release, has no per-key concurrency
limit (``RateLimit`` is documented for a later release but is not in the package), so API rate
limits are enforced per request by :meth:`ledgerbridge.services.Services.throttle` instead.
"""

from ledgerbridge.queue.base import (
    DEFAULT_RETRY,
    QUEUES,
    TASKS,
    Attempt,
    RetryPolicy,
    TaskQueue,
    current_attempt,
)

__all__ = [
    "DEFAULT_RETRY",
    "QUEUES",
    "TASKS",
    "Attempt",
    "RetryPolicy",
    "TaskQueue",
    "current_attempt",
]
