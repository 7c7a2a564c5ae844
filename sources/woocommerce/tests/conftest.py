"""Fixtures for the WooCommerce connector tests: samples, a sandbox over real HTTP, sites."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ledgerbridge.contexts import SiteContext, memory_site
from ledgerbridge.model import WebhookEvent
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.services import MemorySecrets
from ledgerbridge.testing.servers import RunningServer, serve_wsgi
from ledgerbridge_woocommerce import samples
from ledgerbridge_woocommerce.connector import WooCommerceSource
from ledgerbridge_woocommerce.sandbox import Sandbox, create_app, sandbox_of

WEBHOOK_SECRET = "whsec_0123456789abcdefABCDEF"


@pytest.fixture
def synthetic_order() -> dict[str, Any]:
    """The synthetic Swedish order (25 % + 12 %, shipping, coupon; total 1 413.40)."""
    return samples.load("synthetic-se-order-25-12-coupon.json")


class ShopServer:
    """A running sandbox: its URL, its in-memory state, and its admin API."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.url = server.url
        self.sandbox: Sandbox = sandbox_of(server.app)
        self.admin = httpx.Client(base_url=f"{server.url}/_sandbox", timeout=30)

    def knobs(self, **values: Any) -> None:
        """Set sandbox knobs through the admin API."""
        self.admin.post("/knobs", json=values).raise_for_status()

    def deliveries(self, wait: float = 5.0) -> list[dict[str, Any]]:
        """The webhook delivery log, after the queue drained."""
        response = self.admin.get("/deliveries", params={"wait": wait})
        response.raise_for_status()
        return response.json()


@pytest.fixture
def start_shop() -> Iterator[Callable[..., ShopServer]]:
    """Start sandboxes over real HTTP on loopback: ``start_shop(orders=60, **extra)``."""
    running: list[Any] = []

    def start(orders: int = 60, latency_ms: int = 0, **extra: Any) -> ShopServer:
        app = create_app(
            SandboxOptions(
                seed=orders > 0, latency_ms=latency_ms, extra={"orders": orders, **extra}
            )
        )
        context = serve_wsgi(app)
        running.append(context)
        return ShopServer(context.__enter__())

    yield start
    for context in reversed(running):
        context.__exit__(None, None, None)


@pytest.fixture
def shop(start_shop) -> ShopServer:
    """A seeded sandbox (60 orders)."""
    return start_shop()


def site_for(url: str, **overrides: Any) -> SiteContext:
    """A site context pointing at ``url`` with the sandbox keys."""
    secrets = {
        "consumer_key": "ck_sandbox",
        "consumer_secret": "cs_sandbox",
        "webhook_secret": WEBHOOK_SECRET,
    }
    secrets.update(overrides.pop("secrets", {}))
    overrides.setdefault("allow_private_network", True)
    return memory_site(
        url=url,
        secrets=MemorySecrets({k: v for k, v in secrets.items() if v is not None}),
        **overrides,
    )


@pytest.fixture
def make_site() -> Callable[..., SiteContext]:
    """``make_site(url, secrets={...}, **site_fields)``: a site context for a sandbox."""
    return site_for


@pytest.fixture
def site(shop) -> SiteContext:
    """A site context connected to the seeded sandbox."""
    return site_for(shop.url)


class Receiver:
    """A tiny WSGI webhook receiver that records every request and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = "200 OK"
        self.url = ""
        self._guard = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        with self._guard:
            self.requests.append((headers, body))
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b"ok"]

    def events(self, site: SiteContext) -> list[WebhookEvent]:
        """Every delivery received, verified and parsed as ``site``."""
        source = WooCommerceSource()
        return [
            source.ledgerbridge_source_parse_webhook(site=site, headers=headers, body=body)
            for headers, body in self.requests
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver; its ``url`` is the delivery URL to register."""
    app = Receiver()
    with serve_wsgi(app) as server:
        app.url = f"{server.url}/webhooks/woocommerce/shop-1"
        yield app
