"""Daily summaries (dagskassa): one document per route and day for the day's cash sales."""

from __future__ import annotations

from sqlalchemy import select

from ledgerbridge.model.schemas import load_document
from ledgerbridge.pipeline import clock, ids
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import Export, ExportState, utcnow


def close_daily_summaries(runtime: Runtime) -> list[int]:
    """Create the summary exports of every finished day and queue them; their ids.

    A cash sale waiting in a summary (``in_summary``) joins the summary of its booking date
    once that day has ended in Stockholm; the summary export is keyed by route and day, so
    running this twice never creates a second one.
    """
    today = clock.stockholm_date()
    created: list[int] = []
    with runtime.transaction() as session:
        waiting = session.scalars(
            select(Export)
            .where(
                Export.state == ExportState.IN_SUMMARY,
                Export.summary_export_id.is_(None),
                Export.document.is_not(None),
            )
            .order_by(Export.id)
        ).all()
        groups: dict[tuple[int, str], list[Export]] = {}
        for export in waiting:
            day = load_document(export.document).date
            if day >= today:
                continue
            groups.setdefault((export.route_id, day.isoformat()), []).append(export)
        for (route_id, day), members in groups.items():
            summary = session.scalar(
                select(Export).where(
                    Export.route_id == route_id,
                    Export.kind == "daily_summary",
                    Export.source_id == day,
                )
            )
            if summary is None:
                summary = Export(
                    route_id=route_id,
                    kind="daily_summary",
                    source_id=day,
                    state=ExportState.PENDING,
                )
                session.add(summary)
                session.flush()
            elif summary.state not in (ExportState.PENDING, ExportState.RETRYING):
                # Late cash sales of a day already booked get a summary of their own.
                summary = Export(
                    route_id=route_id,
                    kind="daily_summary",
                    source_id=f"{day}-{members[0].id}",
                    state=ExportState.PENDING,
                )
                session.add(summary)
                session.flush()
            for member in members:
                member.summary_export_id = summary.id
                member.updated_at = utcnow()
            created.append(summary.id)
    for export_id in created:
        runtime.queue.enqueue("run_export", job_id=ids.export_job(export_id), export_id=export_id)
    return created
