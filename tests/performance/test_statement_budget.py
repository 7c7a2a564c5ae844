"""The database work of the jobs every order goes through, counted statement by statement.

Each statement is a round trip to the database (and ORM work in the worker); on a busy
machine or a remote database they are much of an export's cost. The budgets are what the jobs
need today; a change that adds statements to the hot path fails here and must say why.
(Figures in seconds belong to bench/, never here.)
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event

from ledgerbridge.pipeline.sync import request_sync
from tests.support.factories import sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]

#: Statements per job for a new order of a returning customer, booked at the first attempt.
BUDGET = {"sync_order": 7, "run_export": 19, "write_back": 2}
#: Transactions (connection check-outs) per export attempt.
EXPORT_TRANSACTIONS = 6


def _run_jobs(world, counted: Counter, checkouts: Counter) -> list[str]:
    from rq.serializers import JSONSerializer

    from ledgerbridge.queue.worker import InProcessWorker

    ran: list[str] = []
    queues = world.runtime.queue.rq_queues()
    while True:
        queue = next((queue for queue in queues if queue.count), None)
        if queue is None:
            return ran
        name = queue.jobs[0].func_name.rsplit(".", 1)[-1]
        counted[name] = 0
        checkouts[name] = 0
        counted["*"] = checkouts["*"] = 0
        InProcessWorker([queue], connection=world.redis, serializer=JSONSerializer).work(
            burst=True, max_jobs=1
        )
        counted[name] = counted["*"]
        checkouts[name] = checkouts["*"]
        ran.append(name)


def test_an_orders_jobs_stay_within_their_statement_budgets(world):
    engine = world.runtime.engine
    counted: Counter = Counter()
    checkouts: Counter = Counter()

    def on_statement(_connection, _cursor, statement: str, *_args) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN IMMEDIATE
            counted["*"] += 1

    def on_checkout(*_args) -> None:
        checkouts["*"] += 1

    # The first order warms the process's caches (plans, the customer), as a worker's would be.
    world.put_order(sample_order("300"))
    request_sync(world.runtime, world.site_id, "300", "webhook")
    _run_jobs(world, counted, checkouts)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        world.put_order(sample_order("301"))
        request_sync(world.runtime, world.site_id, "301", "webhook")
        ran = _run_jobs(world, counted, checkouts)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine.pool, "checkout", on_checkout)

    assert {"sync_order", "run_export", "write_back"} <= set(ran), ran
    assert [d["reference"] for d in world.documents()][-1].endswith("301")
    for job, budget in BUDGET.items():
        assert 0 < counted[job] <= budget, f"{job}: {counted[job]} statements (budget {budget})"
    assert checkouts["run_export"] <= EXPORT_TRANSACTIONS, f"{checkouts['run_export']} transactions"
