"""Running one export: document → hooks → quota → binding → target → record → note back.

Every stage's outcome is written to the database before the next one starts, so a retry
resumes where the last attempt stopped and never creates a second document:

* the document is frozen once any target step has started (a changed order is not re-booked
  under the same reference);
* the binding is reserved before the target is called, and a bound one short-circuits;
* the target runs each creating step through the export's durable progress, looking the
  document up by external reference when an earlier attempt's outcome is unknown.

Failures are classed: config (no retry; the user must act), transient (retried with backoff
by the queue; failed after the last attempt), data (needs review), bug. An error after the
attempt recorded its outcome (queueing the write-back while Redis is down) leaves it standing.

One attempt at a time: the Redis lock ``export-<id>`` is the fast check, and the database
lease (a running export's ``updated_at``, renewed while it runs) is the one that holds when
Redis was restarted and its locks vanished.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from ledgerbridge.accounting import SkipExport, daily_summary_eligible
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import (
    ConfigError,
    ExportError,
    ReconnectNeeded,
    TransientError,
    failure_class_of,
)
from ledgerbridge.http import recording
from ledgerbridge.masking import scrub
from ledgerbridge.metrics import sink
from ledgerbridge.model import AccountingDocument, ExportResult
from ledgerbridge.model.schemas import dump_result, load_document, load_result
from ledgerbridge.pipeline import bindings, documents, ids, quota, restore
from ledgerbridge.pipeline.progress_store import export_progress
from ledgerbridge.queue.base import current_attempt, postpone_job
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.services import LockBusy
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import (
    Export,
    ExportAttempt,
    ExportState,
    Ledger,
    Route,
    utcnow,
)

log = logging.getLogger(__name__)

RUNNABLE = (
    ExportState.PENDING,
    ExportState.RUNNING,
    ExportState.RETRYING,
    ExportState.WAITING_QUOTA,
)
LOCK_TIMEOUT = 10.0
#: Seconds before a credit note's follow-up run (see ``_release_dependents``).
FOLLOW_UP_DELAY = 2.0
#: An export whose ledger's API has no room for its requests this many seconds from now
#: (besides what the exports running for it still claim) makes way for other work, at most
#: ``MAX_POSTPONEMENTS`` times; after that only while another export that made way as often
#: runs for the same ledger.
POSTPONE_AFTER = 0.1
MAX_POSTPONEMENTS = 3
#: A running export whose heartbeat (``updated_at``) is younger than this is running
#: elsewhere; a new attempt waits until it is older (its worker died).
LEASE = timedelta(seconds=LOCK_TIMEOUT)


class _WaitingForOriginal(Exception):
    """The credit note's original is still on its way to the ledger."""


@dataclass
class _Run:
    """What one attempt knows about its export (plain values, no session)."""

    export_id: int
    attempt_id: int
    kind: str
    source_id: str
    route_id: int
    ledger_id: int
    order_id: int | None
    route: RouteContext


def run_export(
    runtime: Runtime, export_id: int, *, postponed: int = 0, ledger_id: int | None = None
) -> None:
    """Run one export; re-raises ``TransientError`` while the queue may still retry.

    ``postponed`` counts how often this export already made way for other work because its
    ledger's API was saturated (see :func:`_make_way`); ``ledger_id``, known once it has, lets
    it make way again without the lock or the database."""
    with ExitStack() as turn:
        if ledger_id is not None and _make_way(runtime, ledger_id, postponed, turn):
            return
        try:
            with runtime.base_services.lock(f"export-{export_id}", timeout=LOCK_TIMEOUT, wait=0.5):
                _run_locked(runtime, export_id, postponed, turn if ledger_id is None else None)
        except LockBusy:
            # Another worker runs this export right now; it will record the outcome.
            log.info("Export %s is running elsewhere; this duplicate job stops.", export_id)


def _run_locked(runtime: Runtime, export_id: int, postponed: int, turn: ExitStack | None) -> None:
    started = time.monotonic()
    run = _begin(runtime, export_id, postponed, turn)
    if run is None:
        return
    with _heartbeat(runtime, export_id):
        _attempt(runtime, run, started)


