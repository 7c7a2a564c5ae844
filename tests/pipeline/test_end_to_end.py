"""The pipeline end to end: test-only connectors (a fake installed distribution), real Redis,
a real database, and ``ledgerbridge worker`` as a real subprocess.

"Exactly once" is checked by listing what the test ledger created, not by our own tables.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from ledgerbridge.model import Refund, RefundLine, RefundLineKind
from ledgerbridge.pipeline import ids
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.rq_backend import queue_name
from ledgerbridge.store.models import Binding, Export, ExportAttempt, ExportState
from tests.support.factories import WHEN, sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]


def exports_by_source(world) -> dict[tuple[str, str], Export]:
    with world.runtime.transaction() as session:
        return {(e.kind, e.source_id): e for e in session.scalars(select(Export))}


def refunded(order_id: str):
    order = sample_order(order_id, total="250.00")
    refund = Refund(
        id=f"R{order_id}",
        amount=Decimal("125.00"),
        created_at=WHEN + timedelta(hours=2),
        lines=(
            RefundLine(
                kind=RefundLineKind.ITEM,
                original_line_id="1",
                quantity=Decimal("0"),
                total=Decimal("100.00"),
                total_tax=Decimal("25.00"),
                vat_rate=Decimal("25"),
            ),
        ),
        reason="Trasig",
    )
    return order.replace(refunds=(refund,), modified_at=WHEN + timedelta(hours=2))


def test_orders_flow_through_real_workers_exactly_once(world):
    orders = [sample_order(str(number)) for number in range(101, 105)] + [refunded("105")]
    for order in orders:
        world.put_order(order)

    # every order is announced three times at once (webhook storms): one job each
    barrier = threading.Barrier(3)

    def announce(order_id: str) -> None:
        barrier.wait()
        request_sync(world.runtime, world.site_id, order_id, "webhook")

    for order in orders:
        threads = [threading.Thread(target=announce, args=(order.id,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        barrier.reset()
    queue = Queue(queue_name(world.runtime.config.queue_prefix, "exports"), connection=world.redis)
    assert queue.count == len(orders)

    completed = world.worker()
    assert completed.returncode == 0, completed.stderr[-2000:]

    documents = world.documents()
    references = sorted(doc["reference"] for doc in documents)
    assert references == sorted([f"TS-{order.id}" for order in orders] + ["TS-105-RR105"])
    invoices = {doc["reference"]: doc for doc in documents if doc["kind"] == "invoice"}
    assert invoices["TS-101"]["total"] == "250.00"
    credit = next(doc for doc in documents if doc["kind"] == "credit_note")
    assert credit["total"] == "125.00"

    exports = exports_by_source(world)
    assert all(export.state == ExportState.DONE for export in exports.values())
    assert exports[("refund", "R105")].result["details"] == {
        "original": invoices["TS-105"]["number"]
    }
    with world.runtime.transaction() as session:
        assert session.scalar(select(func.count(Binding.id))) == len(documents)
        assert all(binding.target_id for binding in session.scalars(select(Binding)))

    # the worker wrote the result back to each order in the shop
    world.worker()
    note = world.notes("101")[-1]
    assert note["note"].startswith("Bokförd i Memory ledger som faktura")
    assert note["state"] == "done"


def test_worker_killed_between_created_and_recorded_never_duplicates(world):
    world.put_order(sample_order("201"))
    world.knob("die_after_create", 1)
    request_sync(world.runtime, world.site_id, "201", "webhook")

    dead = world.worker(timeout=60)
    assert dead.returncode != 0  # the worker was SIGKILLed right after the ledger created it
    assert len(world.documents()) == 1
    export = exports_by_source(world)[("order", "201")]
    assert export.state == ExportState.RUNNING  # our side never learnt the outcome
    assert export.progress == {"document": {"done": False}}

    # the export lock of the dead worker expires; the sweeper sees no live job and re-queues
    time.sleep(11)
    world.runtime.queue.worker_grace = 0
    report = sweep(world.runtime, stale_after=timedelta(0))
    assert export.id in report.exports
    completed = world.worker()
    assert completed.returncode == 0, completed.stderr[-2000:]

    assert len(world.documents()) == 1, "a second document was created"
    export = exports_by_source(world)[("order", "201")]
    assert export.state == ExportState.DONE
    assert export.progress["document"]["recovered"] is True
    assert export.target_id == world.documents()[0]["number"]


def test_failures_are_classified(world):
    for order_id in ("301", "302", "303", "304"):
        world.put_order(sample_order(order_id))

    world.knob("transient_before", 2)  # two timeouts, then it works
    request_sync(world.runtime, world.site_id, "301", "webhook")
    assert world.worker().returncode == 0
    deadline = time.monotonic() + 30
    while exports_by_source(world)[("order", "301")].state != ExportState.DONE:
        assert time.monotonic() < deadline, "transient failure was not retried to success"
        world.worker()  # the retries are scheduled 1 s apart; burst until done
        time.sleep(0.5)
    with world.runtime.transaction() as session:
        attempts = session.scalars(select(ExportAttempt).order_by(ExportAttempt.number)).all()
        assert [a.outcome for a in attempts] == ["retry", "retry", "done"]
        assert attempts[0].failure_class == "transient"

    world.knob("data_error", "The customer's VAT number is not valid")
    request_sync(world.runtime, world.site_id, "302", "webhook")
    world.worker()
    export = exports_by_source(world)[("order", "302")]
    assert (export.state, export.failure_class) == (ExportState.NEEDS_REVIEW, "data")
    assert export.message == "The customer's VAT number is not valid"
    assert export.quota_period is None  # nothing created: the transfer was given back
    world.knob("data_error", "")

    world.knob("config_error", "The API key was revoked")
    request_sync(world.runtime, world.site_id, "303", "webhook")
    world.worker()
    export = exports_by_source(world)[("order", "303")]
    assert (export.state, export.failure_class) == (ExportState.FAILED, "config")
    assert export.attempts == 1  # config errors are not retried
    world.knob("config_error", "")

    world.knob("bug", "boom")
    request_sync(world.runtime, world.site_id, "304", "webhook")
    world.worker()
    export = exports_by_source(world)[("order", "304")]
    assert (export.state, export.failure_class) == (ExportState.FAILED, "bug")
    with world.runtime.transaction() as session:
        attempt = session.scalars(
            select(ExportAttempt).where(ExportAttempt.export_id == export.id)
        ).one()
        assert "RuntimeError: boom" in attempt.detail
    world.knob("bug", "")

    # a person retries the failed ones: they resume and finish
    from ledgerbridge.pipeline.actions import retry

    for key in (("order", "302"), ("order", "303"), ("order", "304")):
        retry(world.runtime, exports_by_source(world)[key].id, "test")
    world.worker()
    states = {key: export.state for key, export in exports_by_source(world).items()}
    assert set(states.values()) == {ExportState.DONE}
    assert len(world.documents()) == 4


def test_dead_jobs_are_visible_and_retried(world):
    world.put_order(sample_order("401"))
    world.knob("transient_before", 99)  # never works
    request_sync(world.runtime, world.site_id, "401", "webhook")
    deadline = time.monotonic() + 40
    while (
        exports_by_source(world).get(("order", "401")) is None
        or exports_by_source(world)[("order", "401")].state != ExportState.FAILED
    ):
        assert time.monotonic() < deadline
        world.worker()
        time.sleep(0.5)
    export = exports_by_source(world)[("order", "401")]
    assert export.failure_class == "transient"
    assert export.message.startswith("Gave up after 4 attempts")
    assert export.quota_period is None
    world.knob("transient_before", 0)
    from ledgerbridge.pipeline.actions import retry

    retry(world.runtime, export.id, "test")
    world.worker()
    assert exports_by_source(world)[("order", "401")].state == ExportState.DONE
    assert len(world.documents()) == 1


def test_a_synced_orders_exports_go_ahead_of_the_syncs_still_waiting(world):
    world.put_order(refunded("601"))
    world.put_order(sample_order("602"))
    world.put_order(sample_order("603"))
    for order_id in ("601", "602", "603"):
        request_sync(world.runtime, world.site_id, order_id, "webhook")
    queue = world.exports_queue()
    full = world.runtime.queue.full_id

    world.run_next_job()  # the sync of 601 queues the order's export, then its credit note's
    exports = exports_by_source(world)
    order_export, refund_export = exports[("order", "601")], exports[("refund", "R601")]
    assert queue.get_job_ids() == [
        full(ids.export_job(order_export.id)),
        full(ids.export_job(refund_export.id)),
        full(ids.sync_job(world.site_id, "602")),
        full(ids.sync_job(world.site_id, "603")),
    ]
    world.run_next_job()
    # the order is booked while its credit note's job is live (queued here; it may as well be
    # running and about to wait): a follow-up run is scheduled so the wake-up is never lost
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert scheduled == [full(ids.follow_up_job(refund_export.id, order_export.id))]
    world.run_next_job()
    assert sorted(doc["reference"] for doc in world.documents()) == ["TS-601", "TS-601-RR601"]
    assert queue.get_job_ids()[0] == full(ids.sync_job(world.site_id, "602"))


def test_a_credit_note_run_before_its_order_waits_without_spending_retries(world):
    world.put_order(refunded("611"))
    request_sync(world.runtime, world.site_id, "611", "webhook")
    queue = world.exports_queue()
    full = world.runtime.queue.full_id

    world.run_next_job()  # the sync queues the order's export, then the credit note's
    refund_export = exports_by_source(world)[("refund", "R611")]
    # the credit note's job runs first, as a second worker would while the order is booked
    job_ids = queue.get_job_ids()
    assert job_ids[1] == full(ids.export_job(refund_export.id))
    queue.remove(job_ids[1])
    queue.push_job_id(job_ids[1], at_front=True)
    world.run_next_job()
    waiting = exports_by_source(world)[("refund", "R611")]
    assert waiting.state == ExportState.PENDING
    assert "Waiting for the original document (order 611)" in waiting.message
    with world.runtime.transaction() as session:
        attempt = session.scalar(
            select(ExportAttempt).where(ExportAttempt.export_id == refund_export.id)
        )
        assert (attempt.outcome, attempt.failure_class) == ("waiting", "")
    assert world.documents() == []

    world.run_next_job()  # the order is booked and queues its credit note again
    assert exports_by_source(world)[("order", "611")].state == ExportState.DONE
    assert queue.get_job_ids() == [full(ids.export_job(refund_export.id))]
    world.run_next_job()
    assert exports_by_source(world)[("refund", "R611")].state == ExportState.DONE
    assert sorted(doc["reference"] for doc in world.documents()) == ["TS-611", "TS-611-RR611"]


def test_the_sweeper_leaves_a_waiting_credit_note_to_its_original(world):
    """A parked credit note has no job on purpose; the sweeper re-queues it only once its
    original is booked and the wake-up was lost (a flushed Redis)."""
    world.put_order(refunded("621"))
    request_sync(world.runtime, world.site_id, "621", "webhook")
    queue = world.exports_queue()
    world.run_next_job()  # the sync
    refund_export = exports_by_source(world)[("refund", "R621")]
    job_ids = queue.get_job_ids()
    queue.remove(job_ids[1])
    queue.push_job_id(job_ids[1], at_front=True)
    world.run_next_job()  # the credit note runs first and waits
    assert exports_by_source(world)[("refund", "R621")].state == ExportState.PENDING

    report = sweep(world.runtime, stale_after=timedelta(0))
    assert refund_export.id not in report.exports  # its original is on its way
    world.run_next_job()  # the order is booked and queues its credit note again
    assert exports_by_source(world)[("order", "621")].state == ExportState.DONE
    wake_up = queue.get_job_ids()
    assert wake_up == [world.runtime.queue.full_id(ids.export_job(refund_export.id))]
    queue.remove(wake_up[0])  # the wake-up is lost (as in a flushed Redis)
    world.runtime.queue.connection.delete(Job.key_for(wake_up[0]))

    assert sweep(world.runtime, stale_after=timedelta(0)).exports == [refund_export.id]
    world.run_next_job()
    assert exports_by_source(world)[("refund", "R621")].state == ExportState.DONE
    assert sorted(doc["reference"] for doc in world.documents()) == ["TS-621", "TS-621-RR621"]


def test_the_sweeper_leaves_a_credit_note_woken_by_a_follow_up(world):
    """Its original was booked while the credit note's job was still running (about to
    park it): the wake-up is a follow-up job of its own id, which the sweeper counts."""
    world.put_order(refunded("631"))
    request_sync(world.runtime, world.site_id, "631", "webhook")
    queue = world.exports_queue()
    world.run_next_job()  # the sync
    exports = exports_by_source(world)
    order_export, refund_export = exports[("order", "631")], exports[("refund", "R631")]
    job_ids = queue.get_job_ids()
    queue.remove(job_ids[1])
    queue.push_job_id(job_ids[1], at_front=True)
    world.run_next_job()  # the credit note runs first and parks
    world.run_next_job()  # the order is booked; it queues the credit note again...
    queue.empty()  # ...but here its job was still running, so the wake-up is a follow-up:
    follow_up = ids.follow_up_job(refund_export.id, order_export.id)
    world.runtime.queue.enqueue(
        "run_export", job_id=follow_up, delay=60, export_id=refund_export.id
    )

    report = sweep(world.runtime, stale_after=timedelta(0))
    assert refund_export.id not in report.exports
    assert queue.get_job_ids() == []
