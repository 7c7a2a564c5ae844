"""What every queue backend offers, the task registry, and the current attempt."""

from __future__ import annotations

import contextvars
import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

#: The queues, in the order workers take jobs from them.
QUEUES = ("exports", "bulk", "maintenance")

#: Task name → importable job function. Jobs receive only ids and plain values.
TASKS: dict[str, str] = {
    "sync_order": "ledgerbridge.pipeline.jobs.sync_order",
    "run_export": "ledgerbridge.pipeline.jobs.run_export",
    "write_back": "ledgerbridge.pipeline.jobs.write_back",
    "archive_pdf": "ledgerbridge.pipeline.jobs.archive_pdf",
    "bulk_sync": "ledgerbridge.pipeline.jobs.bulk_sync",
    "poll_sites": "ledgerbridge.pipeline.jobs.poll_sites",
    "poll_site": "ledgerbridge.pipeline.jobs.poll_site",
    "sweep": "ledgerbridge.pipeline.jobs.sweep",
    "close_daily_summaries": "ledgerbridge.pipeline.jobs.close_daily_summaries",
    "check_webhooks": "ledgerbridge.pipeline.jobs.check_webhooks",
    "sync_inventory": "ledgerbridge.pipeline.jobs.sync_inventory",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Seconds to wait before each retry; the number of intervals is the number of retries."""

    intervals: tuple[int, ...]

    @property
    def retries(self) -> int:
        """How many times a job may be retried."""
        return len(self.intervals)


def _retry_from_env() -> RetryPolicy:
    # LEDGERBRIDGE_RETRY_INTERVALS="10,30,120" shortens or lengthens the backoff (seconds).
    raw = os.environ.get("LEDGERBRIDGE_RETRY_INTERVALS", "").strip()
    if not raw:
        return RetryPolicy((10, 30, 120, 600, 1800, 3600))
    return RetryPolicy(tuple(int(part) for part in raw.split(",") if part.strip()))


DEFAULT_RETRY = _retry_from_env()


@dataclass(frozen=True, slots=True)
class Attempt:
    """Which attempt of a job is running, and whether a failure now is the last word."""

    number: int
    last: bool


_FIRST_AND_LAST = Attempt(number=1, last=True)
_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "ledgerbridge_attempt", default=None
)


def current_attempt() -> Attempt:
    """The attempt of the job running in this context (outside a queue: first and last)."""
    return _attempt.get() or _FIRST_AND_LAST


def set_attempt(attempt: Attempt) -> contextvars.Token[Attempt | None]:
    """Declare the current attempt (queue backends do this before running a job)."""
    return _attempt.set(attempt)


def reset_attempt(token: contextvars.Token[Attempt | None]) -> None:
    """Undo :func:`set_attempt`."""
    _attempt.reset(token)


@dataclass(slots=True)
class Postponement:
    """What a running job asked of its queue: to be queued again, behind the work waiting
    now, with ``changes`` to its arguments, instead of simply ending."""

    requested: bool = False
    changes: dict[str, Any] = field(default_factory=dict)


_postponement: contextvars.ContextVar[Postponement | None] = contextvars.ContextVar(
    "ledgerbridge_postponement", default=None
)


def postpone_job(**changes: Any) -> bool:
    """Ask the queue to run the current job again after the jobs waiting now (with
    ``changes`` to its arguments) once it returns; False when no queue runs it."""
    holder = _postponement.get()
    if holder is None:
        return False
    holder.requested = True
    holder.changes = dict(changes)
    return True


@contextmanager
def postponable() -> Iterator[Postponement]:
    """Queue backends run a job inside; afterwards ``requested`` says whether it asked to be
    queued again."""
    holder = Postponement()
    token = _postponement.set(holder)
    try:
        yield holder
    finally:
        _postponement.reset(token)


def resolve_task(task: str) -> Callable[..., Any]:
    """The job function registered as ``task``."""
    module_name, _, attribute = TASKS[task].rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


class TaskQueue(Protocol):
    """Enqueue jobs by task name with a deterministic id; ask whether a job is still alive."""

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
        """Queue ``task(**kwargs)`` unless a live job with ``job_id`` exists; True if queued.

        ``front`` puts the job at the head of its queue, ahead of what waits there."""

    def is_live(self, job_id: str) -> bool:
        """Whether a job with ``job_id`` is queued, scheduled, or running on a live worker."""

    def depth(self) -> dict[str, int]:
        """Jobs waiting per queue (plus ``scheduled`` and ``failed``)."""

    def close(self) -> None:
        """Release connections and threads."""
