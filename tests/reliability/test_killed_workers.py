"""Three workers, one of them SIGKILLed (with its work horse) every few seconds and restarted:
every order still ends booked exactly once, as the target sandbox's own listing shows."""

from __future__ import annotations

import random
import time

import pytest

from tests.reliability.conftest import targets_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.mark.parametrize("target", targets_for("fortnox"))
def test_random_worker_killed_every_few_seconds(make_installation, sizes, target):
    setup = make_installation(target, orders=sizes.orders)
    setup.predict()
    assert sum(e.state == "done" for e in setup.expected.values()) >= sizes.orders // 2

    setup.workers.start_all()
    setup.start_sweeper()
    setup.announce_all()
    chooser = random.Random(9)
    cycles = 0
    left = setup.unsettled()
    while left and cycles < sizes.kill_cycles:
        time.sleep(chooser.uniform(1.5, 4.0))
        setup.workers.kill(chooser.randrange(len(setup.workers.processes)))
        cycles += 1
        time.sleep(chooser.uniform(0.2, 1.0))
        setup.workers.revive()
        left = setup.unsettled()
    assert cycles >= min(sizes.kill_cycles, 3), "the run ended before the workers were killed"

    left = setup.settle(sizes.settle_seconds, while_waiting=setup.workers.revive)
    assert not left, f"{len(left)} unfinished: {left[:20]}\n{setup.workers.logs()}"
    verdict = setup.verify()
    assert verdict.ok, "\n".join(verdict.problems[:40])
    print(
        f"\n{target}: {setup.workers.kills} kills, {verdict.booked} booked, "
        f"{verdict.skipped} skipped, {verdict.review} held for review by the rules, "
        f"{verdict.documents} documents in the ledger"
    )
