"""CPU per order: normalize + accounting rules + the target's payload, no network, one core.

Fetches N seeded orders once from the WooCommerce sandbox (with their refunds and catalogue
facts, exactly as ``fetch_order`` returns them; not timed), then, in this one process:
normalizes each raw order to the canonical Order, builds its accounting document (and credit
notes) with the route's rules and every installed plugin's hooks, and builds the target's API
payloads (Fortnox and Bokio). Prints orders/s for each stage and for the whole path.

    .venv/bin/python bench/cpu_per_order.py --orders 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import time

from common import machine

from ledgerbridge.accounting import SkipExport, build_credit_note, build_document
from ledgerbridge.contexts import RouteContext, memory_ledger, memory_site
from ledgerbridge.errors import DataError
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge.testing.servers import serve_wsgi

ROUTE = {
    "export_statuses": ["completed", "processing"],
    "default_document_type": "invoice",
    "document_types": {"stripe": "cash_sale", "swish": "cash_sale", "klarna_payments": "cash_sale"},
    "payment_accounts": {"stripe": "1580", "klarna_payments": "1580", "swish": "1930"},
    "manual_rates": {"EUR": "11.20"},
    "accounts": {
        "oss_sales:DE": "3150",
        "oss_vat:DE": "2671",
        "oss_sales:DK": "3152",
        "oss_vat:DK": "2672",
        "oss_sales:FI": "3153",
        "oss_vat:FI": "2673",
    },
}


def fetch_raw_orders(count: int) -> list[dict]:
    """``count`` raw orders as the WooCommerce connector fetches them (over loopback HTTP)."""
    from ledgerbridge_woocommerce.connector import WooCommerceSource
    from ledgerbridge_woocommerce.sandbox import create_app, sandbox_of

    app = create_app(SandboxOptions(extra={"orders": count}))
    with serve_wsgi(app) as server:
        site = memory_site(
            url=server.url,
            allow_private_network=True,
            services=MemoryServices(),
            secrets=MemorySecrets({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}),
        )
        source = WooCommerceSource()
        return [
            source.ledgerbridge_source_fetch_order(site=site, order_id=str(order_id))
            for order_id in sandbox_of(app).shop.orders
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"machine: {machine()}")
    started = time.monotonic()
    raws = fetch_raw_orders(args.orders)
    print(f"fetched {len(raws)} raw orders in {time.monotonic() - started:.0f} s (not timed)")

    hooks = Hooks(create_plugin_manager())
    site = memory_site(connector="woocommerce", reference_prefix="WS-", oss_registered=True)
    source = hooks.source(site)
    settings = load_route_settings(ROUTE)
    rules_route = RouteContext(
        id=1, site=site, ledger=memory_ledger(), settings=settings, target_settings={}
    )
    targets = {
        name: (
            hooks.target(memory_ledger(connector=name)),
            hooks.with_filters(
                RouteContext(
                    id=1,
                    site=site,
                    ledger=memory_ledger(connector=name),
                    settings=settings,
                    target_settings={},
                )
            ),
        )
        for name in ("fortnox", "bokio")
    }

    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(args.rounds):
        gc.collect()
        timings = {"normalize": 0.0, "accounting": 0.0, "fortnox": 0.0, "bokio": 0.0}
        documents = skipped = held = 0
        for raw in raws:
            moment = time.process_time()
            order = hooks.order_received(site, source.normalize_order(raw))
            now = time.process_time()
            timings["normalize"] += now - moment
            moment = now
            try:
                built = [build_document(order, rules_route, hooks)]
                built += [
                    build_credit_note(order, refund.id, rules_route, hooks, original=built[0])
                    for refund in order.refunds
                ]
            except SkipExport:
                skipped += 1
                built = []
            except DataError:
                held += 1
                built = []
            now = time.process_time()
            timings["accounting"] += now - moment
            for name, (calls, route) in targets.items():
                moment = time.process_time()
                for document in built:
                    with contextlib.suppress(DataError):
                        calls.build_payloads(route, document)
                timings[name] += time.process_time() - moment
            documents += len(built)
        for stage, seconds in timings.items():
            best[stage] = min(best.get(stage, seconds), seconds)
        counts = {"documents": documents, "skipped": skipped, "held": held}

    orders = len(raws)
    print(
        f"{orders} orders -> {counts['documents']} documents "
        f"({counts['skipped']} skipped, {counts['held']} held by the rules); best of "
        f"{args.rounds} rounds, CPU time of this one process:"
    )
    for stage, seconds in best.items():
        print(f"  {stage:11} {seconds * 1000 / orders:7.3f} ms/order  {orders / seconds:8.0f}/s")
    for name in ("fortnox", "bokio"):
        total = best["normalize"] + best["accounting"] + best[name]
        print(
            f"  whole path to {name}: {total * 1000 / orders:.3f} ms/order, "
            f"{orders / total:.0f} orders/s on one core"
        )


if __name__ == "__main__":
    main()
