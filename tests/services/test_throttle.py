"""The shared request throttle, in memory and in Redis: departures or answers counted."""

from __future__ import annotations

import time

import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.services import IN_FLIGHT_POLL, RateLimit


def test_departures_counted_free_a_slot_one_window_after_the_first_left(services):
    limit = RateLimit(2, 1.0)
    started = time.monotonic()
    services.throttle("api", limit)()
    services.throttle("api", limit)()
    delay = services.throttle_delay("api", limit)
    assert 0.8 < delay <= 1.0 - (time.monotonic() - started) + 0.01
    services.throttle("api", limit)  # waits for the slot
    assert time.monotonic() - started >= 0.99


def test_answers_counted_free_a_slot_one_window_after_the_answer(services):
    limit = RateLimit(2, 1.0, settle_within=10.0)
    first = services.throttle("api", limit)
    second = services.throttle("api", limit)
    # Both on their way: when a slot frees is unknown, so the caller looks again soon.
    assert 0 < services.throttle_delay("api", limit) <= IN_FLIGHT_POLL
    time.sleep(0.3)
    answered = time.monotonic()
    first()
    second()
    second()  # settling twice changes nothing
    # Counted from the answers, 0.3 s after departure: a departure count would say 0.7 s.
    assert services.throttle_delay("api", limit) > 0.9 - (time.monotonic() - answered)
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
    assert services.throttle_delay("two", limit) == 0.0
    assert services.throttle_delay("one", limit) > 29


def test_a_saturated_limit_past_max_wait_is_a_transient_error(services):
    limit = RateLimit(1, 30.0, max_wait=1.0)
    services.throttle("api", limit)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        services.throttle("api", limit)
    assert time.monotonic() - started < 1.0  # gives up at once, does not sit out the wait
    assert 29 < caught.value.retry_after <= 30
    assert "1 per 30 s" in str(caught.value) and "saturated" in str(caught.value)
