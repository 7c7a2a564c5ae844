"""End to end: WooCommerce sandbox orders → accounting rules → pipeline → Fortnox sandbox.

The real runtime (database, embedded queue), the WooCommerce connector against its sandbox and
this connector against the Fortnox sandbox; each Fortnox invoice is then checked against the
shop's own totals, and each refund against its credit invoice.
"""

from __future__ import annotations

import os
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select

from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.ledgers import add_ledger
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import Export, ExportState
from ledgerbridge.testing.servers import serve_wsgi
from ledgerbridge_fortnox.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from ledgerbridge_woocommerce.sandbox import create_app as create_shop
from ledgerbridge_woocommerce.sandbox import sandbox_of

pytestmark = pytest.mark.db
D = Decimal
SHOP_ORDERS = 20


@pytest.fixture
def shop():
    app = create_shop(SandboxOptions(extra={"orders": SHOP_ORDERS}))
    with serve_wsgi(app) as server:
        yield server.url, sandbox_of(app)


@pytest.fixture
def runtime(tmp_path, database_url):
    config = load_config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        queue_mode="embedded",
        secret_key=None,
    )
    built = Runtime(config)
    built.migrate()
    install(built)
    yield built
    install(None)
    built.close()


def _tokens(fortnox_url: str) -> dict[str, str]:
    """Authorize the sandbox company the way the web UI would (auth, then code exchange)."""
    answer = httpx.get(
        f"{fortnox_url}/oauth-v1/auth",
        params={
            "client_id": DEFAULT_CLIENT_ID,
            "response_type": "code",
            "scope": "companyinformation customer article order invoice payment price "
            "currency bookkeeping settings",
            "state": "s",
            "access_type": "offline",
            "redirect_uri": "http://127.0.0.1/cb",
        },
    )
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
    token = httpx.post(
        f"{fortnox_url}/oauth-v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
        },
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    ).json()
    return {
        "client_secret": DEFAULT_CLIENT_SECRET,
        "access_token": token["access_token"],
        "refresh_token": token["refresh_token"],
        "access_token_expires_at": "0",  # the first call refreshes: rotation is exercised too
    }


def test_shop_orders_become_checked_fortnox_invoices(runtime, shop, sandbox):
    shop_url, shop_state = shop
    with runtime.transaction() as session:
        site = add_site(
            runtime,
            session,
            key="webbshop",
            name="Webbshop",
            connector="woocommerce",
            url=shop_url,
            secrets={
                "consumer_key": "ck_sandbox",
                "consumer_secret": "cs_sandbox",
                "webhook_secret": "whsec_0123456789abcdef",
            },
            reference_prefix="WS-",
            oss_registered=False,
            allow_private_network=True,
            actor="test",
        )
        ledger = add_ledger(
            runtime,
            session,
            key="fortnox",
            name="Sandlådan 1 AB",
            connector="fortnox",
            settings={
                "client_id": DEFAULT_CLIENT_ID,
                "api_base_url": sandbox.url,
                "auth_base_url": f"{sandbox.url}/oauth-v1",
            },
            secrets={"client_secret": DEFAULT_CLIENT_SECRET},
            plan="pro",
            actor="test",
        )
        session.flush()
        ledger_context = runtime.ledger_context(ledger)
        add_route(
            runtime,
            session,
            site=site,
            ledger=ledger,
            settings={"payment_accounts": {"stripe": "1580"}, "manual_rates": {"EUR": "11.20"}},
            target_settings={"modes_of_payment": {"stripe": "KORT", "swish": "SWISH"}},
            actor="test",
        )
        site_id = site.id
    # what "Connect to Fortnox" stores: the tokens of the code exchange
    ledger_context.secrets.update(_tokens(sandbox.url))
    wanted = [
        order_id
        for order_id, record in shop_state.shop.orders.items()
        if record.data["status"] == "completed" and D(record.data["total"]) > 0
    ]
    for order_id in wanted:
        request_sync(runtime, site_id, str(order_id), "test")
    assert runtime.queue.wait_idle(int(os.environ.get("LB_WAIT", "180")))
    with runtime.transaction() as session:
        states = {
            (e.kind, e.source_id): (e.state, e.message) for e in session.scalars(select(Export))
        }
    done = {key for key, (state, _) in states.items() if state == ExportState.DONE}
    others = {key: value for key, value in states.items() if key not in done}
    # the site is not OSS-registered: orders charged with foreign VAT wait for review
    assert all("foreign VAT" in message for (_, message) in others.values()), others
    assert len([k for k in done if k[0] == "order"]) >= len(wanted) // 2, others
    listing = httpx.get(f"{sandbox.url}/_sandbox/tenants/1000001/documents").json()
    invoices = {i.get("ExternalInvoiceReference1"): i for i in listing["invoices"]}
    vouchers = {v["Comments"]: v for v in listing["vouchers"] if v["Comments"]}
    for order_id in wanted:
        if ("order", str(order_id)) not in done:
            continue
        data = shop_state.shop.orders[order_id].data
        reference = f"WS-{order_id}"
        if reference in invoices:
            invoice = invoices[reference]
            assert D(str(invoice["Total"])) == D(data["total"]), (order_id, invoice["Total"])
            assert invoice["Currency"] == data["currency"]
            assert invoice["Booked"] is True
        else:
            assert f"ledgerbridge:{reference}" in vouchers, order_id
    # one Fortnox document per exported order: nothing was created twice
    references = [i.get("ExternalInvoiceReference1") for i in listing["invoices"]]
    assert len(references) == len(set(references))
    assert sandbox.state.stats.rate_limited == 0
