"""The request throttle shared by every worker: a sliding window per key in Redis.

Each request takes a slot in a sorted set, scored by the moment it counts from. A limit with
``settle_within`` scores a request as arriving ``settle_within`` seconds after its departure
and moves the score back to the moment its answer arrived once it has (``settle``), so the
window is counted from answers: whatever the network does, the API (which counts arrivals,
somewhere between departure and answer) never sees more than the limit in any window.

Why not the ``limits`` library, which did this before: its moving window records a hit once,
at departure, and cannot move it, so clients had to stay a few requests under the limit to
absorb network jitter (Fortnox's sliding window answers 429 to clients sending exactly 5/s).
Every step runs as one Lua script with Redis's own clock (``TIME``), so workers on several
machines share one clock and one atomic check.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable

import redis

from ledgerbridge.services import IN_FLIGHT_POLL, RateLimit, counted_from_departure, wait_for_slot

# KEYS[1]: the window. ARGV: requests, per_seconds, settle_within, ticket ("" only looks),
# the poll interval. Returns "0" when the slot was taken (or is free), else the seconds to
# wait as a string (a Lua number returned to Redis would be cut to an integer).
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local requests, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local hold, ticket = tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < requests then
  if ticket ~= '' then
    redis.call('ZADD', KEYS[1], now + hold, ticket)
    redis.call('PEXPIRE', KEYS[1], math.ceil((hold + per) * 1000) + 1000)
  end
  return '0'
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
local wait = oldest + per - now
if oldest > now then wait = math.min(wait, tonumber(ARGV[5])) end
return tostring(math.max(wait, 0.001))
"""

# KEYS[1]: the window; ARGV[1]: the ticket. The request counts from now, if that is earlier.
_SETTLE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', 'LT', now, ARGV[1])
"""


class RedisThrottle:
    """Sliding-window rate limits shared through Redis (callers map Redis errors)."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._take = connection.register_script(_TAKE)
        self._settle = connection.register_script(_SETTLE)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:throttle:{key}"

    def _try(self, key: str, limit: RateLimit, ticket: str) -> float:
        answer = self._take(
            keys=[self._key(key)],
            args=[limit.requests, limit.per_seconds, limit.settle_within, ticket, IN_FLIGHT_POLL],
        )
        return float(answer)

    def delay(self, key: str, limit: RateLimit) -> float:
        """Seconds before one more request under ``key`` would fit ``limit`` (0: now)."""
        return self._try(key, limit, "")

    def take(self, key: str, limit: RateLimit) -> Callable[[], None]:
        """Block for a slot under ``key``; returns the request's ``settle``."""
        ticket = secrets.token_hex(8)
        wait_for_slot(lambda: self._try(key, limit, ticket), limit)
        if not limit.settle_within:
            return counted_from_departure
        full_key = self._key(key)

        def settle() -> None:
            # Unsettled, the slot stays counted until ``settle_within`` ends: only slower.
            with contextlib.suppress(redis.exceptions.RedisError):
                self._settle(keys=[full_key], args=[ticket])

        return settle
