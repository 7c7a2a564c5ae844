"""Bulk sync: queue every order of some sites in a date range, with counted progress.

The enumerating job streams the shop's listing (constant memory), records each order it
queues, saves its cursor as it goes (so a cancelled run resumes where it stopped) and stops
at once when the run is cancelled. A dry run queues nothing: it counts, and previews what a
sample of the orders would become.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select

from ledgerbridge.errors import DataError, LedgerbridgeError
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.pipeline import ids
from ledgerbridge.pipeline.sync import exportable, request_syncs
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import (
    BulkRun,
    BulkRunItem,
    Export,
    ExportState,
    OrderRecord,
    Site,
    utcnow,
)
from ledgerbridge.store.upsert import insert_ignore

log = logging.getLogger(__name__)

SAVE_EVERY = 100
DRY_RUN_PREVIEWS = 25
DONE_STATES = (ExportState.DONE, ExportState.SKIPPED, ExportState.RESOLVED, ExportState.IN_SUMMARY)


def start(
    runtime: Runtime,
    *,
    site_ids: list[int],
    statuses: list[str],
    modified_after: datetime | None,
    modified_before: datetime | None,
    dry_run: bool,
    actor: str,
    route_ids: list[int] | None = None,
) -> int:
    """Create a bulk run and queue its enumerating job; the run's id."""
    with runtime.transaction() as session:
        run = BulkRun(
            created_by=actor,
            dry_run=dry_run,
            state="queued",
            params={
                "site_ids": site_ids,
                "route_ids": route_ids or [],
                "statuses": statuses,
                "modified_after": modified_after.isoformat() if modified_after else None,
                "modified_before": modified_before.isoformat() if modified_before else None,
            },
        )
        session.add(run)
        session.flush()
        audit(session, actor, "bulk.started", f"bulk:{run.id}", **run.params, dry_run=dry_run)
        run_id = run.id
    runtime.queue.enqueue("bulk_sync", job_id=ids.bulk_job(run_id), queue="bulk", run_id=run_id)
    return run_id


def cancel(runtime: Runtime, run_id: int, actor: str) -> None:
    """Stop a running bulk run (orders already queued still finish)."""
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is not None and run.state in ("queued", "running"):
            run.state = "cancelled"
            audit(session, actor, "bulk.cancelled", f"bulk:{run_id}")


def resume(runtime: Runtime, run_id: int, actor: str) -> bool:
    """Continue a cancelled run from its cursor; False if it cannot be resumed."""
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is None or run.state != "cancelled":
            return False
        run.state = "queued"
        audit(session, actor, "bulk.resumed", f"bulk:{run_id}")
    runtime.queue.enqueue("bulk_sync", job_id=ids.bulk_job(run_id), queue="bulk", run_id=run_id)
    return True


def _cancelled(runtime: Runtime, run_id: int) -> bool:
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        return run is None or run.state == "cancelled"


def bulk_sync(runtime: Runtime, run_id: int) -> None:
    """Enumerate the run's orders and queue them (or preview them for a dry run)."""
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is None or run.state not in ("queued", "running"):
            return
        run.state = "running"
        params = dict(run.params)
        cursor = dict(run.cursor or {})
        dry_run = run.dry_run
        summary: dict[str, Any] = dict(run.summary or {})
        found = run.found
    after = _parse(params.get("modified_after"))
    before = _parse(params.get("modified_before"))
    for site_id in params["site_ids"]:
        with runtime.transaction() as session:
            site = session.get(Site, site_id)
            if site is None:
                continue
            context = runtime.site_context(site)
            routes = [
                runtime.route_context(route)
                for route in site.routes
                if route.enabled and (not params["route_ids"] or route.id in params["route_ids"])
            ]
        since = _parse(cursor.get(str(site_id))) or after
        source = runtime.hooks.source(context)
        batch: list[str] = []  # found but not yet recorded; written SAVE_EVERY at a time
        for summary_row in source.iter_orders(since, list(params["statuses"])):
            if before is not None and summary_row.modified_at >= before:
                break
            found += 1
            if dry_run:
                _preview(runtime, source, routes, summary_row.id, summary)
            else:
                batch.append(summary_row.id)
            cursor[str(site_id)] = summary_row.modified_at.isoformat()
            if found % SAVE_EVERY == 0:
                _record(runtime, run_id, site_id, batch)
                _save(runtime, run_id, found, cursor, summary)
                if _cancelled(runtime, run_id):
                    return
        _record(runtime, run_id, site_id, batch)
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is None or run.state == "cancelled":
            return
        run.found = found
        run.queued = 0 if dry_run else found
        run.cursor = cursor
        run.summary = summary
        run.state = "done" if dry_run else "queued_all"
        run.finished_at = utcnow() if dry_run else None


