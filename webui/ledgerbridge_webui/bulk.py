"""Bulk sync: pick a date range, statuses and routes; dry run; start; watch; cancel; resume."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ledgerbridge.pipeline import bulk as bulk_sync
from ledgerbridge.store.models import BulkRun, Route
from ledgerbridge_webui.orders import _day
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import runtime

blueprint = Blueprint("bulk", __name__, url_prefix="/bulk")
STATUSES = ("completed", "processing", "on-hold", "refunded")
RECENT_RUNS = 20


class BulkRequestError(ValueError):
    """A bulk request that cannot start (the message says why; ``status`` for the API)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def plan_run(
    session: Any,
    route_ids: list[int],
    statuses: list[str],
    after: datetime | None,
    before: datetime | None,
) -> dict[str, Any]:
    """Check a bulk request and resolve its sites; BulkRequestError names what is wrong."""
    query = select(Route).where(Route.enabled.is_(True))
    if route_ids:
        query = query.where(Route.id.in_(route_ids))
    routes = list(session.scalars(query))
    if route_ids and len(routes) != len(set(route_ids)):
        raise BulkRequestError(_("Unknown or disabled route."), 404)
    if not routes:
        raise BulkRequestError(_("There is no enabled route to sync."), 409)
    if not statuses:
        raise BulkRequestError(_("Choose at least one order status."))
    if after and before and after >= before:
        raise BulkRequestError(_("The start date must come before the end date."))
    return {
        "site_ids": sorted({route.site_id for route in routes}),
        "route_ids": sorted(route.id for route in routes) if route_ids else [],
        "statuses": statuses,
        "modified_after": after,
        "modified_before": before,
    }


@blueprint.get("/")
def index():
    """The bulk sync form and the recent runs."""
    rt = runtime()
    with rt.transaction() as session:
        routes = [
            {"id": r.id, "name": f"{r.site.name} → {r.ledger.name}"}
            for r in session.scalars(
                select(Route).where(Route.enabled.is_(True)).order_by(Route.id)
            )
        ]
        run_ids = list(
            session.scalars(select(BulkRun.id).order_by(BulkRun.id.desc()).limit(RECENT_RUNS))
        )
    runs = [bulk_sync.progress(rt, run_id) for run_id in run_ids]
    return render_template("bulk/index.html", routes=routes, runs=runs, statuses=STATUSES)


@blueprint.post("/start")
def start():
    """Start a bulk run (or a dry run, which only counts and previews)."""
    rt = runtime()
    statuses = [s for s in request.form.getlist("status") if s in STATUSES]
    route_ids = [int(v) for v in request.form.getlist("route") if v.isdigit()]
    after = _day(request.form.get("from"))
    before = _day(request.form.get("to"), end=True)
    try:
        with rt.transaction() as session:
            params = plan_run(session, route_ids, statuses, after, before)
    except BulkRequestError as error:
        flash(str(error), "error")
        return redirect(url_for("bulk.index"))
    run_id = bulk_sync.start(
        rt, dry_run=request.form.get("mode") == "dry_run", actor=actor(), **params
    )
    return redirect(url_for("bulk.show", run_id=run_id))


@blueprint.get("/<int:run_id>")
def show(run_id: int):
    """One run with its live progress bar."""
    try:
        progress = bulk_sync.progress(runtime(), run_id)
    except LookupError:
        abort(404)
    return render_template("bulk/show.html", run=progress)


@blueprint.get("/<int:run_id>/progress")
def progress(run_id: int):
    """The run's progress as JSON (polled by the page)."""
    try:
        return jsonify(bulk_sync.progress(runtime(), run_id))
    except LookupError:
        abort(404)


@blueprint.post("/<int:run_id>/cancel")
def cancel(run_id: int):
    """Stop enumerating (orders already queued still finish)."""
    bulk_sync.cancel(runtime(), run_id, actor())
    flash(_("The bulk sync was cancelled; orders already queued still finish."), "info")
    return redirect(url_for("bulk.show", run_id=run_id))


@blueprint.post("/<int:run_id>/resume")
def resume(run_id: int):
    """Continue a cancelled run where it stopped."""
    if bulk_sync.resume(runtime(), run_id, actor()):
        flash(_("The bulk sync continues."), "ok")
    else:
        flash(_("Only a cancelled bulk sync can be resumed."), "error")
    return redirect(url_for("bulk.show", run_id=run_id))
