"""The shared request throttle, in memory and in Redis: departures or answers counted, and
the claims running jobs hold on a window."""

from __future__ import annotations

import time

import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.services import RateLimit, current_claim


def has_room(services, key: str, limit: RateLimit, requests: int = 1, ahead: float = 0.0):
    """Whether ``requests`` more would fit now (claims them, then gives them back)."""
    claim = services.claim(key, limit, requests, ahead=ahead, ttl=5.0)
    if claim is not None:
        services.release(claim)
    return claim is not None


def test_departures_counted_free_a_slot_one_window_after_the_first_left(services):
    limit = RateLimit(2, 1.0)
    started = time.monotonic()
    services.throttle("api", limit)()
    services.throttle("api", limit)()
    assert not has_room(services, "api", limit)
    services.throttle("api", limit)  # waits for the slot
    assert time.monotonic() - started >= 0.99


def test_answers_counted_free_a_slot_one_window_after_the_answer(services):
    limit = RateLimit(2, 1.0, settle_within=10.0)
    first = services.throttle("api", limit)
    second = services.throttle("api", limit)
    assert not has_room(services, "api", limit, ahead=5.0)  # on their way, they count
    time.sleep(0.3)
    answered = time.monotonic()
    first()
    second()
    second()  # settling twice changes nothing
    # Counted from the answers, 0.3 s after departure: a departure count would free both
    # slots 0.75 s from now.
    assert not has_room(services, "api", limit, ahead=0.75)
    services.throttle("api", limit)
    assert time.monotonic() - answered >= 0.99


def test_an_answer_never_comes_the_request_counts_until_settle_within(services):
    limit = RateLimit(1, 0.5, settle_within=0.3)
    started = time.monotonic()
    services.throttle("api", limit)  # its worker died: never settled
    services.throttle("api", limit)
    assert time.monotonic() - started >= 0.79  # 0.3 s on its way, then the 0.5 s window


def test_keys_are_separate(services):
    limit = RateLimit(1, 30.0)
    services.throttle("one", limit)
    assert has_room(services, "two", limit)
    assert not has_room(services, "one", limit)


def test_a_saturated_limit_past_max_wait_is_a_transient_error(services):
    limit = RateLimit(1, 30.0, max_wait=1.0)
    services.throttle("api", limit)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        services.throttle("api", limit)
    assert time.monotonic() - started < 1.0  # gives up at once, does not sit out the wait
    assert 29 < caught.value.retry_after <= 30
    assert "1 per 30 s" in str(caught.value) and "saturated" in str(caught.value)


def test_a_claim_holds_room_for_the_requests_its_job_has_yet_to_send(services):
    limit = RateLimit(5, 30.0)
    services.throttle("api", limit)
    running = services.claim("api", limit, 3, ahead=0.1, ttl=30.0)
    assert running is not None
    assert services.claim("api", limit, 2, ahead=0.1, ttl=30.0) is None  # 1 sent + 3 claimed
    assert has_room(services, "api", limit, 1)
    assert has_room(services, "other", limit, 5)  # claims are per key

    # The running job's requests count against its own claim, not against the room left.
    reset = current_claim.set(running)
    try:
        services.throttle("api", limit)
        services.throttle("api", limit)
    finally:
        current_claim.reset(reset)
    assert running.taken == 2
    assert has_room(services, "api", limit, 1)  # 3 sent + 1 claimed
    assert not has_room(services, "api", limit, 2)
    services.release(running)
    assert has_room(services, "api", limit, 2)

    # Without room, only a forced claim is made (it still counts for everyone else).
    assert services.claim("api", limit, 3, ahead=0.1, ttl=30.0) is None
    forced = services.claim("api", limit, 3, ahead=0.1, ttl=30.0, force=True)
    assert forced is not None
    assert not has_room(services, "api", limit, 1)


def test_a_claim_whose_job_died_lapses_after_its_ttl(services):
    limit = RateLimit(2, 30.0)
    assert services.claim("api", limit, 2, ahead=0.0, ttl=0.3) is not None  # never released
    assert not has_room(services, "api", limit)
    time.sleep(0.35)
    assert has_room(services, "api", limit, 2)


def test_room_counts_what_leaves_the_window_within_ahead(services):
    limit = RateLimit(1, 0.5)
    services.throttle("api", limit)
    assert not has_room(services, "api", limit, ahead=0.1)
    assert has_room(services, "api", limit, ahead=0.6)  # gone from the window by then
