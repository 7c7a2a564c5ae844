"""What a person can do to an export or a ledger (from the UI, the API or the CLI)."""

from __future__ import annotations

from sqlalchemy import select

from ledgerbridge.pipeline import bindings, ids
from ledgerbridge.pipeline.sweeper import resume_waiting
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Export, ExportState, Ledger, Plan, Route, utcnow

RETRYABLE = (
    ExportState.FAILED,
    ExportState.NEEDS_REVIEW,
    ExportState.WAITING_QUOTA,
    ExportState.RETRYING,
    ExportState.PENDING,
)


class ActionRefused(ValueError):
    """The action does not apply to the export in its current state (the message says why)."""


def retry(runtime: Runtime, export_id: int, actor: str) -> None:
    """Try a failed or reviewed export again now, resuming from its recorded progress."""
    with runtime.transaction() as session:
        export = _get(session, export_id)
        if export.state not in RETRYABLE:
            raise ActionRefused(f"An export that is {export.state} cannot be retried.")
        export.state = ExportState.PENDING
        export.failure_class = ""
        export.message = ""
        export.updated_at = utcnow()
        audit(session, actor, "export.retry", f"export:{export_id}", reference=export.reference)
    runtime.queue.enqueue("run_export", job_id=ids.export_job(export_id), export_id=export_id)


def export_now(runtime: Runtime, export_id: int, actor: str) -> None:
    """Queue a pending or waiting export at once."""
    retry(runtime, export_id, actor)


def force_reexport(runtime: Runtime, export_id: int, actor: str) -> None:
    """Export again even though it was done: forget our link and our frozen document.

    Never a blind duplicate: the target is first asked for a document with the same
    reference, and an existing one is linked again instead of created.
    """
    with runtime.transaction() as session:
        export = _get(session, export_id)
        if export.state in (ExportState.RUNNING, ExportState.IN_SUMMARY):
            raise ActionRefused(f"An export that is {export.state} cannot be re-exported.")
        binding = bindings.find(session, export.route_id, export.kind, export.source_id)
        if binding is not None:
            bindings.forget(session, binding)
        export.state = ExportState.PENDING
        export.verify_first = True
        export.progress = {}
        export.document = None
        export.result = None
        export.target_id = ""
        export.failure_class = ""
        export.message = ""
        export.updated_at = utcnow()
        audit(session, actor, "export.force", f"export:{export_id}", reference=export.reference)
    runtime.queue.enqueue("run_export", job_id=ids.export_job(export_id), export_id=export_id)


def mark_resolved(runtime: Runtime, export_id: int, actor: str, note: str = "") -> None:
    """Close a failed or reviewed export by hand (the user fixed it in the ledger)."""
    with runtime.transaction() as session:
        export = _get(session, export_id)
        if export.state not in (ExportState.FAILED, ExportState.NEEDS_REVIEW):
            raise ActionRefused(f"An export that is {export.state} is not waiting for anyone.")
        export.state = ExportState.RESOLVED
        export.message = f"Resolved by {actor}" + (f": {note}" if note else "")
        export.updated_at = utcnow()
        audit(
            session,
            actor,
            "export.resolved",
            f"export:{export_id}",
            reference=export.reference,
            note=note,
        )


def set_plan(runtime: Runtime, ledger_id: int, plan: str, actor: str) -> list[int]:
    """Move a ledger to another plan; exports waiting for quota continue. Their ids."""
    with runtime.transaction() as session:
        ledger = session.get(Ledger, ledger_id)
        if ledger is None:
            raise ActionRefused(f"No ledger {ledger_id}.")
        if session.get(Plan, plan) is None:
            names = ", ".join(session.scalars(select(Plan.name).order_by(Plan.position)))
            raise ActionRefused(f"Unknown plan {plan!r}; plans: {names}.")
        previous = ledger.plan
        ledger.plan = plan
        audit(session, actor, "ledger.plan", f"ledger:{ledger_id}", previous=previous, plan=plan)
    runtime.forget_plans()
    return resume_waiting(runtime, ledger_id)


def ledger_reconnected(runtime: Runtime, ledger_id: int, actor: str) -> list[int]:
    """Mark a ledger connected again and retry the exports that failed for want of it."""
    with runtime.transaction() as session:
        ledger = session.get(Ledger, ledger_id)
        if ledger is None:
            raise ActionRefused(f"No ledger {ledger_id}.")
        ledger.status = "ok"
        ledger.status_message = ""
        failed = list(
            session.scalars(
                select(Export.id)
                .join(Route, Route.id == Export.route_id)
                .where(
                    Route.ledger_id == ledger_id,
                    Export.state == ExportState.FAILED,
                    Export.failure_class == "config",
                )
            )
        )
        audit(session, actor, "ledger.reconnected", f"ledger:{ledger_id}")
    for export_id in failed:
        retry(runtime, export_id, actor)
    return failed


def _get(session, export_id: int) -> Export:
    export = session.get(Export, export_id, with_for_update=True)
    if export is None:
        raise ActionRefused(f"No export {export_id}.")
    return export


def dismiss_notice(runtime: Runtime, notice_id: int, actor: str) -> None:
    """Hide a notice (it is not shown again for the same threshold and period)."""
    from ledgerbridge.store.models import Notice

    with runtime.transaction() as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            raise ActionRefused(f"No notice {notice_id}.")
        if notice.dismissed_at is None:
            notice.dismissed_at = utcnow()
            notice.dismissed_by = actor
            audit(session, actor, "notice.dismissed", f"notice:{notice_id}", kind=notice.kind)


def save_plan(
    runtime: Runtime,
    name: str,
    *,
    title: str | None,
    monthly_quota: int | None,
    features: list[str] | None,
    actor: str,
) -> list[int]:
    """Create or change a plan; waiting exports of ledgers on it resume. Their ids."""
    known = {"pdf_archive", "document_type_override"}
    if features is not None and set(features) - known:
        raise ActionRefused(
            f"Unknown features {sorted(set(features) - known)}; known: {sorted(known)}."
        )
    if monthly_quota is not None and monthly_quota < 0:
        raise ActionRefused("A monthly quota cannot be negative.")
    with runtime.transaction() as session:
        plan = session.get(Plan, name)
        if plan is None:
            if monthly_quota is None:
                raise ActionRefused("A new plan needs a monthly quota.")
            position = (
                session.scalar(select(Plan.position).order_by(Plan.position.desc())) or 0
            ) + 1
            plan = Plan(
                name=name,
                title=title or name.title(),
                monthly_quota=monthly_quota,
                features=list(features or []),
                position=position,
            )
            session.add(plan)
        else:
            if title is not None:
                plan.title = title
            if monthly_quota is not None:
                plan.monthly_quota = monthly_quota
            if features is not None:
                plan.features = list(features)
        audit(
            session,
            actor,
            "plan.saved",
            f"plan:{name}",
            monthly_quota=plan.monthly_quota,
            features=list(plan.features),
        )
        ledger_ids = list(session.scalars(select(Ledger.id).where(Ledger.plan == name)))
    runtime.forget_plans()
    resumed: list[int] = []
    for ledger_id in ledger_ids:
        resumed.extend(resume_waiting(runtime, ledger_id))
    return resumed
