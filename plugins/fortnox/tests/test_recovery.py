"""Unknown outcomes: a retry finds what the earlier attempt created instead of a second one."""

from __future__ import annotations

import httpx
import pytest
from fortnox_documents import cash_sale, domestic_invoice
from fortnox_ledgers import connect, created, route_for

from ledgerbridge.errors import TransientError
from ledgerbridge.progress import MemoryProgress
from ledgerbridge_fortnox.target import FortnoxTarget

TARGET = FortnoxTarget()


@pytest.fixture
def impatient(sandbox):
    """A ledger whose client gives up after one second (the sandbox's injected timeouts
    answer after 1.5 s)."""
    return connect(sandbox, timeout_seconds=1.0)


def _export(ledger, route, document, progress):
    return TARGET.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=document, progress=progress
    )


@pytest.mark.parametrize("flow", ["invoice", "order_invoice"])
def test_timeout_after_create_then_retry_finds_the_invoice(sandbox, impatient, flow):
    ledger = impatient
    route = route_for(ledger, flow=flow)
    document = domestic_invoice()
    progress = MemoryProgress()
    httpx.post(
        f"{sandbox.url}/_sandbox/knobs", json={"timeout_after_create": 2, "timeout_seconds": 1.5}
    )
    with pytest.raises(TransientError) as caught:
        _export(ledger, route, document, progress)
    assert caught.value.details.get("unknown_outcome") is True
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"timeout_after_create": 0})
    result = None
    for _ in range(3):  # the job retries; each attempt may meet the next injected timeout
        try:
            result = _export(ledger, route, document, progress)
            break
        except TransientError:
            continue
    assert result is not None and result.review == ""
    assert len(created(sandbox, "invoice")) == 1
    assert len(created(sandbox, "customer")) == 1
    assert any(state.get("recovered") for state in progress.snapshot().values())


def test_retry_of_a_voucher_finds_it_by_its_marker(sandbox, impatient):
    ledger = impatient
    route = route_for(ledger)
    progress = MemoryProgress()
    httpx.post(
        f"{sandbox.url}/_sandbox/knobs", json={"timeout_after_create": 1, "timeout_seconds": 1.5}
    )
    with pytest.raises(TransientError):
        _export(ledger, route, cash_sale(), progress)
    result = _export(ledger, route, cash_sale(), progress)
    assert result.document_kind == "voucher"
    assert len([v for v in created(sandbox, "voucher") if v.get("automatic") == "False"]) == 1


def test_find_document_matches_the_reference_exactly(sandbox, ledger):
    route = route_for(ledger)
    _export(ledger, route, domestic_invoice("wc-12", "12"), MemoryProgress())
    assert (
        TARGET.ledgerbridge_target_find_document(
            ledger=ledger, document=domestic_invoice("wc-1", "1")
        )
        is None
    )
    found = TARGET.ledgerbridge_target_find_document(
        ledger=ledger, document=domestic_invoice("wc-12", "12")
    )
    assert found is not None and found.document_kind == "invoice"
    assert found.totals.total == domestic_invoice().total


def test_finished_steps_are_never_repeated(sandbox, ledger):
    route = route_for(ledger)
    progress = MemoryProgress()
    first = _export(ledger, route, domestic_invoice(), progress)
    second = _export(ledger, route, domestic_invoice(), progress)
    assert first.target_id == second.target_id
    assert len(created(sandbox, "invoice")) == 1 and len(created(sandbox, "payment")) == 1
