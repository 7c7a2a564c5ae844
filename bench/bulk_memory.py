"""Bulk sync of a large shop: the enqueuing process's peak memory and its speed.

Runs the WooCommerce sandbox with N seeded orders in a process of its own (``ledgerbridge
sandbox woocommerce``), then, in this process, runs one bulk-sync job exactly as a worker
would (``bulk_sync``: stream the shop's listing, record each order in the run, write its sync
request and queue its job) against PostgreSQL and a Redis of its own. Prints orders/s and
this process's peak RSS (the target is under 200 MB for 100,000 orders).

    .venv/bin/python bench/bulk_memory.py --orders 100000
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import REPO, clean_up_on_sigterm, machine, temporary_database

from ledgerbridge.pipeline import bulk
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import BulkRun, SyncRequest
from tests.reliability.harness import RedisServer, free_port


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    clean_up_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {machine()}")
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = free_port()
        started = time.monotonic()
        shop = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledgerbridge.cli",
                "sandbox",
                "woocommerce",
                "--port",
                str(port),
                "--option",
                f"orders={args.orders}",
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(shop.wait, 30)
        stack.callback(shop.terminate)
        shop_url = f"http://127.0.0.1:{port}"
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{shop_url}/_sandbox", timeout=5).status_code == 200:
                    break
            if shop.poll() is not None or time.monotonic() - started > 1800:
                raise SystemExit("the sandbox shop did not start")
            time.sleep(1)
        print(f"sandbox shop with {args.orders} orders up in {time.monotonic() - started:.0f} s")
        database = stack.enter_context(temporary_database())
        redis_server = RedisServer(folder / "redis")
        redis_server.start()
        stack.callback(redis_server.kill)
        runtime = Runtime(
            load_config(
                instance_path=folder / "instance",
                database_url=database,
                redis_url=redis_server.url,
                queue_mode="redis",
                queue_prefix="bench",
                secret_key=None,
            )
        )
        runtime.migrate()
        install(runtime)
        stack.callback(runtime.close)
        with runtime.transaction() as session:
            site = add_site(
                runtime,
                session,
                key="bigshop",
                name="Big shop",
                connector="woocommerce",
                url=shop_url,
                secrets={"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"},
                allow_private_network=True,
                actor="bench",
            )
            session.flush()
            site_id = site.id
        before = peak_rss_mb()
        run_id = bulk.start(
            runtime,
            site_ids=[site_id],
            statuses=[],
            modified_after=None,
            modified_before=None,
            dry_run=False,
            actor="bench",
        )
        started = time.monotonic()
        bulk.bulk_sync(runtime, run_id)  # what the worker runs for the queued bulk job
        seconds = time.monotonic() - started
        with runtime.transaction() as session:
            run = session.get(BulkRun, run_id)
            requests = session.query(SyncRequest).count()
            found, state = run.found, run.state
        depth = runtime.queue.depth()
        print(
            f"bulk run {state}: {found} orders found, {requests} sync requests recorded, "
            f"{depth['bulk']} jobs queued"
        )
        print(f"{found} orders in {seconds:.0f} s: {found / seconds:.0f} orders/s")
        peak = peak_rss_mb()
        print(f"peak RSS of the enqueuing process: {peak:.0f} MB (before the run {before:.0f} MB)")


if __name__ == "__main__":
    main()
