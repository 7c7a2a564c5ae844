"""iter_orders never skips an order, even while the shop keeps modifying orders mid-scan."""

from __future__ import annotations

import random
import threading

from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.orders import iter_orders


def _ids_at_start(shop) -> set[str]:
    with shop.sandbox.shop.lock:
        return {str(order_id) for order_id in shop.sandbox.shop.orders}


def test_scan_under_modifications_between_pages_skips_nothing(start_shop, make_site):
    shop = start_shop(orders=240)
    site = make_site(shop.url, settings={"per_page": 10})
    existing = _ids_at_start(shop)
    rng = random.Random(5)
    yielded: list = []
    with WooClient(site) as client:
        for summary in iter_orders(client, None, []):
            yielded.append(summary)
            if len(yielded) % 7 == 0:
                # Modify orders already seen: with page numbers every such change would shift
                # the unseen orders one place forward and lose one of them.
                for order_id in rng.sample(sorted(existing), 3):
                    shop.sandbox.shop.touch(int(order_id))
    seen = {summary.id for summary in yielded}
    assert existing <= seen
    stamps = [summary.modified_at for summary in yielded]
    assert stamps == sorted(stamps)


def test_scan_under_concurrent_modifications_skips_nothing(start_shop, make_site):
    shop = start_shop(orders=200, latency_ms=5)
    site = make_site(shop.url, settings={"per_page": 15})
    existing = _ids_at_start(shop)
    stop = threading.Event()

    def modify() -> None:
        rng = random.Random(11)
        ids = sorted(int(order_id) for order_id in existing)
        while not stop.is_set():
            shop.sandbox.shop.touch(rng.choice(ids))
            stop.wait(0.002)

    worker = threading.Thread(target=modify, daemon=True)
    worker.start()
    try:
        with WooClient(site) as client:
            yielded = list(iter_orders(client, None, []))
    finally:
        stop.set()
        worker.join(5)
    assert existing <= {summary.id for summary in yielded}
    stamps = [summary.modified_at for summary in yielded]
    assert stamps == sorted(stamps)


def test_cursor_second_is_inclusive_and_ties_are_all_yielded(start_shop, make_site):
    shop = start_shop(orders=0)
    store = shop.sandbox.shop
    from ledgerbridge_woocommerce.sandbox.catalogue import BUYERS

    created = [
        store.create_order(
            buyer=BUYERS[0],
            items=[(store.products[313], 1)],
            status="processing",
            created=store.now(),
            notify=False,
        )
        for _ in range(25)
    ]
    moment = created[0].created
    for record in created:
        record.modified = moment  # 25 orders saved in the same second
    site = make_site(shop.url, settings={"per_page": 4})
    with WooClient(site) as client:
        all_ids = [s.id for s in iter_orders(client, None, [])]
        from_cursor = [s.id for s in iter_orders(client, moment, [])]
    assert sorted(all_ids) == sorted(str(r.id) for r in created)
    assert len(all_ids) == len(set(all_ids))
    assert sorted(from_cursor) == sorted(all_ids)