@contextmanager
def _heartbeat(runtime: Runtime, export_id: int) -> Iterator[None]:
    """Renew the running export's lease (``updated_at``) until the attempt ends."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE.total_seconds() / 3):
            try:
                with runtime.transaction() as session:
                    session.execute(
                        update(Export)
                        .where(Export.id == export_id, Export.state == ExportState.RUNNING)
                        .values(updated_at=utcnow())
                    )
            except Exception:  # a missed renewal only shortens the lease
                log.warning("Could not renew the lease of export %s", export_id, exc_info=True)

    thread = threading.Thread(target=renew, name=f"lease-export-{export_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _attempt(runtime: Runtime, run: _Run, started: float) -> None:
    exchanges: list[dict] = []
    try:
        with recording() as recorder:
            try:
                outcome = _export(runtime, run)
            finally:
                exchanges = recorder.as_list()
        _finish_attempt(runtime, run, outcome, "", "", exchanges)
        sink().export_outcome(outcome, time.monotonic() - started)
    except _WaitingForOriginal as waiting:
        _park(runtime, run, str(waiting))
        sink().export_outcome("waiting", time.monotonic() - started)
    except TransientError as error:
        last = current_attempt().last
        recorded = _fail(runtime, run, error, exchanges, final=last)
        sink().export_outcome("failed" if last else "retry", time.monotonic() - started)
        if recorded and not last:
            raise
    except ExportError as error:
        _fail(runtime, run, error, exchanges, final=True)
        sink().export_outcome(
            "review" if error.failure_class == "data" else "failed", time.monotonic() - started
        )
    except Exception as error:  # a bug: recorded with its traceback, never retried blindly
        log.exception("Export %s failed with an unexpected error", run.export_id)
        _fail(runtime, run, error, exchanges, final=True, detail=scrub(traceback.format_exc()))
        sink().export_outcome("failed", time.monotonic() - started)


def _make_way(runtime: Runtime, ledger_id: int, postponed: int, turn: ExitStack) -> bool:
    # A worker waiting on one ledger's saturated rate limit books nothing while another
    # ledger's allowance goes unused: the export goes back in the queue, behind the work
    # waiting now, and the worker takes that work. Bounded, so an export is never starved;
    # past the bound it runs, unless another export past the bound already runs for the
    # same ledger (by the end of a run every export left is past it, and two workers on one
    # ledger would leave another ledger without one). An export that runs claims the
    # requests it will make, so the next export's worker does not start on a ledger whose
    # room is already spoken for and then wait halfway through while another ledger idles.
    if runtime.claim_ledger(ledger_id, turn, ahead=POSTPONE_AFTER):
        return False
    if postponed >= MAX_POSTPONEMENTS and _take_turn(runtime, ledger_id, turn):
        runs = True
    else:
        runs = not postpone_job(
            postponed=min(postponed + 1, MAX_POSTPONEMENTS), ledger_id=ledger_id
        )
    if runs:  # its requests are spoken for too, room or not
        runtime.claim_ledger(ledger_id, turn, ahead=POSTPONE_AFTER, force=True)
    return not runs


def _take_turn(runtime: Runtime, ledger_id: int, turn: ExitStack) -> bool:
    """Whether this export may run for its saturated ledger: no other export past the bound
    runs for it now. The turn is held until ``turn`` closes (the export's end)."""
    try:
        turn.enter_context(
            runtime.base_services.lock(f"ledger-turn:{ledger_id}", timeout=LOCK_TIMEOUT, wait=0)
        )
    except LockBusy:
        return False
    except TransientError:  # Redis away: run; the export will find out itself
        return True
    return True


def _begin(
    runtime: Runtime, export_id: int, postponed: int = 0, turn: ExitStack | None = None
) -> _Run | None:
    with runtime.transaction() as session:
        export = session.get(Export, export_id, with_for_update=True)
        if export is None or export.state not in RUNNABLE:
            return None
        if export.state == ExportState.RUNNING and utcnow() - export.updated_at < LEASE:
            log.info("Export %s runs elsewhere (its lease is live); this job stops.", export_id)
            return None
        route = session.get(
            Route, export.route_id, options=[joinedload(Route.site), joinedload(Route.ledger)]
        )
        if route is None or not route.enabled:
            return None
        if turn is not None and _make_way(runtime, route.ledger_id, postponed, turn):
            return None
        export.state = ExportState.RUNNING
        export.attempts += 1
        export.updated_at = utcnow()
        attempt = ExportAttempt(
            export_id=export.id,
            number=export.attempts,
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        session.add(attempt)
        session.flush()
        return _Run(
            export_id=export.id,
            attempt_id=attempt.id,
            kind=export.kind,
            source_id=export.source_id,
            route_id=route.id,
            ledger_id=route.ledger_id,
            order_id=export.order_id,
            route=runtime.route_context(route),
        )


def _export(runtime: Runtime, run: _Run) -> str:
    route = run.route
    # No autoflush: the export row's changes go out in one UPDATE at commit.
    with runtime.transaction() as session, session.no_autoflush:
        export, ledger = session.execute(
            select(Export, Ledger)
            .join(Ledger, Ledger.id == run.ledger_id)
            .where(Export.id == run.export_id)
        ).one()
        if ledger.status == "reconnect_needed":
            raise ConfigError(
                f"{route.ledger.name} must be reconnected before anything can be booked: "
                f"{ledger.status_message}"
            )
        try:
            document = _document(session, export, route, runtime)
        except SkipExport as skip:
            export.state = ExportState.SKIPPED
            export.message = scrub(str(skip))
            export.updated_at = utcnow()
            return "skipped"
        if export.kind == "order" and _goes_to_summary(document, route):
            export.state = ExportState.IN_SUMMARY
            export.message = f"Part of the daily summary for {document.date.isoformat()}."
            export.updated_at = utcnow()
            return "in_summary"
        original: ExportResult | None = None
        if export.kind == "refund":
            original = _original_result(session, export)
        binding = bindings.reserve(
            session, run.route_id, run.kind, run.source_id, document.reference
        )
        if binding.target_id:
            result = (
                load_result(export.result)
                if export.result
                else ExportResult(target_id=binding.target_id, document_kind=binding.document_kind)
            )
            _record(session, export, result)
            return "done"
        reserved = quota.reserve(session, ledger, export)
        if reserved is None:
            export.state = ExportState.WAITING_QUOTA
            export.message = (
                f"Waiting for quota: {route.ledger.name} has used this month's transfers "
                f"({ledger.plan} plan). It continues by itself when the plan is raised or the "
                "month rolls over."
            )
            export.updated_at = utcnow()
            _announce(runtime, session, ledger, route)
            return "waiting"
        level = quota.crossed_threshold(session, ledger, reserved)
        progress = export_progress(runtime.sessions, export)
        verify_first = export.verify_first or restore.verify_first(session)
    if level is not None:
        runtime.hooks.quota_notice(route.ledger, reserved.used, reserved.limit, level)
    target = runtime.hooks.target(route.ledger)
    if verify_first and _relinked(runtime, run, target.find_document(document), document):
        return "done"
    try:
        if run.kind == "refund":
            assert original is not None
            result = target.export_credit_note(route, document, original, progress)
        else:
            result = target.export_document(route, document, progress)
    except ReconnectNeeded as error:
        _mark_reconnect(runtime, run.ledger_id, str(error))
        raise
    binding_id = binding.id
    with runtime.transaction() as session:
        export = session.get(Export, run.export_id)
        assert export is not None
        bindings.bind_reserved(session, binding_id, result)
        _record(session, export, result)
        outcome = export.state
        waiting = (
            _waiting_credit_notes(session, run.route_id, [run.order_id])
            if run.kind == "order" and run.order_id is not None
            else None
        )
    runtime.hooks.after_export(route, document, result)
    _after_success(runtime, run, result, waiting)
    return "review" if outcome == ExportState.NEEDS_REVIEW else "done"


def _relinked(
    runtime: Runtime, run: _Run, found: ExportResult | None, document: AccountingDocument
) -> bool:
    # A forced re-export first links to a document the ledger already has for the reference.
    with runtime.transaction() as session:
        export = session.get(Export, run.export_id)
        assert export is not None
        export.verify_first = False
        if found is None:
            return False
        binding = bindings.reserve(
            session, run.route_id, run.kind, run.source_id, document.reference
        )
        bindings.bind(session, binding, found)
        quota.release(session, export, run.ledger_id)
        _record(session, export, found)
        return True


def _document(
    session: Session, export: Export, route: RouteContext, runtime: Runtime
) -> AccountingDocument:
    # Once any step reached the target, the document is frozen: the next attempt must send
    # exactly what the first one did, under the same reference.
    if export.document is not None and export.progress:
        return load_document(export.document)
    document = documents.build(session, export, route, runtime.hooks)
    export.document = documents.as_data(document)
    export.reference = document.reference
    return document


def _goes_to_summary(document: AccountingDocument, route: RouteContext) -> bool:
    # Only domestic cash sales are summed per day; an export or OSS cash sale is booked alone
    # (a day's summary holds one VAT scenario).
    return route.settings.daily_summary and daily_summary_eligible(document)


def _original_result(session: Session, export: Export) -> ExportResult:
    parent = documents.parent_export(session, export)
    waited_for = documents.original_on_its_way(session, parent)
    if waited_for is not None:
        # Still on its way (or its day's summary not yet closed): the credit note waits
        # without spending its retries; the original's success queues it again.
        raise _WaitingForOriginal(
            "Waiting for the original document "
            f"({waited_for.reference or f'{waited_for.kind} {waited_for.source_id}'}) to be "
            "booked; the credit note follows it."
        )
    if (
        parent is None
        or parent.state not in (ExportState.DONE, ExportState.NEEDS_REVIEW)
        or (not parent.result)
    ):
        raise TransientError(
            "The original order has not been booked yet; the credit note waits for it."
        )
    return load_result(parent.result)


def _park(runtime: Runtime, run: _Run, message: str) -> None:
    """Put a credit note back to pending until its original is booked (not a failure)."""
    with runtime.transaction() as session:
        export = session.get(Export, run.export_id)
        if export is None or export.state != ExportState.RUNNING:
            return
        export.state = ExportState.PENDING
        export.message = message
        export.updated_at = utcnow()
        attempt = session.get(ExportAttempt, run.attempt_id)
        if attempt is not None:
            attempt.finished_at = utcnow()
            attempt.outcome = "waiting"
            attempt.message = message


def _record(session: Session, export: Export, result: ExportResult) -> None:
    export.result = dump_result(result)
    export.target_id = result.target_id
    export.failure_class = ""
    export.finished_at = utcnow()
    export.updated_at = utcnow()
    if result.review:
        export.state = ExportState.NEEDS_REVIEW
        export.failure_class = "data"
        export.message = scrub(result.review)
    else:
        export.state = ExportState.DONE
        export.message = ""
    audit(
        session,
        "worker",
        "export.created",
        f"export:{export.id}",
        reference=export.reference,
        target_id=result.target_id,
        document_kind=result.document_kind,
        review=result.review,
    )


def _after_success(
    runtime: Runtime, run: _Run, result: ExportResult, waiting: list[int] | None = None
) -> None:
    runtime.queue.enqueue(
        "write_back",
        job_id=ids.write_back_job(run.export_id),
        queue="maintenance",
        export_id=run.export_id,
    )
    if run.route.ledger.has_feature(documents.FEATURE_PDF_ARCHIVE):
        runtime.queue.enqueue(
            "archive_pdf",
            job_id=ids.pdf_job(run.export_id),
            queue="maintenance",
            export_id=run.export_id,
        )
    if run.kind == "daily_summary":
        _complete_members(runtime, run, result)
    if run.kind in ("order", "daily_summary"):
        _release_dependents(runtime, run, waiting)


def _complete_members(runtime: Runtime, run: _Run, result: ExportResult) -> None:
    # The orders of a daily summary are booked by it: they share its document.
    with runtime.transaction() as session:
        summary = session.get(Export, run.export_id)
        assert summary is not None
        members = list(
            session.scalars(
                select(Export).where(
                    Export.summary_export_id == run.export_id,
                    Export.state == ExportState.IN_SUMMARY,
                )
            )
        )
        for member in members:
            member.state = ExportState.DONE
            member.result = dump_result(result)
            member.target_id = result.target_id
            member.message = f"Booked in the daily summary {summary.reference}."
            member.finished_at = utcnow()
            member.updated_at = utcnow()
        member_ids = [member.id for member in members]
    for member_id in member_ids:
        runtime.queue.enqueue(
            "write_back",
            job_id=ids.write_back_job(member_id),
            queue="maintenance",
            export_id=member_id,
        )


def _waiting_credit_notes(session: Session, route_id: int, order_ids: list[int]) -> list[int]:
    """The unfinished credit-note exports of these orders on the route."""
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(Export.id).where(
                Export.route_id == route_id,
                Export.kind == "refund",
                Export.order_id.in_(order_ids),
                Export.state.in_(RUNNABLE),
            )
        )
    )


