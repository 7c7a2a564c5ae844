"""``POST /webhooks/<connector>/<site>``: verify, record, queue — in milliseconds.

The web process never talks to the shop or a ledger inside a request: the source connector
verifies the delivery (signature, topic, size) with the site's secret, a sync request is
written to the database, and the worker fetches the order's current state. Duplicate and
out-of-order deliveries collapse onto one job; a delivery carrying the order exactly as last
fetched (what matters to the books: our own write-back changes only its status meta) is
answered without a fetch; a rejected delivery changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from ledgerbridge.contexts import SiteContext
from ledgerbridge.errors import ConfigError, WebhookRejected
from ledgerbridge.model import WebhookAction
from ledgerbridge.pipeline.sync import already_fetched, request_sync
from ledgerbridge.store.models import Site

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__)

SITE_CACHE_SECONDS = 30.0
_sites: dict[tuple[str, str], tuple[float, SiteContext | None]] = {}
_sites_guard = threading.Lock()


def _site(connector: str, key: str) -> SiteContext | None:
    runtime = current_app.extensions["ledgerbridge"]
    now = time.monotonic()
    with _sites_guard:
        cached = _sites.get((connector, key))
        if cached is not None and cached[0] > now:
            return cached[1]
    with runtime.transaction() as session:
        site = session.scalar(select(Site).where(Site.key == key))
        context = (
            runtime.site_context(site)
            if site is not None and site.enabled and site.connector == connector
            else None
        )
    with _sites_guard:
        _sites[(connector, key)] = (now + SITE_CACHE_SECONDS, context)
    return context


def forget_sites() -> None:
    """Drop cached site lookups (after a site or its secret changed)."""
    with _sites_guard:
        _sites.clear()


def _error(message: str, status: int):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.post("/webhooks/<connector>/<site_key>")
def receive(connector: str, site_key: str):
    """Accept one webhook delivery."""
    site = _site(connector, site_key)
    if site is None:
        return _error("No such site.", 404)
    body = request.get_data(cache=False)
    headers = {key.lower(): value for key, value in request.headers.items()}
    runtime = current_app.extensions["ledgerbridge"]
    try:
        event = runtime.hooks.source(site).parse_webhook(headers, body)
    except WebhookRejected as rejected:
        log.info("Webhook for %s rejected (%s): %s", site_key, rejected.status, rejected)
        return _error(str(rejected), rejected.status)
    except ConfigError as error:
        return _error(str(error), 400)
    if event.action is WebhookAction.PING:
        return jsonify({"ok": True, "ping": True})
    if not event.order_id:
        return _error("The delivery names no order.", 400)
    if already_fetched(runtime, site.id, event.order_id, event.content_digest):
        # Typically the announcement of our own write-back: the order is as last fetched.
        return jsonify({"ok": True, "unchanged": event.order_id})
    request_sync(runtime, site.id, event.order_id, f"webhook:{event.action.value}")
    return jsonify({"ok": True, "queued": event.order_id}), 202
