"""Exactly once and within Bokio's limits: unknown outcomes, the one-write rule, 429, budget."""

from __future__ import annotations

import multiprocessing
import threading
from decimal import Decimal

import pytest

from ledgerbridge.errors import ConfigError, TransientError
from ledgerbridge.progress import MemoryProgress
from ledgerbridge.services import MemoryServices, MemoryStore
from ledgerbridge_bokio.client import BokioClient
from ledgerbridge_bokio.target import BokioTarget

D = Decimal
target = BokioTarget()


def _export(ledger, route, document, progress):
    return target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=progress
    )


def test_retry_after_a_500_past_the_create_finds_the_invoice(sandbox, ledger, route, docs):
    sandbox.knobs(after_create=[{"method": "POST", "path": "/invoices", "count": 1}])
    progress = MemoryProgress()
    with pytest.raises(TransientError):
        _export(ledger, route, docs.domestic_invoice(), progress)
    assert sandbox.documents()["counts"]["invoices"] == 1
    result = _export(ledger, route, docs.domestic_invoice(), progress)
    listing = sandbox.documents()
    assert listing["counts"]["invoices"] == 1
    assert progress.snapshot()["invoice"]["recovered"] is True
    assert listing["invoices"][0]["id"] == result.target_id
    assert listing["invoices"][0]["status"] == "paid"


def test_retry_after_a_timeout_finds_the_journal_entry(sandbox, make_ledger, make_route, docs):
    ledger = make_ledger(sandbox, timeout_seconds=1.0)
    route = make_route(ledger)
    sandbox.knobs(
        after_create=[
            {"method": "POST", "path": "/journal-entries", "mode": "timeout", "sleep": 2.5}
        ]
    )
    progress = MemoryProgress()
    with pytest.raises(TransientError, match="did not answer in time"):
        _export(ledger, route, docs.cash_sale(), progress)
    result = _export(ledger, route, docs.cash_sale(), progress)
    entries = sandbox.documents()["journalEntries"]
    assert [entry["id"] for entry in entries] == [result.target_id]


def test_unknown_publish_outcome_is_recovered_from_the_invoice_state(sandbox, ledger, route, docs):
    sandbox.knobs(after_create=[{"method": "POST", "path": "/publish", "count": 1}])
    progress = MemoryProgress()
    with pytest.raises(TransientError):
        _export(ledger, route, docs.domestic_invoice(), progress)
    _export(ledger, route, docs.domestic_invoice(), progress)
    [invoice] = sandbox.documents()["invoices"]
    assert invoice["invoiceNumber"] == "1"
    assert invoice["status"] == "paid"


def test_429_is_waited_out(sandbox, ledger, route, docs):
    sandbox.knobs(rate_limit=4, rate_window=1.0)
    result = _export(ledger, route, docs.domestic_invoice(), MemoryProgress())
    assert result.review == ""
    assert sandbox.stats()["rateLimited"] > 0
    assert sandbox.documents()["counts"]["invoices"] == 1


def _run_threads(count, work):
    errors = []

    def run(index):
        try:
            work(index)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_workers_never_trip_the_one_write_rule(sandbox, make_ledger, make_route, docs):
    sandbox.knobs(write_delay_ms=40)
    services = MemoryServices()  # one installation: shared locks

    def work(index):
        ledger = make_ledger(sandbox, services=services)
        route = make_route(ledger)
        customer = docs.swedish_customer(email=f"kund{index}@example.se", name=f"Kund {index}")
        _export(
            ledger,
            route,
            docs.domestic_invoice(f"WC-7{index:03d}", customer=customer),
            MemoryProgress(),
        )
        _export(ledger, route, docs.cash_sale(f"WC-8{index:03d}"), MemoryProgress())

    assert _run_threads(5, work) == []
    listing = sandbox.documents()
    assert listing["counts"]["invoices"] == 5
    assert listing["counts"]["journalEntries"] == 5 + 5 * 2  # sales, invoice and payment records
    assert sandbox.stats()["writeConflicts"] == 0


