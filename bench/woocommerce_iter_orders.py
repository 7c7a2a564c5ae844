"""How fast iter_orders streams a large store, and that its memory stays flat.

Starts the WooCommerce sandbox with N seeded orders on loopback, scans every order with the
connector's iter_orders (100 per page, OAuth 1.0a over http) and prints orders per second and
the peak memory the scan itself allocated (tracemalloc, client side only).

    .venv/bin/python bench/woocommerce_iter_orders.py --orders 20000
"""

from __future__ import annotations

import argparse
import logging
import time
import tracemalloc

from ledgerbridge.contexts import memory_site
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.services import MemorySecrets
from ledgerbridge.testing.servers import serve_wsgi
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.orders import iter_orders
from ledgerbridge_woocommerce.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    started = time.monotonic()
    app = create_app(SandboxOptions(extra={"orders": args.orders}))
    print(f"seeded {args.orders} orders in {time.monotonic() - started:.1f} s")
    with serve_wsgi(app) as server:
        site = memory_site(
            url=server.url,
            allow_private_network=True,
            secrets=MemorySecrets({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}),
        )
        for sample in (args.orders // 10, args.orders):
            tracemalloc.start()
            started = time.monotonic()
            count = 0
            with WooClient(site) as client:
                for _ in iter_orders(client, None, []):
                    count += 1
                    if count >= sample:
                        break
            seconds = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"scanned {count} orders in {seconds:.1f} s ({count / seconds:.0f}/s), "
                f"peak client memory {peak / 1024:.0f} KiB"
            )


if __name__ == "__main__":
    main()
