"""Orders: the list with each route's status, and one order's documents, attempts and actions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from ledgerbridge import accounting
from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.masking import scrub
from ledgerbridge.model.schemas import dump_document, load_order, load_result
from ledgerbridge.pipeline import actions
from ledgerbridge.pipeline.documents import FEATURE_PDF_ARCHIVE
from ledgerbridge.store.models import Export, ExportState, Ledger, OrderRecord, Route, Site
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import PAGE_SIZE, STOCKHOLM, runtime

blueprint = Blueprint("orders", __name__)

STATE_FILTERS = tuple(state.value for state in ExportState)


def _day(text: str | None, end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    moment = datetime.combine(day, time.min, tzinfo=STOCKHOLM)
    return moment + timedelta(days=1) if end else moment


def order_query(args: Any) -> Any:
    """The orders matching the list filters (state, site, ledger, dates, number)."""
    query = select(OrderRecord)
    site_id = args.get("site", type=int)
    if site_id:
        query = query.where(OrderRecord.site_id == site_id)
    state = args.get("state", "")
    ledger_id = args.get("ledger", type=int)
    if state in STATE_FILTERS or ledger_id:
        conditions = [Export.order_id == OrderRecord.id]
        if state in STATE_FILTERS:
            conditions.append(Export.state == state)
        if ledger_id:
            conditions.append(
                Export.route_id.in_(select(Route.id).where(Route.ledger_id == ledger_id))
            )
        query = query.where(exists().where(and_(*conditions)))
    after, before = _day(args.get("from")), _day(args.get("to"), end=True)
    if after:
        query = query.where(OrderRecord.created_at >= after)
    if before:
        query = query.where(OrderRecord.created_at < before)
    text = (args.get("q") or "").strip()
    if text:
        query = query.where(or_(OrderRecord.number == text, OrderRecord.source_id == text))
    return query


@blueprint.get("/orders")
def index():
    """Orders, newest first, with each route's export state."""
    rt = runtime()
    page = max(request.args.get("page", 1, type=int), 1)
    with rt.transaction() as session:
        query = order_query(request.args)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        records = list(
            session.scalars(
                query.order_by(OrderRecord.created_at.desc().nulls_last(), OrderRecord.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        )
        exports: dict[int, list[Export]] = {}
        if records:
            for export in session.scalars(
                select(Export)
                .where(Export.order_id.in_([r.id for r in records]))
                .order_by(Export.route_id, Export.kind)
            ):
                exports.setdefault(export.order_id or 0, []).append(export)
        routes = {
            route.id: f"{route.site.name} → {route.ledger.name}"
            for route in session.scalars(select(Route))
        }
        sites = [(s.id, s.name) for s in session.scalars(select(Site).order_by(Site.key))]
        ledgers = [(x.id, x.name) for x in session.scalars(select(Ledger).order_by(Ledger.key))]
        site_names = dict(sites)
    return render_template(
        "orders/index.html",
        records=records,
        exports=exports,
        routes=routes,
        sites=sites,
        ledgers=ledgers,
        site_names=site_names,
        states=STATE_FILTERS,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        args=request.args,
    )


def _preview(rt: Any, canonical: dict | None, problem: str, route: Any) -> tuple[dict | None, str]:
    """What the order would become on a route (before it was exported)."""
    if not canonical:
        return None, problem or _("The order has not been read yet.")
    try:
        order = load_order(canonical)
        document = accounting.build_document(order, route, rt.hooks)
    except accounting.SkipExport as skip:
        return None, str(skip)
    except (LedgerbridgeError, ValueError) as error:
        return None, scrub(str(error))
    return dump_document(document), ""


@blueprint.get("/orders/<int:order_id>")
def detail(order_id: int):
    """One order: per route its document (or preview), attempts and actions."""
    rt = runtime()
    with rt.transaction() as session:
        record = session.get(OrderRecord, order_id) or abort(404)
        site = session.get(Site, record.site_id)
        exports = list(
            session.scalars(
                select(Export)
                .where(Export.order_id == record.id)
                .order_by(Export.route_id, Export.id)
            )
        )
        routes = list(session.scalars(select(Route).where(Route.site_id == record.site_id)))
        sections = []
        for route in routes:
            mine = [e for e in exports if e.route_id == route.id]
            order_export = next((e for e in mine if e.kind == "order"), None)
            frozen = order_export.document if order_export is not None else None
            sections.append(
                {
                    "route_id": route.id,
                    "context": None if frozen else rt.route_context(route),
                    "ledger": route.ledger.name,
                    "exports": [_export_view(e) for e in mine],
                    "document": frozen,
                    "preview": not frozen,
                    "note": "",
                    "pdf": FEATURE_PDF_ARCHIVE in rt.plan_features(route.ledger.plan, session),
                }
            )
        view = {
            "id": record.id,
            "number": record.number,
            "source_id": record.source_id,
            "status": record.status,
            "currency": record.currency,
            "total": record.total,
            "customer": record.customer_name,
            "created_at": record.created_at,
            "modified_at": record.modified_at,
            "problem": record.problem,
            "deleted": record.deleted,
            "site": site.name if site else "",
            "canonical": record.canonical or {},
        }
    # Previews outside the transaction: a connector may look up a currency rate (and refresh
    # its token, which writes) while building one, and SQLite has a single writer.
    for section in sections:
        if section["preview"]:
            section["document"], section["note"] = _preview(
                rt, view["canonical"], view["problem"], section.pop("context")
            )
        else:
            section.pop("context")
    return render_template("orders/detail.html", order=view, sections=sections)


def _export_view(export: Export) -> dict[str, Any]:
    return {
        "id": export.id,
        "kind": export.kind,
        "source_id": export.source_id,
        "reference": export.reference,
        "state": export.state,
        "failure_class": export.failure_class,
        "message": scrub(export.message),
        "attempts": export.attempts,
        "target_id": export.target_id,
        "document": export.document,
        "pdf_path": export.pdf_path,
        "updated_at": export.updated_at,
        "attempt_log": [
            {
                "number": attempt.number,
                "started_at": attempt.started_at,
                "finished_at": attempt.finished_at,
                "outcome": attempt.outcome,
                "failure_class": attempt.failure_class,
                "message": scrub(attempt.message),
                "exchanges": attempt.exchanges or [],
                "worker": attempt.worker,
            }
            for attempt in export.attempt_log
        ],
    }


ACTIONS = {
    "retry": (actions.retry, _l("Retry queued.")),
    "export_now": (actions.export_now, _l("Export queued.")),
    "force": (
        actions.force_reexport,
        _l("Re-export queued; an existing document is linked again, never duplicated."),
    ),
    "resolve": (actions.mark_resolved, _l("Marked as resolved.")),
}


@blueprint.post("/exports/<int:export_id>/<action>")
def act(export_id: int, action: str):
    """Retry, export now, force a re-export or mark an export resolved."""
    if action not in ACTIONS:
        abort(404)
    rt = runtime()
    with rt.transaction() as session:
        export = session.get(Export, export_id) or abort(404)
        order_id = export.order_id
    function, message = ACTIONS[action]
    try:
        if action == "resolve":
            actions.mark_resolved(rt, export_id, actor(), request.form.get("note", "")[:500])
        else:
            function(rt, export_id, actor())
    except actions.ActionRefused as refused:
        flash(str(refused), "error")
    else:
        flash(str(message), "ok")
    if order_id is None:
        return redirect(url_for("orders.index"))
    return redirect(url_for("orders.detail", order_id=order_id))


@blueprint.get("/exports/<int:export_id>/pdf")
def pdf(export_id: int):
    """The document's PDF: from the archive, else fetched from the ledger (plans with PDFs)."""
    rt = runtime()
    with rt.transaction() as session:
        export = session.get(Export, export_id) or abort(404)
        ledger = export.route.ledger
        if FEATURE_PDF_ARCHIVE not in rt.plan_features(ledger.plan, session):
            abort(403, description=_("PDFs are not part of the %(plan)s plan.", plan=ledger.plan))
        context = rt.ledger_context(ledger)
        archived, result, reference = export.pdf_path, export.result, export.reference
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in reference or str(export_id))
    if archived:
        root = rt.config.instance_path.resolve()
        path = (root / archived).resolve()
        if root not in path.parents or not path.is_file():
            abort(404)
        content = Path(path).read_bytes()
    else:
        if not result:
            abort(404, description=_("The document has not been created yet."))
        try:
            content = rt.hooks.target(context).fetch_pdf(load_result(result)) or b""
        except LedgerbridgeError as error:
            abort(502, description=scrub(str(error)))
        if not content:
            abort(404, description=_("The ledger has no PDF for this document."))
    return Response(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
