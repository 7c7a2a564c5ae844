"""The audit trail (behandlingshistorik): who did what, when; details were masked on writing."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from ledgerbridge.masking import mask_mapping
from ledgerbridge.store.models import AuditRecord
from ledgerbridge_webui.views import PAGE_SIZE, runtime

blueprint = Blueprint("audit_log", __name__)


@blueprint.get("/audit")
def index():
    """Audit records, newest first, filtered by actor, action or subject."""
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(AuditRecord)
    for name, column in (
        ("actor", AuditRecord.actor),
        ("action", AuditRecord.action),
        ("subject", AuditRecord.subject),
    ):
        value = (request.args.get(name) or "").strip()
        if value:
            query = query.where(column.startswith(value, autoescape=True))
    with runtime().transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        records = [
            {
                "at": record.at,
                "actor": record.actor,
                "action": record.action,
                "subject": record.subject,
                "details": mask_mapping(record.details or {}),
            }
            for record in session.scalars(
                query.order_by(AuditRecord.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ]
    return render_template(
        "audit.html",
        records=records,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        args=request.args,
    )
