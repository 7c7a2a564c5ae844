"""The shared services under test: the embedded ones and the Redis-backed ones."""

from __future__ import annotations

import pytest

from ledgerbridge.services import MemoryServices


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def services(request):
    """The embedded services or the Redis-backed ones, on a private key prefix."""
    if request.param == "memory":
        return MemoryServices()
    import redis

    from ledgerbridge.runtime.redis_services import RedisServices

    url = request.getfixturevalue("redis_url")
    return RedisServices(redis.Redis.from_url(url), request.getfixturevalue("redis_prefix"))
