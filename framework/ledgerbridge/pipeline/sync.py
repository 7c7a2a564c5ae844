"""Sync: fetch an order's current state, normalize it, keep it, and create its exports.

Webhooks, polling and bulk sync all end here through :func:`request_sync`, which first writes
a ``sync_requests`` row (the database is the source of truth) and then queues the job; a lost
job is found again by the sweeper.
"""

from __future__ import annotations

import logging
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledgerbridge.errors import DataError, NotFound, TransientError
from ledgerbridge.masking import scrub
from ledgerbridge.model import Order
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.model.schemas import dump_order
from ledgerbridge.pipeline import clock, ids
from ledgerbridge.queue.base import postpone_job
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import (
    Export,
    ExportState,
    Ledger,
    OrderRecord,
    Route,
    Site,
    SyncRequest,
    utcnow,
)
from ledgerbridge.store.upsert import upsert

log = logging.getLogger(__name__)

#: Export states in which a new sync should (re)queue the export.
REQUEUE_STATES = (ExportState.PENDING, ExportState.RETRYING, ExportState.WAITING_QUOTA)


def request_sync(
    runtime: Runtime, site_id: int, order_id: str, reason: str, *, queue: str = "exports"
) -> bool:
    """Record that an order must be fetched, then queue the job; True if a job was queued."""
    return request_syncs(runtime, site_id, [order_id], reason, queue=queue) == 1


def request_syncs(
    runtime: Runtime,
    site_id: int,
    order_ids: list[str],
    reason: str,
    *,
    queue: str = "exports",
) -> int:
    """Record, in one transaction, that orders must be fetched, then queue their jobs; how many
    jobs were queued (an order whose job is already waiting collapses onto it)."""
    with runtime.transaction() as session:
        moment = clock.now()
        for order_id in order_ids:
            upsert(
                session,
                SyncRequest,
                {
                    "site_id": site_id,
                    "source_id": order_id,
                    "requested_at": moment,
                    "reason": reason,
                },
                ["site_id", "source_id"],
                {"requested_at": moment, "reason": reason},
            )
    queued = 0
    for order_id in order_ids:
        try:
            queued += bool(
                runtime.queue.enqueue(
                    "sync_order",
                    job_id=ids.sync_job(site_id, order_id),
                    queue=queue,
                    site_id=site_id,
                    order_id=order_id,
                )
            )
        except TransientError as error:
            # The requests are recorded: the sweeper queues them when the queue is reachable
            # again, so a webhook is still answered 2xx and WooCommerce counts no failure.
            log.warning(
                "Order %s of site %s (and any after it in this batch) recorded but not queued: %s",
                order_id,
                site_id,
                error,
            )
            break
    return queued


def already_fetched(runtime: Runtime, site_id: int, order_id: str, digest: str) -> bool:
    """Whether the order as a webhook carries it (``digest``) is the state last fetched, with
    the site's routes unchanged since: then a fetch would change nothing."""
    if not digest:
        return False
    route_changed_since = (
        select(Route.id)
        .where(Route.site_id == site_id, Route.updated_at >= OrderRecord.fetched_at)
        .exists()
    )
    with runtime.transaction() as session:
        found = session.scalar(
            select(OrderRecord.id).where(
                OrderRecord.site_id == site_id,
                OrderRecord.source_id == order_id,
                OrderRecord.content_digest == digest,
                OrderRecord.deleted.is_(False),
                ~route_changed_since,
            )
        )
    return found is not None


def exportable(order: Order, statuses: tuple[str, ...]) -> bool:
    """Whether an order should be booked on a route exporting ``statuses``.

    A fully refunded order that had been paid is booked too (sale plus credit note), so the
    books show both what was sold and what was given back.
    """
    if order.status in statuses:
        return True
    return order.status == "refunded" and order.paid_at is not None


def sync_order(runtime: Runtime, site_id: int, order_id: str) -> None:
    """Fetch, normalize and keep one order, then queue an export per route and refund."""
    started = clock.now()
    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        if site is None or not site.enabled:
            _finish_request(session, site_id, order_id, started)
            return
        context = runtime.site_context(site)
    source = runtime.hooks.source(context)
    try:
        raw = source.fetch_order(order_id)
    except NotFound:
        _mark_deleted(runtime, site_id, order_id, started)
        return
    digest = source.order_digest(raw)
    order: Order | None = None
    problem = ""
    try:
        order = runtime.hooks.order_received(context, source.normalize_order(raw))
    except (DataError, ValidationError) as error:
        problem = scrub(str(error))
        log.warning("Order %s of site %s cannot be read: %s", order_id, site.key, problem)
    with runtime.transaction() as session:
        record = _keep_order(session, site_id, order_id, raw, digest, order, problem)
        exports = _ensure_exports(session, record, order, problem)
        changed_meanwhile = _finish_request(session, site_id, order_id, started)
    # An order's exports go ahead of the sync jobs still waiting, so booking starts with the
    # first synced order instead of after the whole backlog of a webhook storm or bulk sync
    # (and the ledgers' rate limits are used while the rest is fetched). Queued in reverse so
    # that the order's own export runs before its credit notes.
    for export_id in reversed(exports):
        runtime.queue.enqueue(
            "run_export", job_id=ids.export_job(export_id), export_id=export_id, front=True
        )
    if changed_meanwhile:
        _sync_again(runtime, site_id, order_id)


