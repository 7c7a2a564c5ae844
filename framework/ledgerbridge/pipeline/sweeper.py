"""The sweeper: the database is the truth, Redis only the transport.

Every minute it re-queues what has work left but no live job — exports pending (except credit
notes waiting for their original, which its success queues), running on a dead worker or
retrying without a scheduled retry, and orders whose sync request was lost
(a flushed or restarted Redis, a killed worker) — resumes exports waiting for quota when the
ledger has room again, and closes finished days into daily summaries.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, load_only

from ledgerbridge.pipeline import clock, documents, ids, quota
from ledgerbridge.pipeline.summary import close_daily_summaries
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import (
    ACTIVE_STATES,
    Export,
    ExportState,
    Ledger,
    Route,
    SyncRequest,
)

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=60)
#: Seconds between the two looks that find a job lost.
RECHECK_SECONDS = 0.5
BATCH = 2000


@dataclass
class SweepReport:
    """What one sweep re-queued."""

    exports: list[int] = field(default_factory=list)
    syncs: list[tuple[int, str]] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    summaries: list[int] = field(default_factory=list)


def sweep(runtime: Runtime, *, stale_after: timedelta = STALE_AFTER) -> SweepReport:
    """Re-queue lost work; see the module docstring."""
    report = SweepReport()
    cutoff = clock.now() - stale_after
    with runtime.transaction() as session:
        stale_exports = [
            export.id
            for export in session.scalars(
                select(Export)
                .options(load_only(Export.kind, Export.state, Export.route_id, Export.order_id))
                .where(Export.state.in_(ACTIVE_STATES), Export.updated_at < cutoff)
                .order_by(Export.id)
                .limit(BATCH)
            )
            if not _parked(runtime, session, export)
        ]
        stale_syncs: list[tuple[int, str]] = [
            (site_id, source_id)
            for site_id, source_id in session.execute(
                select(SyncRequest.site_id, SyncRequest.source_id)
                .where(SyncRequest.requested_at < cutoff)
                .order_by(SyncRequest.requested_at)
                .limit(BATCH)
            )
        ]
    without_job = _without_live_job(
        runtime,
        [ids.export_job(e) for e in stale_exports] + [ids.sync_job(*r) for r in stale_syncs],
    )
    # What was stale when the sweep began may have been done since (its job ran and ended
    # between then and the looks): the database says what is still waiting.
    lost_exports, lost_syncs = _still_waiting(
        runtime,
        [e for e in stale_exports if ids.export_job(e) in without_job],
        [r for r in stale_syncs if ids.sync_job(*r) in without_job],
        cutoff,
    )
    for export_id in lost_exports:
        runtime.queue.enqueue("run_export", job_id=ids.export_job(export_id), export_id=export_id)
        report.exports.append(export_id)
    for site_id, source_id in lost_syncs:
        job_id = ids.sync_job(site_id, source_id)
        runtime.queue.enqueue("sync_order", job_id=job_id, site_id=site_id, order_id=source_id)
        report.syncs.append((site_id, source_id))
    with runtime.transaction() as session:
        ledger_ids = list(
            session.scalars(
                select(Route.ledger_id)
                .join(Export, Export.route_id == Route.id)
                .where(Export.state == ExportState.WAITING_QUOTA)
                .distinct()
            )
        )
    for ledger_id in ledger_ids:
        report.resumed.extend(resume_waiting(runtime, ledger_id))
    report.summaries = close_daily_summaries(runtime)
    if report.exports or report.syncs:
        log.warning(
            "Sweeper re-queued %d exports and %d order syncs with no live job",
            len(report.exports),
            len(report.syncs),
        )
    return report


def _without_live_job(runtime: Runtime, job_ids: list[str]) -> set[str]:
    """The jobs that are not live, asked twice ``RECHECK_SECONDS`` apart."""
    missing = [job_id for job_id in job_ids if not runtime.queue.is_live(job_id)]
    if not missing:
        return set()
    # A job that asks to be postponed is gone for a moment before it is queued again (it
    # ended, so its id is free); such a job is not lost and must not be reported as lost.
    time.sleep(RECHECK_SECONDS)
    return {job_id for job_id in missing if not runtime.queue.is_live(job_id)}


def _still_waiting(
    runtime: Runtime,
    export_ids: list[int],
    requests: list[tuple[int, str]],
    cutoff: datetime,
) -> tuple[list[int], list[tuple[int, str]]]:
    """Of these exports and sync requests, those still waiting since before ``cutoff``."""
    if not export_ids and not requests:
        return [], []
    with runtime.transaction() as session:
        exports = set(
            session.scalars(
                select(Export.id).where(
                    Export.id.in_(export_ids),
                    Export.state.in_(ACTIVE_STATES),
                    Export.updated_at < cutoff,
                )
            )
        )
        waiting: set[tuple[int, str]] = set()
        if requests:
            rows = session.execute(
                select(SyncRequest.site_id, SyncRequest.source_id).where(
                    tuple_(SyncRequest.site_id, SyncRequest.source_id).in_(requests),
                    SyncRequest.requested_at < cutoff,
                )
            )
            waiting = {(site_id, source_id) for site_id, source_id in rows}
    return (
        [e for e in export_ids if e in exports],
        [request for request in requests if request in waiting],
    )


def _parked(runtime: Runtime, session: Session, export: Export) -> bool:
    # A credit note put back to pending while its original is on its way has no job on
    # purpose: the original's success queues it. Re-queuing it would only park it again.
    if export.kind != "refund" or export.state != ExportState.PENDING:
        return False
    parent = documents.parent_export(session, export)
    if documents.original_on_its_way(session, parent) is not None:
        return True
    # An original booked while the credit note's own job was still running woke it with a
    # follow-up job of its own id.
    originals = [] if parent is None else [parent.id, parent.summary_export_id]
    return any(
        runtime.queue.is_live(ids.follow_up_job(export.id, original_id))
        for original_id in originals
        if original_id is not None
    )


def resume_waiting(runtime: Runtime, ledger_id: int) -> list[int]:
    """Queue as many exports waiting for quota as the ledger has room for; their ids."""
    with runtime.transaction() as session:
        ledger = session.get(Ledger, ledger_id)
        if ledger is None:
            return []
        room = quota.status(session, ledger).remaining
        if room <= 0:
            return []
        waiting = list(
            session.scalars(
                select(Export)
                .join(Route, Route.id == Export.route_id)
                .where(Route.ledger_id == ledger_id, Export.state == ExportState.WAITING_QUOTA)
                .order_by(Export.id)
                .limit(room)
            )
        )
        for export in waiting:
            export.state = ExportState.PENDING
            export.message = ""
        export_ids = [export.id for export in waiting]
    for export_id in export_ids:
        runtime.queue.enqueue("run_export", job_id=ids.export_job(export_id), export_id=export_id)
    return export_ids