def _record(runtime: Runtime, run_id: int, site_id: int, batch: list[str]) -> None:
    """Record a batch of found orders in the run and request their syncs; empties ``batch``."""
    if not batch:
        return
    with runtime.transaction() as session:
        for source_id in batch:
            insert_ignore(
                session,
                BulkRunItem,
                {"run_id": run_id, "site_id": site_id, "source_id": source_id},
                ["run_id", "site_id", "source_id"],
            )
    request_syncs(runtime, site_id, batch, "bulk", queue="bulk")
    batch.clear()


def _save(runtime: Runtime, run_id: int, found: int, cursor: dict, summary: dict) -> None:
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is not None:
            run.found = found
            run.queued = found if not run.dry_run else 0
            run.cursor = dict(cursor)
            run.summary = dict(summary)


def _preview(
    runtime: Runtime, source: Any, routes: list, order_id: str, summary: dict[str, Any]
) -> None:
    from ledgerbridge import accounting

    counts = summary.setdefault("would_become", {})
    previews = summary.setdefault("previews", [])
    summary["sampled"] = summary.get("sampled", 0)
    if summary["sampled"] >= DRY_RUN_PREVIEWS:
        return
    summary["sampled"] += 1
    try:
        order = source.normalize_order(source.fetch_order(order_id))
    except LedgerbridgeError as error:
        counts["unreadable"] = counts.get("unreadable", 0) + 1
        previews.append({"order": order_id, "error": str(error)})
        return
    for route in routes:
        if not exportable(
            order,
            load_route_settings({}).export_statuses
            if route.settings is None
            else route.settings.export_statuses,
        ):
            key = "not exported (status)"
        else:
            try:
                document = accounting.build_document(order, route, runtime.hooks)
                key = f"{document.document_type.value} / {document.scenario.value}"
                previews.append(
                    {
                        "order": order.number,
                        "route": route.id,
                        "kind": key,
                        "total": f"{document.total:.2f}",
                        "currency": order.currency,
                    }
                )
            except accounting.SkipExport:
                key = "skipped"
            except DataError as error:
                key = "needs review"
                previews.append({"order": order.number, "route": route.id, "error": str(error)})
        counts[key] = counts.get(key, 0) + 1


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def progress(runtime: Runtime, run_id: int) -> dict[str, Any]:
    """A bulk run's progress: how many orders are done, failed, in review, waiting, pending.

    Each queued order counts once, by the worst state among its exports on the run's routes
    (an order with nothing to book counts as done once it has been read).
    """
    with runtime.transaction() as session:
        run = session.get(BulkRun, run_id)
        if run is None:
            raise LookupError(f"No bulk run {run_id}")
        route_ids = run.params.get("route_ids") or []
        export_join = Export.order_id == OrderRecord.id
        if route_ids:
            export_join = and_(export_join, Export.route_id.in_(route_ids))
        rank = case(
            (OrderRecord.id.is_(None), 0),
            (Export.id.is_(None), 5),
            (Export.state == ExportState.FAILED, 1),
            (Export.state == ExportState.NEEDS_REVIEW, 2),
            (Export.state == ExportState.WAITING_QUOTA, 3),
            (Export.state.in_(DONE_STATES), 5),
            else_=4,
        )
        per_item = (
            select(BulkRunItem.id.label("item"), func.min(rank).label("rank"))
            .outerjoin(
                OrderRecord,
                and_(
                    OrderRecord.site_id == BulkRunItem.site_id,
                    OrderRecord.source_id == BulkRunItem.source_id,
                ),
            )
            .outerjoin(Export, export_join)
            .where(BulkRunItem.run_id == run_id)
            .group_by(BulkRunItem.id)
            .subquery()
        )
        counts = dict(
            session.execute(select(per_item.c.rank, func.count()).group_by(per_item.c.rank)).all()
        )
        queued = sum(counts.values())
        done, failed = counts.get(5, 0), counts.get(1, 0)
        review, waiting = counts.get(2, 0), counts.get(3, 0)
        pending = counts.get(0, 0) + counts.get(4, 0)
        state = run.state
        if run.dry_run:
            percent = 100 if state == "done" else 0
        else:
            settled = queued - pending
            percent = (
                int(100 * settled / queued) if queued else (100 if state == "queued_all" else 0)
            )
            if state == "queued_all" and pending == 0:
                state = "done"
            elif state == "queued_all":
                state = "running"
            if state not in ("done",) and percent == 100:
                percent = 99
        return {
            "id": run.id,
            "state": state,
            "dry_run": run.dry_run,
            "found": run.found,
            "queued": queued,
            "done": done,
            "failed": failed,
            "needs_review": review,
            "waiting": waiting,
            "pending": pending,
            "percent": percent,
            "summary": run.summary,
            "params": run.params,
            "created_by": run.created_by,
            "created_at": run.created_at.isoformat(),
        }
