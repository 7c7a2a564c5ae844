"""Scheduled upkeep besides the sweeper: webhook health, inventory, the PDF archive."""

from __future__ import annotations

import logging
from pathlib import Path

from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.model.schemas import load_result
from ledgerbridge.pipeline.documents import FEATURE_PDF_ARCHIVE
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Export, Notice, Route, Site, utcnow
from ledgerbridge.store.upsert import insert_ignore

log = logging.getLogger(__name__)


def delivery_url(runtime: Runtime, site: Site) -> str:
    """Where the shop must deliver webhooks for ``site``."""
    return f"{runtime.config.public_url}/webhooks/{site.connector}/{site.key}"


def check_webhooks(runtime: Runtime, site_id: int | None = None) -> dict[int, list[dict]]:
    """Make sure every site's webhooks exist and are active; repair and report disabled ones."""
    with runtime.transaction() as session:
        query = session.query(Site).filter(Site.enabled.is_(True))
        if site_id is not None:
            query = query.filter(Site.id == site_id)
        sites = [
            (site.id, runtime.site_context(site), delivery_url(runtime, site)) for site in query
        ]
    report: dict[int, list[dict]] = {}
    for identifier, context, url in sites:
        try:
            statuses = runtime.hooks.source(context).register_webhooks(url)
            entries = [
                {
                    "id": s.id,
                    "topic": s.topic,
                    "status": s.status,
                    "repaired": s.repaired,
                    "message": s.message,
                    "delivery_url": s.delivery_url,
                }
                for s in statuses
            ]
            state = {"checked_at": utcnow().isoformat(), "ok": True, "webhooks": entries}
        except LedgerbridgeError as error:
            entries = []
            state = {"checked_at": utcnow().isoformat(), "ok": False, "error": str(error)}
        report[identifier] = entries
        with runtime.transaction() as session:
            site = session.get(Site, identifier)
            if site is None:
                continue
            site.webhooks = state
            repaired = [entry for entry in entries if entry["repaired"]]
            if repaired:
                topics = ", ".join(entry["topic"] for entry in repaired)
                insert_ignore(
                    session,
                    Notice,
                    {
                        "subject": f"site:{identifier}",
                        "kind": "webhook_repaired",
                        "period": utcnow().strftime("%Y-%m-%dT%H:%M"),
                        "level": "warning",
                        "message": f"{site.name}: the shop had disabled the webhooks for {topics}; "
                        "they were re-enabled. Orders in between are caught by polling.",
                    },
                    ["subject", "kind", "period"],
                )
                audit(session, "system", "webhooks.repaired", f"site:{identifier}", topics=topics)
    return report


def sync_inventory(runtime: Runtime, route_id: int) -> int:
    """Copy stock levels from the ledger's articles to the shop; products changed."""
    with runtime.transaction() as session:
        route = session.get(Route, route_id)
        if route is None or not route.enabled:
            return 0
        context = runtime.route_context(route)
    levels = runtime.hooks.target(context.ledger).stock_levels(None)
    changed = runtime.hooks.source(context.site).update_stock(levels)
    log.info("Inventory of route %s: %d products changed", route_id, changed)
    return changed


def archive_pdf(runtime: Runtime, export_id: int) -> str:
    """Store the document's PDF in the instance archive (Growth plans and up); its path."""
    with runtime.transaction() as session:
        export = session.get(Export, export_id)
        if export is None or not export.result:
            return ""
        route = session.get(Route, export.route_id)
        assert route is not None
        ledger = runtime.ledger_context(route.ledger)
        result = load_result(export.result)
        reference = export.reference or f"export-{export_id}"
    if not ledger.has_feature(FEATURE_PDF_ARCHIVE):
        log.info(
            "PDF archive is not part of the %s plan; export %s not archived.",
            ledger.plan,
            export_id,
        )
        return ""
    try:
        content = runtime.hooks.target(ledger).fetch_pdf(result)
    except LedgerbridgeError as error:
        log.warning("PDF of export %s could not be fetched: %s", export_id, error)
        raise
    if not content:
        return ""
    folder = runtime.config.instance_path / "archive" / ledger.key
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in reference)
    path = folder / f"{safe}.pdf"
    path.write_bytes(content)
    with runtime.transaction() as session:
        export = session.get(Export, export_id)
        if export is not None:
            export.pdf_path = str(Path(path).relative_to(runtime.config.instance_path))
    return str(path)