def test_without_the_shared_lock_the_sandbox_catches_concurrent_writes(sandbox, make_ledger):
    sandbox.knobs(write_delay_ms=60)
    payload = {
        "title": "Kontroll",
        "date": docs_today(),
        "items": [
            {"account": 1930, "debit": D("10.00"), "credit": D("0")},
            {"account": 3001, "debit": D("0"), "credit": D("10.00")},
        ],
    }

    def work(index):
        ledger = make_ledger(sandbox, services=MemoryServices())  # no lock in common
        with BokioClient(ledger) as client:
            client.post("/journal-entries", {**payload, "title": f"Kontroll {index}"})

    _run_threads(4, work)
    assert sandbox.stats()["writeConflicts"] > 0


def docs_today():
    from ledgerbridge_bokio.sandbox.state import today

    return today().isoformat()


def _process_worker(api_url, redis_url, prefix, index, queue):
    import redis

    from ledgerbridge.contexts import memory_ledger, memory_route
    from ledgerbridge.model.route import RouteSettings
    from ledgerbridge.runtime.redis_services import RedisServices, ScopedServices
    from ledgerbridge.services import MemorySecrets
    from ledgerbridge_bokio.sandbox import DEMO_COMPANY_ID, DEMO_TOKEN

    try:
        base = RedisServices(redis.Redis.from_url(redis_url), prefix)
        ledger = memory_ledger(
            key="bokio-test",
            connector="bokio",
            settings={"company_id": DEMO_COMPANY_ID, "api_url": api_url},
            secrets=MemorySecrets({"token": DEMO_TOKEN}),
            services=ScopedServices(base, MemoryStore()),
        )
        route = memory_route(ledger=ledger, settings=RouteSettings())
        documents = queue.get()
        for document in documents:
            _export(ledger, route, document, MemoryProgress())
        queue.put(("ok", index))
    except Exception as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.redis
def test_worker_processes_share_the_write_lock_through_redis(
    sandbox, docs, redis_url, redis_prefix
):
    sandbox.knobs(write_delay_ms=40)
    context = multiprocessing.get_context("fork")
    processes = []
    queues = []
    for index in range(3):
        queue = context.Queue()
        queue.put([docs.cash_sale(f"WC-9{index}{n}") for n in range(3)])
        process = context.Process(
            target=_process_worker, args=(sandbox.api_url, redis_url, redis_prefix, index, queue)
        )
        processes.append(process)
        queues.append(queue)
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    outcomes = [queue.get(timeout=5) for queue in queues]
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert sandbox.documents()["counts"]["journalEntries"] == 9
    assert sandbox.stats()["writeConflicts"] == 0


def test_budget_is_counted_warned_and_refused_before_starting(
    sandbox, make_ledger, make_route, docs
):
    ledger = make_ledger(sandbox, monthly_budget=14, budget_warning_percent=50)
    route = make_route(ledger)
    first = _export(ledger, route, docs.domestic_invoice(), MemoryProgress())
    used = sandbox.documents()["requestsThisMonth"]
    assert first.details["budget"].startswith(f"{used} of 14 Bokio requests used in")
    assert first.details["budget"].endswith(f"only {14 - used} left")
    assert "budget_warning" in first.details
    with pytest.raises(ConfigError, match="daily summaries"):
        _export(ledger, route, docs.domestic_invoice("WC-1002"), MemoryProgress())
    assert sandbox.documents()["requestsThisMonth"] == used  # nothing sent
    status = target.ledgerbridge_target_check_connection(ledger=ledger)
    assert status.details["requests_this_month"] == str(used + 1)


def test_exhausted_budget_refuses_every_request(sandbox, make_ledger):
    ledger = make_ledger(sandbox, monthly_budget=1)
    with BokioClient(ledger) as client:
        client.get("/company-information")
        with pytest.raises(ConfigError, match="budget is used up"):
            client.get("/company-information")
    assert sandbox.documents()["requestsThisMonth"] == 1


def test_bokio_quota_answer_is_transient_with_retry_after(sandbox, ledger):
    sandbox.knobs(monthly_budget=1)
    with BokioClient(ledger) as client:
        client.get("/company-information")
        with pytest.raises(TransientError, match="quota") as caught:
            client.get("/company-information", what="reading the company")
    assert caught.value.retry_after > 0
