"""Daily summaries through the pipeline, and the scheduled upkeep jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rq.serializers import JSONSerializer
from sqlalchemy import select

from ledgerbridge.model import Refund
from ledgerbridge.pipeline import clock
from ledgerbridge.pipeline.maintenance import check_webhooks, sync_inventory
from ledgerbridge.pipeline.summary import close_daily_summaries
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.worker import InProcessWorker, tick
from ledgerbridge.setup.routes import get_route, update_route
from ledgerbridge.store.models import Export, ExportState, Notice, Site
from tests.support.factories import sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]

DAY = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def work(world) -> None:
    InProcessWorker(
        world.runtime.queue.rq_queues(), connection=world.redis, serializer=JSONSerializer
    ).work(burst=True)


def test_cash_sales_of_a_day_become_one_summary_document(world):
    runtime = world.runtime
    with runtime.transaction() as session:
        update_route(
            runtime,
            session,
            get_route(session, world.route_id),
            actor="test",
            settings={"daily_summary": True, "default_document_type": "cash_sale"},
        )
    for number in range(1, 5):
        world.put_order(
            sample_order(
                str(number), payment_method="swish", modified_at=DAY + timedelta(hours=number)
            )
        )
    with clock.freeze(DAY + timedelta(hours=6)):
        for number in range(1, 5):
            request_sync(runtime, world.site_id, str(number), "webhook")
        work(world)
        assert world.documents() == []  # cash sales wait for the day to end
        assert close_daily_summaries(runtime) == []  # the day has not ended yet
    with clock.freeze(DAY + timedelta(days=1)):
        summaries = close_daily_summaries(runtime)
        assert len(summaries) == 1
        assert close_daily_summaries(runtime) == []  # never a second summary for the day
        work(world)
    documents = world.documents()
    assert len(documents) == 1
    assert documents[0]["total"] == "1000.00"
    assert documents[0]["reference"] == f"TS-DAY-2026-11-19-{world.route_id}"
    with runtime.transaction() as session:
        members = session.scalars(select(Export).where(Export.kind == "order")).all()
        assert {member.state for member in members} == {ExportState.DONE}
        assert {member.target_id for member in members} == {documents[0]["number"]}
    # each order is told where it was booked
    assert world.notes("1")[-1]["note"].startswith("Bokförd i Memory ledger")

    # a refund of one of the day's sales is credited against the summary's document
    refunded = sample_order("2", payment_method="swish", modified_at=DAY + timedelta(days=2))
    refunded = refunded.replace(
        refunds=(Refund(id="R2", amount=Decimal("250.00"), created_at=DAY + timedelta(days=2)),)
    )
    world.put_order(refunded)
    request_sync(runtime, world.site_id, "2", "webhook")
    work(world)
    credit = world.documents()[-1]
    assert credit["kind"] == "credit_note"
    assert credit["total"] == "250.00"
    with runtime.transaction() as session:
        refund_export = session.scalar(select(Export).where(Export.kind == "refund"))
        assert refund_export.result["details"] == {"original": documents[0]["number"]}


def test_disabled_webhooks_are_repaired_and_reported(world):
    world.redis.hset(f"{world.namespace}:webhook", "status", "disabled")
    report = check_webhooks(world.runtime)
    assert report[world.site_id][0]["repaired"] is True
    with world.runtime.transaction() as session:
        site = session.get(Site, world.site_id)
        assert site.webhooks["ok"] is True
        assert site.webhooks["webhooks"][0]["delivery_url"].endswith("/webhooks/memshop/test-shop")
        notice = session.scalar(select(Notice).where(Notice.kind == "webhook_repaired"))
        assert "re-enabled" in notice.message


def test_inventory_is_copied_from_the_ledger_to_the_shop(world):
    assert sync_inventory(world.runtime, world.route_id) == 1
    assert world.redis.hget(f"{world.namespace}:stock", "SKU-1") == b"7"
    assert sync_inventory(world.runtime, world.route_id) == 0  # nothing changed: no write


def test_the_ticker_queues_each_periodic_job_once_per_period(world):
    runtime = world.runtime
    with runtime.transaction() as session:
        update_route(
            runtime,
            session,
            get_route(session, world.route_id),
            actor="test",
            settings={"sync_stock": True},
        )
    moment = 1_800_000_000.0
    first = tick(runtime, moment)
    assert sorted(job.rsplit("-", 1)[0] for job in first) == [
        "tick-check_webhooks",
        f"tick-inventory-{world.route_id}",
        "tick-poll_sites",
        "tick-sweep",
    ]
    assert tick(runtime, moment + 1) == []  # a second worker's ticker queues nothing
    assert [job.rsplit("-", 1)[0] for job in tick(runtime, moment + 61)] == ["tick-sweep"]


def test_failures_are_written_back_in_plain_words(world):
    world.put_order(sample_order("5"))
    world.knob("config_error", "Fortnox says the API key is revoked")
    request_sync(world.runtime, world.site_id, "5", "webhook")
    work(world)
    note = world.notes("5")[-1]
    assert note["note"] == (
        "Kunde inte bokföras i Memory ledger (TS-5): Fortnox says the API key is revoked"
    )
    assert note["state"] == "failed"
    assert json.dumps(note)