def _release_dependents(runtime: Runtime, run: _Run, waiting: list[int] | None) -> None:
    # Credit notes that waited for this document can go now. An order's were found in the
    # transaction that recorded it (``waiting``); a daily summary's are looked up here.
    if waiting is None:
        with runtime.transaction() as session:
            if run.kind == "daily_summary":
                members = select(Export.order_id).where(Export.summary_export_id == run.export_id)
                order_ids = [order_id for order_id in session.scalars(members) if order_id]
            else:
                order_ids = [run.order_id] if run.order_id is not None else []
            waiting = _waiting_credit_notes(session, run.route_id, order_ids)
    for export_id in waiting:
        if runtime.queue.enqueue(
            "run_export", job_id=ids.export_job(export_id), export_id=export_id
        ):
            continue
        # Its job is still live: it may be the run that just found the original unbooked and
        # is putting the credit note back to pending. A follow-up shortly after settles it
        # (a no-op when that run booked it after all).
        runtime.queue.enqueue(
            "run_export",
            job_id=ids.follow_up_job(export_id, run.export_id),
            delay=FOLLOW_UP_DELAY,
            export_id=export_id,
        )


def _announce(runtime: Runtime, session: Session, ledger: Ledger, route: RouteContext) -> None:
    status = quota.status(session, ledger)
    level = quota.crossed_threshold(session, ledger, status)
    if level is not None:
        runtime.hooks.quota_notice(route.ledger, status.used, status.limit, level)


