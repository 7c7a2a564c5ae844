"""A burst of 429s longer than a client's retries is waited out inside the client.

``with_retries`` stops after ``attempts`` for ordinary transient errors (a 5xx, a timeout:
the job-level retry and the step's look-up take over), but an error the remote *refused*
(a 429: it did nothing) keeps being retried, honouring its Retry-After, until ``patience``
seconds have passed, so a 429 burst never becomes a failed attempt.
"""

from __future__ import annotations

import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.http import with_retries


def flaky(failures: int, error: TransientError):
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error
        return "ok"

    return call, calls


def test_refusals_are_retried_past_the_attempts_within_the_patience():
    call, calls = flaky(9, TransientError("429", retry_after=5.0, refused=True))
    waits: list[float] = []
    assert with_retries(call, attempts=5, patience=120.0, sleep=waits.append) == "ok"
    assert calls["n"] == 10
    assert waits == [5.0] * 9


def test_without_patience_refusals_stop_at_the_attempts():
    call, calls = flaky(9, TransientError("429", retry_after=5.0, refused=True))
    with pytest.raises(TransientError):
        with_retries(call, attempts=5, sleep=lambda seconds: None)
    assert calls["n"] == 5


def test_unknown_outcomes_stop_at_the_attempts_whatever_the_patience():
    call, calls = flaky(9, TransientError("502 after sending"))
    with pytest.raises(TransientError):
        with_retries(call, attempts=5, patience=120.0, sleep=lambda seconds: None)
    assert calls["n"] == 5
