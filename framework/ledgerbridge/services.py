"""What the runtime lends to connectors: secrets, locks, a request throttle, a cache.

Connectors never reach for Redis or the database themselves; they use these, so the same
connector code runs on a fleet of workers (Redis-backed implementations in
:mod:`ledgerbridge.runtime.redis_services`) and in the embedded demo or a unit test (the
in-memory ones below).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ledgerbridge.errors import TransientError


class LockBusy(TransientError):
    """The lock is held by another worker (who is doing the work right now)."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` calls in any window of ``per_seconds`` (a sliding window).

    ``max_wait`` is how long a caller may block for a free slot before giving up with a
    :class:`~ledgerbridge.errors.TransientError` (the job is then retried later).

    ``settle_within`` (seconds, at least the request timeout) makes each request count in the
    window from the moment its answer arrives instead of from its departure: an API counts a
    request when it arrives, which is somewhere between the two, so however the network
    delays requests, no window the API sees can hold more than ``requests``. Until the
    answer arrives (see :meth:`Services.throttle`) the request counts as arriving up to
    ``settle_within`` seconds later. 0 counts departures.
    """

    requests: int
    per_seconds: float
    max_wait: float = 60.0
    settle_within: float = 0.0

    def __str__(self) -> str:
        return f"{self.requests} per {self.per_seconds:g} s"


class Secrets(Protocol):
    """Read and (for token rotation) durably replace the secret values of a site or ledger."""

    def get(self, key: str, default: str | None = None) -> str | None:
        """The secret ``key`` or ``default``."""

    def __getitem__(self, key: str) -> str:
        """The secret ``key``; KeyError when absent."""

    def __contains__(self, key: object) -> bool:
        """Whether the secret is set."""

    def update(self, values: Mapping[str, str | None]) -> None:
        """Store new values (None deletes) durably and at once, encrypted at rest."""

    def reload(self) -> None:
        """Re-read the values from the store (call after taking a lock)."""


class Cache(Protocol):
    """A small shared cache for reference data (accounts, payment modes)."""

    def get(self, key: str) -> Any | None:
        """The cached JSON-able value, or None."""

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Cache a JSON-able value for ``ttl`` seconds."""

    def delete(self, key: str) -> None:
        """Forget a cached value."""


class KeyValueStore(Protocol):
    """Durable key-value state a connector keeps for one site or ledger (e.g. its own map of
    e-mail to customer number). Survives restarts; values are JSON-able."""

    def get(self, key: str) -> Any | None:
        """The stored value, or None."""

    def set(self, key: str, value: Any) -> None:
        """Store a value durably before returning."""

    def delete(self, key: str) -> None:
        """Remove a value."""


class Services(Protocol):
    """Coordination services shared by every worker of one installation."""

    cache: Cache
    store: KeyValueStore

    def lock(self, name: str, *, timeout: float = 60.0, wait: float = 60.0) -> Any:
        """A context manager holding the named lock across all workers.

        The lock is kept alive while its holder runs; ``timeout`` bounds how long it outlives
        a holder that died. ``wait`` is how long to wait for it before raising
        :class:`LockBusy` (a :class:`~ledgerbridge.errors.TransientError`).
        """

    def throttle(self, key: str, limit: RateLimit) -> Callable[[], None]:
        """Block until one more request under ``key`` fits ``limit`` across all workers.

        Returns ``settle``: call it when the request's answer (or failure) arrived, so a limit
        with ``settle_within`` counts the request from then; it does nothing otherwise.
        """

    def count(self, key: str, *, period_seconds: float) -> int:
        """Increment and return a shared counter that resets after ``period_seconds``."""


