"""Job entry points: what RQ (or the embedded queue) calls. Ids in, nothing out.

Each function fetches this process's runtime and hands over to the stage that does the work.
Only ``TransientError`` escapes (so the queue retries with backoff); other failures are
recorded where the user sees them, because retrying them blindly would not help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ledgerbridge.errors import ConfigError, LedgerbridgeError, TransientError
from ledgerbridge.queue.base import current_attempt
from ledgerbridge.runtime.runtime import current

log = logging.getLogger(__name__)

CONFIG_BACKOFF = timedelta(minutes=10)


def _guard(name: str, work: Callable[[], Any]) -> Any:
    try:
        return work()
    except TransientError:
        if current_attempt().last:
            log.warning("%s gave up after its last retry", name, exc_info=True)
            return None
        raise
    except LedgerbridgeError as error:
        log.error("%s failed: %s", name, error)
        return None


def sync_order(site_id: int, order_id: str) -> None:
    """Fetch, normalize and keep one order; queue its exports."""
    from ledgerbridge.pipeline import sync

    runtime = current()
    _guard(
        f"sync of order {order_id} (site {site_id})",
        lambda: _sync_or_back_off(runtime, sync, site_id, order_id),
    )


def _sync_or_back_off(runtime: Any, sync: Any, site_id: int, order_id: str) -> None:
    from ledgerbridge.pipeline import clock
    from ledgerbridge.store.models import SyncRequest

    try:
        sync.sync_order(runtime, site_id, order_id)
    except ConfigError:
        # The shop refuses us (keys revoked...): ask again later, not every minute.
        with runtime.transaction() as session:
            request = session.get(SyncRequest, (site_id, order_id))
            if request is not None:
                request.requested_at = clock.now() + CONFIG_BACKOFF
        raise


def run_export(export_id: int, postponed: int = 0, ledger_id: int | None = None) -> None:
    """Run one export (``postponed``: how often it already made way for other work, for
    ``ledger_id``)."""
    from ledgerbridge.pipeline import exports

    exports.run_export(current(), export_id, postponed=postponed, ledger_id=ledger_id)


def write_back(export_id: int) -> None:
    """Write an export's result back to the shop."""
    from ledgerbridge.pipeline import writeback

    _guard(f"write-back of export {export_id}", lambda: writeback.write_back(current(), export_id))


def archive_pdf(export_id: int) -> None:
    """Store an export's PDF in the archive."""
    from ledgerbridge.pipeline import maintenance

    _guard(
        f"PDF archive of export {export_id}", lambda: maintenance.archive_pdf(current(), export_id)
    )


def bulk_sync(run_id: int) -> None:
    """Enumerate a bulk run."""
    from ledgerbridge.pipeline import bulk

    _guard(f"bulk run {run_id}", lambda: bulk.bulk_sync(current(), run_id))


def poll_sites() -> None:
    """Queue a poll of every site."""
    from ledgerbridge.pipeline import polling

    _guard("poll of all sites", lambda: polling.poll_sites(current()))


def poll_site(site_id: int) -> None:
    """Poll one site by modified date."""
    from ledgerbridge.pipeline import polling

    _guard(f"poll of site {site_id}", lambda: polling.poll_site(current(), site_id))


def sweep() -> None:
    """Re-queue lost work."""
    from ledgerbridge.pipeline import sweeper

    _guard("sweep", lambda: sweeper.sweep(current()))


def close_daily_summaries() -> None:
    """Create the daily summaries of finished days."""
    from ledgerbridge.pipeline import summary

    _guard("daily summaries", lambda: summary.close_daily_summaries(current()))


def check_webhooks() -> None:
    """Check and repair every site's webhooks."""
    from ledgerbridge.pipeline import maintenance

    _guard("webhook check", lambda: maintenance.check_webhooks(current()))


def sync_inventory(route_id: int) -> None:
    """Copy stock from the ledger to the shop for one route."""
    from ledgerbridge.pipeline import maintenance

    _guard(
        f"inventory of route {route_id}", lambda: maintenance.sync_inventory(current(), route_id)
    )