def _mark_reconnect(runtime: Runtime, ledger_id: int, message: str) -> None:
    with runtime.transaction() as session:
        ledger = session.get(Ledger, ledger_id)
        if ledger is not None:
            ledger.status = "reconnect_needed"
            ledger.status_message = scrub(message)
            audit(
                session, "worker", "ledger.reconnect_needed", f"ledger:{ledger_id}", message=message
            )


def _fail(
    runtime: Runtime,
    run: _Run,
    error: BaseException,
    exchanges: list[dict],
    *,
    final: bool,
    detail: str = "",
) -> bool:
    """Record a failed attempt; False when the attempt had already recorded its outcome."""
    failure_class = failure_class_of(error)
    message = scrub(str(error)) or type(error).__name__
    if failure_class == "bug":
        message = f"Unexpected error ({type(error).__name__}): {message}"
    with runtime.transaction() as session:
        export = session.get(Export, run.export_id)
        assert export is not None
        if export.state != ExportState.RUNNING:
            # The outcome (done, review, waiting for quota...) was recorded before the error,
            # e.g. queueing the write-back while Redis was down: it stands.
            log.warning("Export %s: error after its outcome was recorded: %s", export.id, message)
            attempt = session.get(ExportAttempt, run.attempt_id)
            if attempt is not None:
                attempt.detail = f"After the outcome was recorded: {message}\n{detail}".strip()
            return False
        progress = export.progress or {}
        if not final:
            export.state = ExportState.RETRYING
        elif failure_class == "data":
            export.state = ExportState.NEEDS_REVIEW
        else:
            export.state = ExportState.FAILED
            if failure_class == "transient":
                message = f"Gave up after {export.attempts} attempts: {message}"
        export.failure_class = failure_class
        export.message = message
        export.updated_at = utcnow()
        if final and not progress:
            quota.release(session, export, run.ledger_id)
        reference = export.reference
        attempt = session.get(ExportAttempt, run.attempt_id)
        if attempt is not None:
            attempt.finished_at = utcnow()
            attempt.outcome = "retry" if not final else str(export.state)
            attempt.failure_class = failure_class
            attempt.message = message
            attempt.exchanges = exchanges
            attempt.detail = detail
        if final:
            audit(
                session,
                "worker",
                "export.failed",
                f"export:{export.id}",
                reference=reference,
                failure_class=failure_class,
                message=message,
            )
    if final:
        wrapped = error if isinstance(error, ExportError) else ExportError(message)
        runtime.hooks.export_failed(run.route, reference, wrapped)
        runtime.queue.enqueue(
            "write_back",
            job_id=ids.write_back_job(run.export_id),
            queue="maintenance",
            export_id=run.export_id,
        )
    return True


def _finish_attempt(
    runtime: Runtime,
    run: _Run,
    outcome: str,
    failure_class: str,
    message: str,
    exchanges: list[dict],
) -> None:
    with runtime.transaction() as session:
        session.execute(
            update(ExportAttempt)
            .where(ExportAttempt.id == run.attempt_id)
            .values(
                finished_at=utcnow(),
                outcome=outcome,
                failure_class=failure_class,
                message=message,
                exchanges=exchanges,
            )
        )
