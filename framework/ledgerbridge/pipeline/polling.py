"""The polling fallback: webhooks get lost, so every site is also read by modified date.

The cursor advances only over orders already safely queued: orders arrive in ascending
``modified_at``, and the cursor moves to a timestamp only once an order with a later one
has been seen (or the listing ended), so orders sharing a timestamp are never skipped. The
next poll starts a little before the cursor; re-queuing an order is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from ledgerbridge.pipeline import clock, ids
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.models import Route, Site

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=2)
FIRST_POLL_LOOKBACK = timedelta(days=1)
SAVE_EVERY = 200


def poll_sites(runtime: Runtime) -> list[int]:
    """Queue a poll of every enabled site that has at least one route; their ids."""
    with runtime.transaction() as session:
        site_ids = list(
            session.scalars(
                select(Site.id).where(
                    Site.enabled.is_(True),
                    Site.poll_enabled.is_(True),
                    Site.id.in_(select(Route.site_id)),
                )
            )
        )
    bucket = int(clock.now().timestamp() // 60)
    for site_id in site_ids:
        runtime.queue.enqueue(
            "poll_site",
            job_id=ids.periodic_job(f"poll-{site_id}", bucket),
            queue="maintenance",
            site_id=site_id,
        )
    return site_ids


def poll_site(runtime: Runtime, site_id: int) -> int:
    """Queue a sync of every order of the site modified since its cursor; how many."""
    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        if site is None or not site.enabled:
            return 0
        context = runtime.site_context(site)
        cursor = site.poll_cursor
        statuses = _statuses(site)
    since = (cursor - OVERLAP) if cursor else clock.now() - FIRST_POLL_LOOKBACK
    queued = 0
    safe: datetime | None = cursor
    pending_stamp: datetime | None = None
    for summary in runtime.hooks.source(context).iter_orders(since, statuses):
        if pending_stamp is not None and summary.modified_at > pending_stamp:
            safe = pending_stamp
        request_sync(runtime, site_id, summary.id, "poll")
        pending_stamp = summary.modified_at
        queued += 1
        if queued % SAVE_EVERY == 0:
            _save_cursor(runtime, site_id, safe)
    if pending_stamp is not None:
        safe = pending_stamp
    _save_cursor(runtime, site_id, safe)
    return queued


def _statuses(site: Site) -> list[str]:
    wanted: set[str] = {"refunded"}
    for route in site.routes:
        wanted.update((route.settings or {}).get("export_statuses") or ["completed"])
    return sorted(wanted)


def _save_cursor(runtime: Runtime, site_id: int, cursor: datetime | None) -> None:
    if cursor is None:
        return
    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        if site is not None and (site.poll_cursor is None or cursor > site.poll_cursor):
            site.poll_cursor = cursor
