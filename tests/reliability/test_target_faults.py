"""The target misbehaves: a fifth of its answers are 5xx, one create in twenty answers only
after the client gave up (the document exists; the outcome is unknown to us), and bursts of
429 arrive. Every order still ends booked exactly once, and no 429 is ever what an attempt
failed with (they are waited out inside the client)."""

from __future__ import annotations

import pytest

from tests.reliability.conftest import targets_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(3600)]

ERROR_RATE = 0.20
LATE_CREATE_EVERY = 20  # one create in twenty answers after the client's timeout (5 %)
BURST = 6  # 429s in a row (more than a client's ordinary retries)...
BURST_EVERY = 60  # ...once per this many requests


@pytest.mark.parametrize("target", targets_for("fortnox"))
def test_5xx_late_creates_and_429_bursts(make_installation, sizes, target):
    setup = make_installation(target, orders=sizes.orders)
    setup.predict()
    armed = {"late": 0, "bursts": 0}

    def chaos() -> None:
        # Keep one late answer armed per LATE_CREATE_EVERY documents created so far (the
        # sandbox applies it to the next create), and one burst of 429s per BURST_EVERY
        # requests.
        created = setup.target.listing().count()
        while armed["late"] <= created // LATE_CREATE_EVERY:
            setup.target.fail_some_creates(1)
            armed["late"] += 1
        requests = setup.target.stats()["requests"]
        while armed["bursts"] <= requests // BURST_EVERY:
            setup.target.burst_429(BURST)
            armed["bursts"] += 1

    setup.target.knobs(error_rate=ERROR_RATE)
    setup.workers.start_all()
    setup.start_sweeper()
    setup.every(1.0, chaos)
    setup.announce_all()

    left = setup.settle(sizes.settle_seconds, while_waiting=setup.workers.revive)
    assert not left, f"{len(left)} unfinished: {left[:20]}\n{setup.workers.logs()}"
    setup.target.knobs(error_rate=0)
    verdict = setup.verify()
    assert verdict.ok, "\n".join(verdict.problems[:40])
    failed = setup.failed_attempts()
    surfaced = [message for _, status, message in failed if status == 429]
    assert not surfaced, surfaced[:5]
    stats = setup.target.stats()
    # Every armed 429 was answered, or is still waiting for a request: the last burst may be
    # armed after the final request of the run.
    assert stats["rate_limited"] + setup.target.pending_429() >= armed["bursts"] * BURST
    assert stats["rate_limited"] >= BURST
    assert armed["late"] >= 1
    print(
        f"\n{target}: {verdict.booked} booked exactly once; {stats['requests']} requests, "
        f"{stats['rate_limited']} answered 429 (none surfaced), {armed['late']} creates "
        f"answered late, {len(failed)} attempts retried"
    )
