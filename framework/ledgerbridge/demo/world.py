"""The demo's world: the three sandboxes on loopback, and an installation wired to them.

Everything goes through the same code a real installation uses: the connectors' own sandbox
servers (``ConnectorSpec.sandbox``), the ``setup`` layer for sites, ledgers and routes, the
Fortnox OAuth redirect flow (completed programmatically against the sandbox's auto-approving
consent page), the webhook registration job, and a bulk sync through the real pipeline.
Connector specifics are only the sandboxes' documented options and admin endpoints.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ledgerbridge.errors import ConfigError
from ledgerbridge.pipeline import bulk
from ledgerbridge.pipeline.maintenance import check_webhooks
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup.ledgers import add_ledger
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.testing.servers import RunningServer, serve_wsgi

SOURCE, FORTNOX, BOKIO = "woocommerce", "fortnox", "bokio"
ACTOR = "demo"
#: Every order of the seeded year is in the demo's bulk sync.
STATUSES = ["completed", "processing", "on-hold", "refunded"]
REFERENCE_PREFIX = "WS-"
SHOP_KEY = ("ck_demo", "cs_demo")

#: Swedish mappings a small web shop would choose: card, Klarna and Swish are paid at once
#: (cash sales on the settlement accounts), bank transfer and invoice become invoices.
PAYMENT_ACCOUNTS = {"stripe": "1580", "klarna_payments": "1580", "swish": "1930", "bacs": "1930"}
DOCUMENT_TYPES = {
    "stripe": "cash_sale",
    "klarna_payments": "cash_sale",
    "swish": "cash_sale",
    "bacs": "invoice",
    "invoice": "invoice",
}
#: SEK per unit for orders in other currencies (a fixed demo rate; real routes use the
#: ledger's currency table or their own).
MANUAL_RATES = {"EUR": "11.20"}


class DemoError(RuntimeError):
    """The demo cannot be set up (a connector is missing, a sandbox refused)."""


@dataclass
class Sandboxes:
    """The running sandboxes and what the demo configured them with."""

    shop: RunningServer
    fortnox: RunningServer
    bokio: RunningServer
    fortnox_client: tuple[str, str]
    bokio_company: str = ""
    bokio_token: str = field(default="", repr=False)
    fortnox_tenant: int = 0


def _sandbox_app(runtime: Runtime, name: str, options: SandboxOptions) -> Any:
    spec = runtime.hooks.connectors.get(name)
    if spec is None or spec.sandbox is None:
        raise DemoError(
            f"The demo needs the {name} connector and its sandbox; install ledgerbridge with "
            "its built-in connectors (pip install -e .)."
        )
    return spec.sandbox.create_app(options)


@contextmanager
def sandboxes(runtime: Runtime, orders: int, random_seed: int = 2026) -> Iterator[Sandboxes]:
    """Start the WooCommerce, Fortnox and Bokio sandboxes on free loopback ports."""
    client = ("ledgerbridge-demo", secrets.token_urlsafe(18))
    shop_app = _sandbox_app(
        runtime,
        SOURCE,
        SandboxOptions(
            extra={
                "orders": orders,
                "random_seed": random_seed,
                "consumer_key": SHOP_KEY[0],
                "consumer_secret": SHOP_KEY[1],
            }
        ),
    )
    fortnox_app = _sandbox_app(
        runtime,
        FORTNOX,
        SandboxOptions(extra={"client_id": client[0], "client_secret": client[1], "tenants": 1}),
    )
    bokio_app = _sandbox_app(runtime, BOKIO, SandboxOptions())
    with ExitStack() as stack:
        running = Sandboxes(
            shop=stack.enter_context(serve_wsgi(shop_app)),
            fortnox=stack.enter_context(serve_wsgi(fortnox_app)),
            bokio=stack.enter_context(serve_wsgi(bokio_app)),
            fortnox_client=client,
        )
        company = _post(f"{running.bokio.url}/_sandbox/companies", {"name": "Demobutiken AB"})
        running.bokio_company, running.bokio_token = company["companyId"], company["token"]
        tenants = httpx.get(f"{running.fortnox.url}/_sandbox/tenants", timeout=10).json()
        running.fortnox_tenant = int(tenants["tenants"][0]["id"])
        yield running


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url, json=body, timeout=10)
    if response.status_code >= 400:
        raise DemoError(f"The sandbox at {url} refused the demo setup: {response.text[:200]}")
    return response.json()


@dataclass(frozen=True)
class Installation:
    """What :func:`configure` created (ids)."""

    site_id: int
    fortnox_ledger_id: int
    bokio_ledger_id: int
    route_ids: tuple[int, int]


def configure(
    runtime: Runtime, boxes: Sandboxes, plan: str = "pro", *, oss_registered: bool = False
) -> Installation:
    """Add the shop, both ledgers and the routes through the setup layer.

    ``oss_registered`` declares the shop registered for the EU One Stop Shop; its Swedish
    rates labelled with other EU countries then need review instead of being booked."""
    routing = {
        "export_statuses": ["completed"],
        "default_document_type": "invoice",
        "document_types": DOCUMENT_TYPES,
        "payment_accounts": PAYMENT_ACCOUNTS,
        "manual_rates": MANUAL_RATES,
        "daily_summary": False,
        "bookkeep": True,
        "register_payment": True,
    }
    with runtime.transaction() as session:
        site = add_site(
            runtime,
            session,
            key="demobutiken",
            name="Demobutiken",
            connector=SOURCE,
            url=boxes.shop.url,
            secrets={"consumer_key": SHOP_KEY[0], "consumer_secret": SHOP_KEY[1]},
            reference_prefix=REFERENCE_PREFIX,
            # Like most small Swedish shops, the seeded shop sells to EU consumers below the
            # distance-sale threshold, charging Swedish VAT (its tax table lists each EU
            # country at the Swedish rates).
            oss_registered=oss_registered,
            allow_private_network=True,
            actor=ACTOR,
        )
        fortnox = add_ledger(
            runtime,
            session,
            key="fortnox-demo",
            name="Demobutiken AB (Fortnox)",
            connector=FORTNOX,
            settings={
                "client_id": boxes.fortnox_client[0],
                "api_base_url": boxes.fortnox.url,
                "auth_base_url": f"{boxes.fortnox.url}/oauth-v1",
            },
            secrets={"client_secret": boxes.fortnox_client[1]},
            plan=plan,
            actor=ACTOR,
        )
        bokio = add_ledger(
            runtime,
            session,
            key="bokio-demo",
            name="Demobutiken AB (Bokio)",
            connector=BOKIO,
            settings={"company_id": boxes.bokio_company, "api_url": f"{boxes.bokio.url}/v1"},
            secrets={"token": boxes.bokio_token},
            plan=plan,
            actor=ACTOR,
        )
        to_fortnox = add_route(
            runtime,
            session,
            site=site,
            ledger=fortnox,
            settings=routing,
            target_settings={
                "modes_of_payment": {
                    "stripe": "KORT",
                    "klarna_payments": "KLARNA",
                    "swish": "SWISH",
                    "bacs": "BG",
                    "invoice": "BG",
                },
                "ways_of_delivery": {
                    "flat_rate": "P",
                    "free_shipping": "P",
                    "local_pickup": "HAMT",
                },
            },
            actor=ACTOR,
        )
        to_bokio = add_route(
            runtime,
            session,
            site=site,
            ledger=bokio,
            settings=routing,
            actor=ACTOR,
        )
        installation = Installation(
            site_id=site.id,
            fortnox_ledger_id=fortnox.id,
            bokio_ledger_id=bokio.id,
            route_ids=(to_fortnox.id, to_bokio.id),
        )
    authorize(runtime, installation.fortnox_ledger_id, boxes.fortnox_tenant)
    return installation


def authorize(runtime: Runtime, ledger_id: int, tenant: int = 0) -> None:
    """Complete a ledger's OAuth redirect flow against a sandbox that approves at once."""
    from ledgerbridge.pipeline.actions import ledger_reconnected
    from ledgerbridge.store.models import Ledger

    with runtime.transaction() as session:
        ledger = session.get(Ledger, ledger_id)
        if ledger is None:
            raise DemoError(f"No ledger {ledger_id}.")
        context = runtime.ledger_context(ledger)
    target = runtime.hooks.target(context)
    redirect_uri = f"{runtime.config.public_url}/oauth/callback"
    state = secrets.token_urlsafe(16)
    url = target.authorize_url(redirect_uri, state)
    if not url:
        raise DemoError(f"Ledger {ledger_id} has no authorization flow.")
    if tenant:
        url += f"&tenant={tenant}"
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    location = answer.headers.get("location", "")
    params = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    if answer.status_code not in (302, 303) or params.get("state") != state:
        raise DemoError(f"The sandbox did not approve the authorization ({answer.status_code}).")
    status = target.finish_authorization(redirect_uri, params)
    if not status.ok:
        raise ConfigError(f"The demo ledger could not connect: {status.message}")
    ledger_reconnected(runtime, ledger_id, ACTOR)


def register_webhooks(runtime: Runtime, site_id: int) -> dict[str, Any]:
    """Register the shop's webhooks towards this installation's webhook endpoint."""
    check_webhooks(runtime, site_id)
    from ledgerbridge.store.models import Site

    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        return dict(site.webhooks or {}) if site is not None else {}


def deliveries(boxes: Sandboxes, wait: float = 0.0) -> list[dict[str, Any]]:
    """The shop's webhook delivery log (after waiting up to ``wait`` s for it to go quiet)."""
    params = {"wait": f"{wait:g}"} if wait else {}
    answer = httpx.get(f"{boxes.shop.url}/_sandbox/deliveries", params=params, timeout=wait + 10)
    return list(answer.json())


def start_bulk_sync(runtime: Runtime, installation: Installation) -> int:
    """Queue every order of the shop through the real pipeline; the bulk run's id."""
    return bulk.start(
        runtime,
        site_ids=[installation.site_id],
        statuses=STATUSES,
        modified_after=None,
        modified_before=None,
        dry_run=False,
        actor=ACTOR,
    )
