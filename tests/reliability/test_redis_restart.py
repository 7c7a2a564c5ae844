"""Redis is only the transport: kill it mid-run (every queued job, lock, throttle window and
worker registration is gone) and start it again empty; the workers wait for it and carry on,
the database still knows every export that is unfinished, the sweeper queues them again, and
every order ends booked exactly once."""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import targets_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(3600)]


def _booked(setup) -> int:
    return len(setup.target.listing().references())


@pytest.mark.parametrize("target", targets_for("bokio"))
def test_redis_flushed_and_restarted_mid_run(make_installation, private_redis, sizes, target):
    setup = make_installation(target, orders=sizes.orders)
    setup.predict()
    wanted = sum(e.state == "done" for e in setup.expected.values())

    setup.workers.start_all()
    setup.start_sweeper()
    setup.announce_all()
    restarts = 0
    for restart in range(sizes.redis_restarts):
        # restart when a share of the documents is booked, while the rest are in flight
        threshold = wanted * (restart + 1) // (sizes.redis_restarts + 2)
        deadline = time.monotonic() + sizes.settle_seconds
        while _booked(setup) < threshold and time.monotonic() < deadline:
            time.sleep(0.5)
        private_redis.restart(down_for=1.5)
        restarts += 1
    assert restarts == sizes.redis_restarts
    assert _booked(setup) < wanted, "the run finished before Redis went away"

    # No supervisor here: the workers must outlive Redis by themselves.
    left = setup.settle(sizes.settle_seconds)
    assert not left, f"{len(left)} unfinished: {left[:20]}\n{setup.workers.logs()}"
    alive = [process is not None and process.poll() is None for process in setup.workers.processes]
    assert all(alive), f"a worker died with Redis\n{setup.workers.logs()}"
    verdict = setup.verify()
    assert verdict.ok, "\n".join(verdict.problems[:40])
    print(
        f"\n{target}: {restarts} Redis restarts, {verdict.booked} booked, {verdict.skipped} "
        f"skipped, {verdict.review} held for review by the rules, {verdict.documents} documents"
    )
