"""Webhooks as they really arrive: every delivery three times, out of order, and one order in
ten never announced at all. The endpoint collapses the copies onto one job, and the polling
fallback finds the orders whose webhook was dropped: exactly one document per order."""

from __future__ import annotations

import pytest

from ledgerbridge.pipeline.maintenance import check_webhooks
from ledgerbridge.pipeline.polling import poll_site
from ledgerbridge.store.models import Export
from tests.reliability.conftest import targets_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(3600)]


def _exported(setup) -> set[str]:
    from sqlalchemy import select

    with setup.runtime.transaction() as session:
        return set(session.scalars(select(Export.source_id).where(Export.kind == "order")))


@pytest.mark.parametrize("target", targets_for("bokio"))
def test_triple_out_of_order_and_dropped_webhooks(make_installation, sizes, target):
    setup = make_installation(target, orders=sizes.orders, web=True)
    setup.predict()
    shop = setup.shop
    report = check_webhooks(setup.runtime, setup.site_id)[setup.site_id]
    assert {entry["topic"] for entry in report} >= {"order.created", "order.updated"}
    assert shop.deliverer.wait_idle(30)  # the creation pings
    shop.deliverer.clear()
    shop.knobs.update({"copies": 3, "reorder": True, "drop_rate": 0.10})

    setup.workers.start_all()
    setup.start_sweeper()
    for order_id in setup.order_ids():  # every order is saved again: order.updated
        shop.shop.touch(int(order_id))
    assert shop.deliverer.wait_idle(300)

    touched = [entry for entry in shop.deliverer.log if entry.topic == "order.updated"]
    announced = {str(entry.order_id) for entry in touched if entry.ok}
    dropped = {str(entry.order_id) for entry in touched if entry.dropped} - announced
    wanted = {source for kind, source in setup.expected if kind == "order"}
    assert dropped & wanted, "no exportable order lost its webhook: nothing for polling to do"
    copies = [entry for entry in touched if entry.ok and entry.order_id == touched[-1].order_id]
    assert len(copies) in (0, 3)

    # The webhooks alone bring in every announced order and none of the dropped ones.
    left = setup.settle(sizes.settle_seconds, missing_is_settled=True)
    exported = _exported(setup)
    assert exported & dropped == set()
    assert wanted - dropped <= exported, sorted(wanted - dropped - exported)[:20]
    assert all(entry.endswith(" missing") for entry in left), left[:20]
    assert {entry for entry in left if entry.startswith("order:")} == {
        f"order:{order} missing" for order in wanted & dropped
    }

    # The polling fallback finds the rest.
    shop.knobs.update({"copies": 1, "reorder": False, "drop_rate": 0})
    assert poll_site(setup.runtime, setup.site_id) >= len(wanted)
    left = setup.settle(sizes.settle_seconds, while_waiting=setup.workers.revive)
    assert not left, f"{len(left)} unfinished: {left[:20]}\n{setup.workers.logs()}"
    verdict = setup.verify()
    assert verdict.ok, "\n".join(verdict.problems[:40])
    print(
        f"\n{target}: {len(touched)} deliveries of order.updated, {len(dropped)} orders "
        f"dropped, {len(dropped & wanted)} of them exportable, found by polling; "
        f"{verdict.booked} booked exactly once"
    )