class MemorySecrets:
    """Secrets held in memory (tests, preview, sandboxes). ``on_update`` sees every change."""

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        on_update: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self._values = dict(values or {})
        self._on_update = on_update

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def update(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        if self._on_update is not None:
            self._on_update(dict(self._values))

    def reload(self) -> None:
        """Nothing to reload: memory is the store."""

    def __repr__(self) -> str:
        return f"MemorySecrets(keys={sorted(self._values)})"


class MemoryCache:
    """A process-local cache with expiry."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._clock = clock
        self._guard = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._guard:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < self._clock():
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._guard:
            self._items[key] = (self._clock() + ttl, value)

    def delete(self, key: str) -> None:
        with self._guard:
            self._items.pop(key, None)


class MemoryStore:
    """A process-local key-value store."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._guard:
            return self._items.get(key)

    def set(self, key: str, value: Any) -> None:
        with self._guard:
            self._items[key] = value

    def delete(self, key: str) -> None:
        with self._guard:
            self._items.pop(key, None)


#: Seconds between looks at a saturated window whose oldest request is still on its way.
IN_FLIGHT_POLL = 0.05


def counted_from_departure() -> None:
    """The ``settle`` of a limit that counts departures: nothing to do."""


@dataclass(eq=False)
class Claim:
    """Requests a running job still expects to send under one throttle key.

    Other jobs see them as taken when they ask whether the key's window has room for their
    own (``claim``). While the claim is :data:`current_claim`, each request this job sends
    under ``key`` counts against it (``taken``).
    """

    key: str
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    taken: int = 0


#: The claim of the job running in this thread (see :class:`Claim`).
current_claim: ContextVar[Claim | None] = ContextVar("ledgerbridge_claim", default=None)


def claim_for(key: str) -> Claim | None:
    """The running job's claim if it is on ``key`` (its requests under ``key`` count against
    it)."""
    claim = current_claim.get()
    return claim if claim is not None and claim.key == key else None


def wait_for_slot(take: Callable[[], float], limit: RateLimit) -> None:
    """Call ``take`` (0: it took a slot; else seconds until one may free) until it takes one;
    a :class:`TransientError` instead when that would outlast ``limit.max_wait``."""
    deadline = time.monotonic() + limit.max_wait
    while (wait := take()) > 0:
        if time.monotonic() + wait > deadline:
            raise TransientError(
                f"Rate limit {limit} for this ledger is saturated; will retry.",
                retry_after=wait,
            )
        time.sleep(min(max(wait, 0.001), 1.0))


class MemoryServices:
    """In-process services for the embedded mode and unit tests (one process only)."""

    def __init__(self) -> None:
        self.cache = MemoryCache()
        self.store = MemoryStore()
        self._locks: dict[str, threading.Lock] = {}
        self._windows: dict[str, dict[int, float]] = {}
        self._tickets = 0
        # key -> token -> [requests still claimed, when the claim lapses]
        self._claims: dict[str, dict[str, list[float]]] = {}
        self._counters: dict[str, tuple[float, int]] = {}
        self._guard = threading.Lock()

    @contextmanager
    def lock(self, name: str, *, timeout: float = 60.0, wait: float = 60.0) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=wait):
            raise LockBusy(f"Another worker holds the lock {name!r}; will retry.")
        try:
            yield
        finally:
            lock.release()

    def _window(self, key: str, limit: RateLimit, now: float) -> dict[int, float]:
        # The requests under ``key`` still inside the window, by ticket: when each counts
        # from (caller holds the guard).
        window = self._windows.setdefault(key, {})
        for ticket in [ticket for ticket, at in window.items() if at <= now - limit.per_seconds]:
            del window[ticket]
        return window

    def _wait(self, window: dict[int, float], limit: RateLimit, now: float) -> float:
        # Seconds before a slot frees; a request still on its way frees one soon after its
        # answer, which nobody can foresee, so look again shortly.
        oldest = min(window.values())
        if oldest > now:
            return min(oldest + limit.per_seconds - now, IN_FLIGHT_POLL)
        return max(oldest + limit.per_seconds - now, 0.0)

    def claim(
        self,
        key: str,
        limit: RateLimit,
        requests: int,
        *,
        ahead: float,
        ttl: float,
        force: bool = False,
    ) -> Claim | None:
        """Claim ``requests`` upcoming requests under ``key`` if ``limit``'s window has room for
        them ``ahead`` seconds from now, besides every live claim (always, with ``force``);
        None when it has not. A claim lapses after ``ttl`` seconds unless released."""
        with self._guard:
            now = time.monotonic()
            claims = self._claims.setdefault(key, {})
            for token in [token for token, (_, until) in claims.items() if until <= now]:
                del claims[token]
            window = self._window(key, limit, now)
            used = sum(1 for at in window.values() if at > now + ahead - limit.per_seconds)
            claimed = sum(left for left, _ in claims.values())
            if not force and limit.requests - used - claimed < requests:
                return None
            claim = Claim(key)
            claims[claim.token] = [requests, now + ttl]
            return claim

    def release(self, claim: Claim) -> None:
        """Give up what is left of ``claim``."""
        with self._guard:
            self._claims.get(claim.key, {}).pop(claim.token, None)

    def throttle(self, key: str, limit: RateLimit) -> Callable[[], None]:
        with self._guard:
            self._tickets += 1
            ticket = self._tickets

        claim = claim_for(key)

        def take() -> float:
            with self._guard:
                now = time.monotonic()
                window = self._window(key, limit, now)
                if len(window) < limit.requests:
                    window[ticket] = now + limit.settle_within
                    left = self._claims.get(key, {}).get(claim.token) if claim else None
                    if left and left[0] > 0:
                        left[0] -= 1
                    return 0.0
                return self._wait(window, limit, now)

        wait_for_slot(take, limit)
        if claim is not None:
            claim.taken += 1
        if not limit.settle_within:
            return counted_from_departure

        def settle() -> None:
            with self._guard:
                window = self._windows.get(key, {})
                at = window.get(ticket)
                if at is not None:
                    window[ticket] = min(at, time.monotonic())

        return settle

    def count(self, key: str, *, period_seconds: float) -> int:
        with self._guard:
            now = time.monotonic()
            started, value = self._counters.get(key, (now, 0))
            if now - started >= period_seconds:
                started, value = now, 0
            value += 1
            self._counters[key] = (started, value)
            return value


def utcnow() -> datetime:
    """The current time, time-zone aware (UTC)."""
    return datetime.now(UTC)
