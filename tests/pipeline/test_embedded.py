"""Embedded mode (the demo): SQLite and an in-process queue, no Redis and no worker needed."""

from __future__ import annotations

import pytest

from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.embedded import EmbeddedQueue
from ledgerbridge.setup.ledgers import add_ledger
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import Export, ExportState
from tests.support.factories import sample_order

pytestmark = pytest.mark.db


def test_embedded_runtime_exports_without_workers(make_runtime, redis_url, redis_prefix):
    import json

    import redis

    from ledgerbridge.model.schemas import dump_order

    runtime = make_runtime(queue_mode="embedded")
    assert isinstance(runtime.queue, EmbeddedQueue)
    assert runtime.redis is None
    namespace = f"{redis_prefix}-embedded"
    settings = {"namespace": namespace, "redis_url": redis_url}
    with runtime.transaction() as session:
        site = add_site(
            runtime,
            session,
            key="shop",
            name="Shop",
            connector="memshop",
            url="http://127.0.0.1:9",
            settings=settings,
            secrets={"token": "shop-token-123456"},
            allow_private_network=True,
            actor="test",
        )
        ledger = add_ledger(
            runtime,
            session,
            key="books",
            name="Books",
            connector="memledger",
            settings=settings,
            plan="pro",
            actor="test",
        )
        add_route(runtime, session, site=site, ledger=ledger, actor="test")
        site_id = site.id
    # The test connectors keep their shop and ledger in Redis; the framework itself does not
    # touch Redis in embedded mode (no queue, no locks, no rate limiter there).
    connection = redis.Redis.from_url(redis_url)
    for number in ("1", "2", "3"):
        connection.hset(f"{namespace}:orders", number, json.dumps(dump_order(sample_order(number))))
        for _ in range(3):
            request_sync(runtime, site_id, number, "webhook")
    connection.hset(f"{namespace}:knobs", "transient_before", 1)
    runtime.queue._retry_scale = 0.05  # retry in 50 ms instead of seconds
    assert runtime.queue.wait_idle(timeout=60)
    with runtime.transaction() as session:
        states = sorted(export.state for export in session.query(Export))
    assert states == [ExportState.DONE] * 3
    documents = connection.lrange(f"{namespace}:documents", 0, -1)
    assert sorted(json.loads(raw)["reference"] for raw in documents) == ["1", "2", "3"]
    assert runtime.queue.depth()["exports"] == 0


def _run_behind_a_held_job(monkeypatch, task, queue_more) -> None:
    """Run ``task`` on a one-worker embedded queue: a first job holds the worker while
    ``queue_more(queue)`` queues the others, then everything runs to the end."""
    import threading

    from ledgerbridge.queue import embedded

    started, gate = threading.Event(), threading.Event()

    def held(name: str, **kwargs) -> None:
        if name == "first":
            started.set()
            gate.wait(10)
        task(name, **kwargs)

    monkeypatch.setattr(embedded, "resolve_task", lambda _task: held)
    queue = EmbeddedQueue(workers=1)
    try:
        assert queue.enqueue("sync_order", job_id="a", name="first")
        assert started.wait(10)
        queue_more(queue)
        gate.set()
        assert queue.wait_idle(timeout=10)
    finally:
        queue.close()


def test_the_embedded_queue_runs_a_job_put_in_front_next(monkeypatch):
    ran: list[str] = []

    def queue_more(queue) -> None:
        assert queue.enqueue("sync_order", job_id="b", name="waiting")
        assert queue.enqueue("run_export", job_id="c", name="in front", front=True)

    _run_behind_a_held_job(monkeypatch, lambda name: ran.append(name), queue_more)
    assert ran == ["first", "in front", "waiting"]


def test_a_job_that_asks_to_be_postponed_runs_again_after_the_work_waiting(monkeypatch):
    from ledgerbridge.queue.base import postpone_job

    ran: list[tuple[str, int]] = []

    def task(name: str, postponed: int = 0) -> None:
        ran.append((name, postponed))
        if name == "busy" and postponed < 2:
            assert postpone_job(postponed=postponed + 1)

    def queue_more(queue) -> None:
        assert queue.enqueue("run_export", job_id="b", name="busy")
        assert queue.enqueue("sync_order", job_id="c", name="other")
        assert not queue.enqueue("run_export", job_id="b", name="busy")  # still live

    _run_behind_a_held_job(monkeypatch, task, queue_more)
    assert ran == [("first", 0), ("busy", 0), ("other", 0), ("busy", 1), ("busy", 2)]
    assert not postpone_job()  # outside a queue nobody can postpone