def _sync_again(runtime: Runtime, site_id: int, order_id: str) -> None:
    # The order changed while this job fetched it: the change's webhook found this job running
    # and collapsed onto it, so nothing else would fetch the change. The job asks to run again
    # once it ends (its id is taken until then).
    if not postpone_job():
        runtime.queue.enqueue(
            "sync_order", job_id=ids.sync_job(site_id, order_id), site_id=site_id, order_id=order_id
        )


def _keep_order(
    session: Session,
    site_id: int,
    order_id: str,
    raw: dict,
    digest: str,
    order: Order | None,
    problem: str,
) -> OrderRecord:
    record = session.scalar(
        select(OrderRecord)
        .where(OrderRecord.site_id == site_id, OrderRecord.source_id == order_id)
        .with_for_update()
    )
    if record is None:
        record = OrderRecord(site_id=site_id, source_id=order_id)
        session.add(record)
    record.raw = raw
    record.content_digest = digest
    record.problem = problem
    record.deleted = False
    record.fetched_at = utcnow()
    if order is not None:
        record.canonical = dump_order(order)
        record.number = order.number
        record.status = order.status
        record.currency = order.currency
        record.total = order.total
        record.customer_name = order.customer.name[:300]
        record.created_at = order.created_at
        record.modified_at = order.modified_at
    else:
        record.number = str(raw.get("number") or order_id)[:64]
        record.status = str(raw.get("status") or "")[:40]
    session.flush()
    return record


def _routes(session: Session, site_id: int) -> list[Route]:
    return list(
        session.scalars(
            select(Route)
            .join(Ledger, Ledger.id == Route.ledger_id)
            .where(Route.site_id == site_id, Route.enabled.is_(True))
            .order_by(Route.id)
        )
    )


def _ensure_exports(
    session: Session, record: OrderRecord, order: Order | None, problem: str
) -> list[int]:
    to_run: list[int] = []
    for route in _routes(session, record.site_id):
        settings = load_route_settings(route.settings)
        if order is None:
            export = _export(session, route, "order", record)
            if export.state in REQUEUE_STATES or export.state == ExportState.FAILED:
                export.state = ExportState.NEEDS_REVIEW
                export.failure_class = "data"
                export.message = f"The shop's order could not be read: {problem}"
                export.updated_at = utcnow()
            continue
        if not exportable(order, settings.export_statuses):
            _skip_if_unbooked(session, route, record, order.status)
            continue
        export = _export(session, route, "order", record)
        if export.state in REQUEUE_STATES:
            to_run.append(export.id)
        for refund in order.refunds:
            refund_export = _export(session, route, "refund", record, source_id=refund.id)
            if refund_export.state in REQUEUE_STATES:
                to_run.append(refund_export.id)
    session.flush()
    return to_run


def _skip_if_unbooked(session: Session, route: Route, record: OrderRecord, status: str) -> None:
    # An order that left the exported statuses (cancelled, trashed) before it was booked is
    # not booked after all; one already booked stays booked (corrections are credit notes).
    export = session.scalar(
        select(Export).where(
            Export.route_id == route.id,
            Export.kind == "order",
            Export.source_id == record.source_id,
        )
    )
    if export is not None and export.state in REQUEUE_STATES:
        export.state = ExportState.SKIPPED
        export.message = f"The order became {status!r} in the shop before it was booked."
        export.updated_at = utcnow()


def _export(
    session: Session, route: Route, kind: str, record: OrderRecord, *, source_id: str | None = None
) -> Export:
    source = source_id if source_id is not None else record.source_id
    export = session.scalar(
        select(Export).where(
            Export.route_id == route.id, Export.kind == kind, Export.source_id == source
        )
    )
    if export is None:
        export = Export(
            route_id=route.id,
            kind=kind,
            source_id=source,
            order_id=record.id,
            state=ExportState.PENDING,
        )
        session.add(export)
        session.flush()
    return export


def _mark_deleted(runtime: Runtime, site_id: int, order_id: str, started: datetime) -> None:
    with runtime.transaction() as session:
        record = session.scalar(
            select(OrderRecord).where(
                OrderRecord.site_id == site_id, OrderRecord.source_id == order_id
            )
        )
        if record is not None:
            record.deleted = True
            record.fetched_at = utcnow()
            for export in session.scalars(select(Export).where(Export.order_id == record.id)):
                if export.state in REQUEUE_STATES:
                    export.state = ExportState.SKIPPED
                    export.message = "The order was deleted in the shop before it was booked."
                    export.updated_at = utcnow()
        changed_meanwhile = _finish_request(session, site_id, order_id, started)
    if changed_meanwhile:
        _sync_again(runtime, site_id, order_id)


def _finish_request(session: Session, site_id: int, order_id: str, started: datetime) -> bool:
    """Drop the order's sync request unless it came in after this sync began (then it stays,
    so the newer change is fetched too); whether it did."""
    deleted = session.execute(
        delete(SyncRequest).where(
            SyncRequest.site_id == site_id,
            SyncRequest.source_id == order_id,
            SyncRequest.requested_at <= started,
        )
    )
    if deleted.rowcount:
        return False
    return session.get(SyncRequest, (site_id, order_id)) is not None
