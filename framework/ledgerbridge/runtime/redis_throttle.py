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

Claims (:class:`~ledgerbridge.services.Claim`) live beside each window: a hash of the
requests each running job still expects to send, and a sorted set of when each claim lapses
(a claim whose worker died is forgotten then).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable

import redis

from ledgerbridge.services import (
    IN_FLIGHT_POLL,
    Claim,
    RateLimit,
    claim_for,
    counted_from_departure,
    wait_for_slot,
)

# KEYS: the window, the claims (token -> requests left). ARGV: requests, per_seconds,
# settle_within, ticket, the poll interval, the claim's token ("" when none). Returns "0"
# when the slot was taken, else the seconds to wait as a string (a Lua number returned to
# Redis would be cut to an integer).
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local requests, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local hold, ticket, claim = tonumber(ARGV[3]), ARGV[4], ARGV[6]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < requests then
  redis.call('ZADD', KEYS[1], now + hold, ticket)
  redis.call('PEXPIRE', KEYS[1], math.ceil((hold + per) * 1000) + 1000)
  if claim ~= '' and tonumber(redis.call('HGET', KEYS[2], claim) or '0') > 0 then
    redis.call('HINCRBY', KEYS[2], claim, -1)
  end
  return '0'
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
local wait = oldest + per - now
if oldest > now then wait = math.min(wait, tonumber(ARGV[5])) end
return tostring(math.max(wait, 0.001))
"""

# KEYS: the window, the claims, when each claim lapses. ARGV: requests, per_seconds, ahead,
# the claimed requests, the token, ttl, "1" to claim without room. Returns 1 when claimed.
_CLAIM = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local requests, per, ahead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wanted, ttl = tonumber(ARGV[4]), tonumber(ARGV[6])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
if #lapsed > 0 then
  redis.call('HDEL', KEYS[2], unpack(lapsed))
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
end
if ARGV[7] ~= '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
  local free = requests - redis.call('ZCOUNT', KEYS[1], now + ahead - per, '+inf')
  for _, left in ipairs(redis.call('HVALS', KEYS[2])) do free = free - tonumber(left) end
  if free < wanted then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[5], wanted)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[5])
local keep = math.ceil(ttl * 1000) + 1000
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('PEXPIRE', KEYS[3], keep)
return 1
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
        self._connection = connection
        self._take = connection.register_script(_TAKE)
        self._settle = connection.register_script(_SETTLE)
        self._claim = connection.register_script(_CLAIM)

    def _key(self, key: str, part: str = "throttle") -> str:
        return f"{self._prefix}:{part}:{key}"

    def claim(
        self, key: str, limit: RateLimit, requests: int, *, ahead: float, ttl: float, force: bool
    ) -> Claim | None:
        """See :meth:`ledgerbridge.services.MemoryServices.claim`."""
        claim = Claim(key)
        claimed = self._claim(
            keys=[self._key(key), self._key(key, "claims"), self._key(key, "claims-until")],
            args=[
                limit.requests,
                limit.per_seconds,
                ahead,
                requests,
                claim.token,
                ttl,
                "1" if force else "0",
            ],
        )
        return claim if int(claimed) else None

    def release(self, claim: Claim) -> None:
        """Give up what is left of ``claim``."""
        with self._connection.pipeline() as pipe:
            pipe.hdel(self._key(claim.key, "claims"), claim.token)
            pipe.zrem(self._key(claim.key, "claims-until"), claim.token)
            pipe.execute()

    def take(self, key: str, limit: RateLimit) -> Callable[[], None]:
        """Block for a slot under ``key``; returns the request's ``settle``."""
        ticket = secrets.token_hex(8)
        claim = claim_for(key)
        keys = [self._key(key), self._key(key, "claims")]
        args = [
            limit.requests,
            limit.per_seconds,
            limit.settle_within,
            ticket,
            IN_FLIGHT_POLL,
            claim.token if claim is not None else "",
        ]
        wait_for_slot(lambda: float(self._take(keys=keys, args=args)), limit)
        if claim is not None:
            claim.taken += 1
        if not limit.settle_within:
            return counted_from_departure
        full_key = self._key(key)

        def settle() -> None:
            # Unsettled, the slot stays counted until ``settle_within`` ends: only slower.
            with contextlib.suppress(redis.exceptions.RedisError):
                self._settle(keys=[full_key], args=[ticket])

        return settle
