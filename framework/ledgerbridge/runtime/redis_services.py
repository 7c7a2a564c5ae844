"""Services shared by every worker on every machine, backed by Redis.

* locks: redis-py's Lua-based :class:`redis.lock.Lock` (token-owned, expiring);
* throttle: a sliding window per API key (:mod:`ledgerbridge.runtime.redis_throttle`), so
  all workers together stay under each API's requests-per-window;
* cache and counters: plain Redis keys with expiry. Every key carries the installation prefix.

Redis is the transport, not the truth: when it is unreachable (restarted, failed over) every
service raises :class:`~ledgerbridge.errors.TransientError`, so the work is retried later
instead of being recorded as a bug; a lock whose key vanished with a restart is simply no
longer extended (the export's database lease still keeps a second run out).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis

from ledgerbridge.errors import TransientError
from ledgerbridge.runtime.redis_throttle import RedisThrottle
from ledgerbridge.services import Claim, LockBusy, RateLimit

#: Errors that mean "Redis is not there right now".
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def unreachable(error: BaseException) -> TransientError:
    """The TransientError that stands for a Redis outage."""
    return TransientError(
        f"The shared Redis is unreachable ({type(error).__name__}); will retry.",
        retry_after=5.0,
        refused=True,
    )


def _keep_alive(lock: Any, timeout: float, stop: threading.Event) -> None:
    # Extend the lock while its holder works, so a short timeout only matters when the
    # holder has died (a killed worker frees its locks within ``timeout``).
    while not stop.wait(max(timeout / 3, 0.05)):
        try:
            lock.reacquire()
        except (redis.exceptions.LockError, *UNREACHABLE):
            return


class RedisCache:
    """JSON values in Redis with expiry."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self._redis = connection
        self._prefix = f"{prefix}:cache:"

    def get(self, key: str) -> Any | None:
        try:
            raw = self._redis.get(self._prefix + key)
        except UNREACHABLE as error:
            raise unreachable(error) from error
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            self._redis.set(self._prefix + key, json.dumps(value), px=max(int(ttl * 1000), 1))
        except UNREACHABLE as error:
            raise unreachable(error) from error

    def delete(self, key: str) -> None:
        try:
            self._redis.delete(self._prefix + key)
        except UNREACHABLE as error:
            raise unreachable(error) from error


class RedisServices:
    """Locks, throttle, cache and counters for a fleet of workers."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self._redis = connection
        self._prefix = prefix
        self.cache = RedisCache(connection, prefix)
        self._throttle = RedisThrottle(connection, prefix)

    @contextmanager
    def lock(self, name: str, *, timeout: float = 60.0, wait: float = 60.0) -> Iterator[None]:
        lock = self._redis.lock(
            f"{self._prefix}:lock:{name}",
            timeout=timeout,
            blocking_timeout=wait,
            thread_local=False,
        )
        try:
            acquired = lock.acquire(blocking=True)
        except UNREACHABLE as error:
            raise unreachable(error) from error
        if not acquired:
            raise LockBusy(f"Another worker holds the lock {name!r}; will retry.")
        stop = threading.Event()
        keeper = threading.Thread(
            target=_keep_alive, args=(lock, timeout, stop), name=f"lock-{name}", daemon=True
        )
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join(timeout=5)
            # The lock may have expired (holder paused past its timeout) or vanished with a
            # Redis restart: nothing to release.
            with contextlib.suppress(redis.exceptions.LockError, *UNREACHABLE):
                lock.release()

    def throttle(self, key: str, limit: RateLimit) -> Callable[[], None]:
        try:
            return self._throttle.take(key, limit)
        except UNREACHABLE as error:
            raise unreachable(error) from error

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
        """See :meth:`ledgerbridge.services.MemoryServices.claim`."""
        try:
            return self._throttle.claim(key, limit, requests, ahead=ahead, ttl=ttl, force=force)
        except UNREACHABLE as error:
            raise unreachable(error) from error

    def release(self, claim: Claim) -> None:
        """Give up what is left of ``claim``."""
        try:
            self._throttle.release(claim)
        except UNREACHABLE as error:
            raise unreachable(error) from error

    def count(self, key: str, *, period_seconds: float) -> int:
        full_key = f"{self._prefix}:count:{key}"
        try:
            with self._redis.pipeline() as pipe:
                pipe.incr(full_key)
                pipe.expire(full_key, max(int(period_seconds), 1), nx=True)
                value, _ = pipe.execute()
        except UNREACHABLE as error:
            raise unreachable(error) from error
        return int(value)


class ScopedServices:
    """Shared services plus the durable key-value store of one site or ledger.

    ``throttles`` (shared by the runtime's scopes) learns which rate limit each scope's
    connector throttles to, so the pipeline can ask how busy a ledger's API is.
    """

    def __init__(
        self,
        base: Any,
        store: Any,
        *,
        scope: str = "",
        throttles: dict[str, tuple[str, RateLimit]] | None = None,
    ) -> None:
        self._base = base
        self.cache = base.cache
        self.store = store
        self._scope = scope
        self._throttles = throttles

    def lock(self, name: str, *, timeout: float = 60.0, wait: float = 60.0) -> Any:
        return self._base.lock(name, timeout=timeout, wait=wait)

    def throttle(self, key: str, limit: RateLimit) -> Callable[[], None]:
        if self._throttles is not None:
            self._throttles[self._scope] = (key, limit)
        return self._base.throttle(key, limit)

    def count(self, key: str, *, period_seconds: float) -> int:
        return self._base.count(key, period_seconds=period_seconds)
