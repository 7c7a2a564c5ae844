"""Fixtures of the security suite: an installation with two shops (each with its own webhook
secret) on the real database and Redis (jobs queued, no workers), the web app over it, users,
and a snapshot of everything a request could change.

Sizes: the issue's 10,000 generated inputs (split between the webhook endpoint and the JSON
API) run with ``LEDGERBRIDGE_FULL_RELIABILITY=1`` or when pytest is pointed only at
``tests/security`` without ``CI``; whole-suite runs and CI run a tenth of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store import models
from ledgerbridge.store.users import create_user, issue_token
from tests.support.runsize import full_run

HERE = Path(__file__).resolve().parent
SECRETS = {"webshop": "whsec_webshop_0123456789abcdef", "outlet": "whsec_outlet_fedcba9876543210"}
PASSWORD = "correct horse battery"

#: Generated inputs per fuzz target (full run / short run).
FULL: bool = False


def pytest_configure(config: pytest.Config) -> None:
    """Decide the sizes once per session."""
    global FULL
    FULL = full_run(config, HERE)


def examples(full: int) -> int:
    """``full`` in a full run, a tenth of it otherwise."""
    return full if FULL else max(full // 10, 10)


@dataclass
class Shop:
    """One site of the installation."""

    id: int
    key: str
    secret: str


@dataclass
class Installation:
    """The runtime, its shops and users."""

    runtime: Runtime
    shops: dict[str, Shop]
    admin_token: str
    viewer_token: str

    def snapshot(self) -> dict[str, Any]:
        """Row counts of every table, the sync requests themselves, and the queued jobs."""
        with self.runtime.transaction() as session:
            counts = {
                table.name: session.scalar(select(func.count()).select_from(table))
                for table in models.Base.metadata.sorted_tables
            }
            requests = sorted(
                (row.site_id, row.source_id, row.requested_at.isoformat())
                for row in session.scalars(select(models.SyncRequest))
            )
            secrets = sorted(
                (site.id, repr(site.secrets)) for site in session.scalars(select(models.Site))
            )
        return {
            "counts": counts,
            "sync_requests": requests,
            "site_secrets": secrets,
            "queues": self.runtime.queue.depth(),
        }


@pytest.fixture
def installation(tmp_path, database_url, redis_url, redis_prefix) -> Iterator[Installation]:
    """Two WooCommerce shops, an admin and a viewer (with API tokens); RQ without workers."""
    config = load_config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        queue_mode="redis",
        queue_prefix=redis_prefix,
        secret_key=None,
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    shops: dict[str, Shop] = {}
    with runtime.transaction() as session:
        for key, secret in SECRETS.items():
            site = add_site(
                runtime,
                session,
                key=key,
                name=key.title(),
                connector="woocommerce",
                url=f"https://{key}.example.com",
                secrets={
                    "consumer_key": f"ck_{key}_secret_key",
                    "consumer_secret": f"cs_{key}_secret_value",
                    "webhook_secret": secret,
                },
                actor="test",
            )
            session.flush()
            shops[key] = Shop(site.id, key, secret)
        admin = create_user(session, "anna", PASSWORD, role="admin")
        viewer = create_user(session, "ville", PASSWORD, role="viewer")
        tokens = (issue_token(session, admin, "fuzz"), issue_token(session, viewer, "fuzz"))
    yield Installation(runtime, shops, *tokens)
    install(None)
    runtime.close()


@pytest.fixture
def app(installation):
    """The web app, as in production (CSRF on)."""
    from ledgerbridge_webui import webhooks
    from ledgerbridge_webui.app import create_app

    webhooks.forget_sites()
    built = create_app(installation.runtime)
    yield built
    webhooks.forget_sites()
