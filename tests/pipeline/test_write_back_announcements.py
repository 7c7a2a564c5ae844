"""WooCommerce announces our own write-back (the status meta we PUT on the order) like any
change; the web app answers those deliveries without fetching the order again, and still
fetches every real change — through the served web app, the shop and ledger sandboxes, and the
real pipeline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from ledgerbridge.demo import world
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import Export, ExportState, SyncRequest
from ledgerbridge.testing.servers import serve_wsgi
from tests.support.installations import embedded_installation

pytestmark = pytest.mark.db


@pytest.fixture
def installation(tmp_path, database_url) -> Iterator[tuple[Runtime, Any]]:
    from ledgerbridge_webui.app import create_app

    with (
        embedded_installation(tmp_path / "instance", database_url, "announcements") as (
            runtime,
            port,
        ),
        world.sandboxes(runtime, 12) as boxes,
        serve_wsgi(create_app(runtime), port=port),
    ):
        setup = world.configure(runtime, boxes)
        world.register_webhooks(runtime, setup.site_id)
        world.deliveries(boxes, wait=5)  # the creation pings
        yield runtime, boxes


def _answers(log: list[dict[str, Any]], since: int) -> dict[int, Counter]:
    """Per order, how the web app answered its order.updated deliveries after ``since``."""
    answers: dict[int, Counter] = {}
    for entry in log[since:]:
        if entry["topic"] == "order.updated":
            answers.setdefault(entry["order_id"], Counter())[entry["status"]] += 1
    return answers


def _shop(boxes) -> Any:
    from ledgerbridge_woocommerce.sandbox import sandbox_of

    return sandbox_of(boxes.shop.app).shop


def _settle(runtime: Runtime, boxes) -> list[dict[str, Any]]:
    # A write-back's own announcement arrives after the job that wrote it: wait for both.
    for _ in range(3):
        world.deliveries(boxes, wait=3)
        assert runtime.queue.wait_idle(180)
    return world.deliveries(boxes, wait=3)


def test_our_write_backs_are_not_fetched_again_but_real_changes_are(installation):
    runtime, boxes = installation
    shop = _shop(boxes)
    start = len(world.deliveries(boxes))
    for order_id in list(shop.orders):  # every order saved once: announced
        shop.touch(order_id)
    log = _settle(runtime, boxes)

    with runtime.transaction() as session:
        written_back = {
            order_id
            for (order_id,) in session.execute(
                select(Export.source_id).where(
                    Export.kind == "order",
                    Export.state == ExportState.DONE,
                    Export.written_back.is_(True),
                )
            )
        }
        assert session.scalar(select(func.count()).select_from(SyncRequest)) == 0
    assert written_back, "the seeded shop has completed orders to book"
    answers = _answers(log, start)
    for order_id in shop.orders:
        # The shop's own save is fetched (202); the write-backs' announcements (one per ledger,
        # or one for both when the shop coalesces them) are not (200).
        assert answers[order_id][202] == 1, (order_id, answers[order_id])
        if str(order_id) in written_back:
            assert answers[order_id][200] >= 1, (order_id, answers[order_id])

    # A real change after the write-back is fetched again.
    changed = int(next(iter(written_back)))
    start = len(log)
    shop.update_order(changed, {"customer_note": "Ring innan leverans"})
    log = _settle(runtime, boxes)
    assert _answers(log, start)[changed][202] == 1
