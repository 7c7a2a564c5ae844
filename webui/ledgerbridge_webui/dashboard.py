"""The dashboard: per ledger its plan and quota, today's exports, and everything needing
action (failed, needs review, reconnect needed, webhooks disabled), webhook health per site."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, render_template
from sqlalchemy import func, select

from ledgerbridge.setup import ledgers as ledger_setup
from ledgerbridge.store.models import Export, ExportState, Ledger, Notice, Route, Site
from ledgerbridge_webui.views import STOCKHOLM, runtime

blueprint = Blueprint("dashboard", __name__)


def webhook_health(site: Site) -> dict:
    """A site's webhook state as the dashboard shows it: ok, unknown or a problem."""
    state = site.webhooks or {}
    hooks = state.get("webhooks") or []
    inactive = [hook["topic"] for hook in hooks if hook.get("status") != "active"]
    if not state:
        level = "unknown"
    elif not state.get("ok") or inactive or not hooks:
        level = "problem"
    else:
        level = "ok"
    return {
        "id": site.id,
        "name": site.name,
        "level": level,
        "checked_at": state.get("checked_at", ""),
        "error": state.get("error", ""),
        "inactive": inactive,
        "count": len(hooks),
        "enabled": site.enabled,
    }


@blueprint.get("/")
def index():
    """Everything at a glance."""
    rt = runtime()
    today = datetime.combine(datetime.now(STOCKHOLM).date(), time.min, tzinfo=STOCKHOLM)
    with rt.transaction() as session:
        ledgers = [
            ledger_setup.ledger_view(rt, session, ledger)
            for ledger in session.scalars(select(Ledger).order_by(Ledger.key))
        ]
        done_today = dict(
            session.execute(
                select(Route.ledger_id, func.count())
                .join(Export, Export.route_id == Route.id)
                .where(Export.state == ExportState.DONE, Export.finished_at >= today)
                .group_by(Route.ledger_id)
            ).all()
        )
        counts = dict(
            session.execute(
                select(Export.state, func.count())
                .where(
                    Export.state.in_(
                        [ExportState.FAILED, ExportState.NEEDS_REVIEW, ExportState.WAITING_QUOTA]
                    )
                )
                .group_by(Export.state)
            ).all()
        )
        sites = [webhook_health(site) for site in session.scalars(select(Site).order_by(Site.key))]
        site_notices = [
            {"level": notice.level, "message": notice.message, "subject": notice.subject}
            for notice in session.scalars(
                select(Notice)
                .where(Notice.subject.startswith("site:"), Notice.dismissed_at.is_(None))
                .order_by(Notice.created_at.desc())
                .limit(20)
            )
        ]
    for ledger in ledgers:
        ledger["done_today"] = done_today.get(ledger["id"], 0)
    action = {
        "failed": counts.get(ExportState.FAILED, 0),
        "needs_review": counts.get(ExportState.NEEDS_REVIEW, 0),
        "waiting_quota": counts.get(ExportState.WAITING_QUOTA, 0),
        "reconnect": [ledger for ledger in ledgers if ledger["status"] != "ok"],
        "webhooks": [site for site in sites if site["level"] == "problem" and site["enabled"]],
        "notices": site_notices,
    }
    return render_template("dashboard.html", ledgers=ledgers, sites=sites, action=action)
