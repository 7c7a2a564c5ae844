"""Bulk sync: counted progress to 100 %, dry runs, cancel and resume."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from ledgerbridge.pipeline import bulk
from ledgerbridge.queue.worker import InProcessWorker
from ledgerbridge.store.models import BulkRunItem, Export
from tests.support.factories import WHEN, sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]


def work(world) -> None:
    InProcessWorker(
        world.runtime.queue.rq_queues(), connection=world.redis, serializer=JSONSerializer
    ).work(burst=True)


def test_bulk_sync_reaches_one_hundred_percent(world):
    for number in range(1, 13):
        world.put_order(sample_order(str(number), modified_at=WHEN + timedelta(minutes=number)))
    world.put_order(sample_order("99", modified_at=WHEN + timedelta(days=3)))  # out of range
    world.knob("data_error", "")
    run_id = bulk.start(
        world.runtime,
        site_ids=[world.site_id],
        statuses=["completed"],
        modified_after=WHEN,
        modified_before=WHEN + timedelta(days=1),
        dry_run=False,
        actor="test",
    )
    assert bulk.progress(world.runtime, run_id)["percent"] == 0
    work(world)
    progress = bulk.progress(world.runtime, run_id)
    assert progress["state"] == "done"
    assert progress["percent"] == 100
    assert (progress["found"], progress["queued"], progress["done"]) == (12, 12, 12)
    assert len(world.documents()) == 12


def test_bulk_progress_counts_failures_and_waiting(world):
    from ledgerbridge.store.models import Ledger

    with world.runtime.transaction() as session:
        session.get(Ledger, world.ledger_id).plan = "free"
    world.runtime.forget_plans()
    for number in range(1, 19):
        world.put_order(sample_order(str(number), modified_at=WHEN + timedelta(minutes=number)))
    run_id = bulk.start(
        world.runtime,
        site_ids=[world.site_id],
        statuses=["completed"],
        modified_after=WHEN,
        modified_before=None,
        dry_run=False,
        actor="test",
    )
    work(world)
    progress = bulk.progress(world.runtime, run_id)
    assert (progress["done"], progress["waiting"], progress["pending"]) == (15, 3, 0)
    assert progress["percent"] == 100


def test_a_dry_run_previews_and_queues_nothing(world):
    for number in range(1, 6):
        world.put_order(sample_order(str(number), modified_at=WHEN + timedelta(minutes=number)))
    run_id = bulk.start(
        world.runtime,
        site_ids=[world.site_id],
        statuses=["completed"],
        modified_after=WHEN,
        modified_before=None,
        dry_run=True,
        actor="test",
    )
    work(world)
    progress = bulk.progress(world.runtime, run_id)
    assert progress["state"] == "done"
    assert progress["found"] == 5
    assert progress["summary"]["would_become"] == {"invoice / domestic": 5}
    assert progress["summary"]["previews"][0]["total"] == "250.00"
    with world.runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Export)) == 0
        assert session.scalar(select(func.count()).select_from(BulkRunItem)) == 0
    assert world.documents() == []


def test_cancel_stops_enumeration_and_resume_continues(world, monkeypatch):
    monkeypatch.setattr(bulk, "SAVE_EVERY", 5)
    for number in range(1, 21):
        world.put_order(sample_order(str(number), modified_at=WHEN + timedelta(minutes=number)))
    run_id = bulk.start(
        world.runtime,
        site_ids=[world.site_id],
        statuses=["completed"],
        modified_after=WHEN,
        modified_before=None,
        dry_run=False,
        actor="test",
    )
    original = bulk._save

    def save_then_cancel(runtime, run, found, cursor, summary):
        original(runtime, run, found, cursor, summary)
        if found == 10:
            bulk.cancel(runtime, run, "test")

    monkeypatch.setattr(bulk, "_save", save_then_cancel)
    work(world)
    progress = bulk.progress(world.runtime, run_id)
    assert progress["state"] == "cancelled"
    assert progress["queued"] == 10
    monkeypatch.setattr(bulk, "_save", original)
    assert bulk.resume(world.runtime, run_id, "test")
    work(world)
    progress = bulk.progress(world.runtime, run_id)
    assert (progress["state"], progress["queued"], progress["done"]) == ("done", 20, 20)
    assert len(world.documents()) == 20
