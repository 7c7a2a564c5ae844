"""Throughput against the targets' rate limits: T ledgers x W workers x N orders.

T WooCommerce sandbox shops (N/T seeded orders each, alike unless ``--varied-shops``), each
routed to its own company in one target sandbox (Fortnox or Bokio) answering with
``--latency-ms`` of latency and its real rate limit; W ``ledgerbridge worker`` processes;
``ledgerbridge serve`` (gunicorn) receiving the webhooks. Every order is saved once in its
shop, the shop's webhook announces it (as fast as the shop can send, or at
``--webhooks-per-second``), and the run ends when every order is booked (or held
for review by the accounting rules). Prints:

* orders/s booked, the ceiling (T x the target's allowed requests/s / API calls per order)
  and the ratio, also against the bound set by the busiest ledger;
* API calls per order per flow (all orders, and returning customers only);
* 429s the target answered, and documents booked twice (from the sandbox's own listing);
* p50/p95 time from the webhook's delivery to the document being booked;
* a timeline of webhooks, orders fetched and documents booked, and where the CPU went.

    .venv/bin/python bench/throughput.py --target fortnox --flow cash_sale \\
        --ledgers 4 --workers 4 --orders 2000 --no-fork
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import clean_up_on_sigterm, machine, percentile, temporary_database

from ledgerbridge.pipeline.maintenance import check_webhooks
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import Export, ExportAttempt, ExportState, Plan
from ledgerbridge.testing.servers import serve_wsgi
from tests.conftest import worker_env
from tests.reliability.harness import (
    FINAL,
    Periodic,
    RedisServer,
    WorkerPool,
    expected_outcomes,
    free_port,
)
from tests.reliability.ledgers import sandbox_for

PLAN = "bench"
#: The width of the timeline's buckets.
TIMELINE_SECONDS = 5
#: What a customer look-up or creation looks like in each target's exchanges.
CUSTOMER_PATHS = {"fortnox": "/3/customers", "bokio": "/customers"}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["fortnox", "bokio"], default="fortnox")
    parser.add_argument("--flow", choices=["cash_sale", "invoice"], default="cash_sale")
    parser.add_argument("--ledgers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=2000, help="seeded orders in all shops")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument(
        "--rate-limit-margin",
        type=int,
        default=None,
        help="Fortnox ledgers' rate_limit_margin (default: the connector's)",
    )
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--web-processes", type=int, default=1, help="gunicorn processes of the web app"
    )
    parser.add_argument(
        "--webhooks-per-second",
        type=float,
        default=None,
        help="the shops' pace, all together (default: each sends as fast as it can)",
    )
    parser.add_argument(
        "--varied-shops",
        action="store_true",
        help="seed every shop differently (uneven work per ledger) instead of alike",
    )
    parser.add_argument(
        "--no-fork", action="store_true", help="workers run jobs in-process (worker --no-fork)"
    )
    return parser.parse_args()


def main() -> None:
    clean_up_on_sigterm()
    args = _arguments()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"machine: {machine()}")
    print(
        f"target {args.target}, flow {args.flow}: {args.ledgers} ledgers x {args.workers} "
        f"workers x {args.orders} orders, {args.latency_ms} ms latency"
        + (", workers without fork" if args.no_fork else "")
    )
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = stack.enter_context(temporary_database())
        redis_server = RedisServer(folder / "redis")
        redis_server.start()
        stack.callback(redis_server.kill)
        run(args, stack, folder, database, redis_server)


def run(args, stack, folder: Path, database: str, redis_server: RedisServer) -> None:
    from ledgerbridge_woocommerce.sandbox import create_app as create_shop
    from ledgerbridge_woocommerce.sandbox import sandbox_of

    web_port = free_port()
    config = load_config(
        instance_path=folder / "instance",
        database_url=database,
        redis_url=redis_server.url,
        queue_mode="redis",
        queue_prefix="bench",
        secret_key=None,
        public_url=f"http://127.0.0.1:{web_port}",
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    stack.callback(runtime.close)
    with runtime.transaction() as session:
        session.add(
            Plan(
                name=PLAN,
                title="Benchmark",
                monthly_quota=10_000_000,
                features=["document_type_override"],
                position=99,
            )
        )
    target = stack.enter_context(
        sandbox_for(args.target, latency_ms=args.latency_ms, companies=args.ledgers)
    )
    shops = []
    per_shop = args.orders // args.ledgers
    started = time.monotonic()
    for index in range(args.ledgers):
        shop_seed = 2026 + (index if args.varied_shops else 0)
        extra = {"orders": per_shop, "random_seed": shop_seed}
        if args.webhooks_per_second:
            extra["delivery_delay_ms"] = round(1000 * args.ledgers / args.webhooks_per_second)
        app = create_shop(SandboxOptions(extra=extra))
        shops.append((app, stack.enter_context(serve_wsgi(app))))
    print(f"seeded {per_shop * args.ledgers} orders in {time.monotonic() - started:.0f} s")
    web = serve_web_app(stack, runtime, web_port, args.web_processes)

    ledger_settings: dict[str, Any] = {}
    if args.rate_limit_margin is not None:
        ledger_settings["rate_limit_margin"] = args.rate_limit_margin
    route_ids, site_ids = [], []
    for index, (_, server) in enumerate(shops):
        with runtime.transaction() as session:
            site = add_site(
                runtime,
                session,
                key=f"shop-{index + 1}",
                name=f"Shop {index + 1}",
                connector="woocommerce",
                url=server.url,
                secrets={"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"},
                reference_prefix=f"S{index + 1}-",
                oss_registered=True,
                allow_private_network=True,
                actor="bench",
            )
            ledger = target.add_ledger(
                runtime, session, f"{args.target}-{index + 1}", index, PLAN, ledger_settings
            )
            session.flush()
            route = add_route(
                runtime,
                session,
                site=site,
                ledger=ledger,
                settings={
                    "export_statuses": ["completed", "processing"],
                    "default_document_type": args.flow,
                    "payment_accounts": {"stripe": "1580", "swish": "1930"},
                    "manual_rates": {"EUR": "11.20"},
                    **target.route_settings(),
                },
                target_settings=target.target_settings(),
                actor="bench",
            )
            route_ids.append(route.id)
            site_ids.append(site.id)
        target.connect(runtime, ledger, index)
        check_webhooks(runtime, site.id)
    expected = {}
    for route_id in route_ids:
        expected[route_id] = expected_outcomes(runtime, route_id)
    wanted = sum(len(outcomes) for outcomes in expected.values())
    booked_wanted = sum(
        e.state == ExportState.DONE for outcomes in expected.values() for e in outcomes.values()
    )
    print(f"{booked_wanted} documents to book ({wanted} exports, the rest held by the rules)")
    for app, _ in shops:
        sandbox_of(app).deliverer.wait_idle(30)
        sandbox_of(app).deliverer.clear()

    env = worker_env(
        runtime, {"LEDGERBRIDGE_RETRY_INTERVALS": "5,10,30,120", "LEDGERBRIDGE_WORKER_GRACE": "30"}
    )
    workers = WorkerPool(env, args.workers, folder, ("--no-fork",) if args.no_fork else ())
    workers.start_all()
    stack.callback(workers.stop)
    requeued: list[tuple[datetime, int]] = []
    resynced: list[tuple[datetime, tuple[int, str]]] = []

    def sweep_and_note() -> None:
        moment = datetime.now(UTC)
        report = sweep(runtime)
        requeued.extend((moment, export_id) for export_id in report.exports)
        resynced.extend((moment, request) for request in report.syncs)

    sweeper = Periodic("sweeper", 10.0, sweep_and_note)
    sweeper.start()
    stack.callback(sweeper.stop)
    time.sleep(3)  # the workers are up

    stats_before = target.stats()
    cpu_before = cpu_snapshot(redis_server)
    for app, _ in shops:  # every order is saved once: WooCommerce announces it
        shop = sandbox_of(app).shop
        for order_id in list(shop.orders):
            shop.touch(order_id)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        with runtime.transaction() as session:
            states = [
                state
                for (state,) in session.query(Export.state).filter(Export.route_id.in_(route_ids))
            ]
        finished = sum(state in FINAL for state in states)
        if len(states) >= wanted and finished == len(states):
            break
        time.sleep(2)
    else:
        print(f"TIMEOUT: {finished} of {wanted} exports finished", file=sys.stderr)
    cpu = {key: cpu_snapshot(redis_server)[key] - value for key, value in cpu_before.items()}
    cpu["web"] = process_tree_cpu(web.pid)
    report(args, runtime, target, shops, route_ids, stats_before, workers, cpu)
    print_requeued(runtime, requeued)
    print(f"order syncs the sweeper re-queued: {len(resynced)}")
    for moment, (site_id, order_id) in resynced:
        print(f"  at {moment:%H:%M:%S.%f} order {order_id} of site {site_id}")


def serve_web_app(
    stack: contextlib.ExitStack, runtime: Runtime, port: int, processes: int
) -> subprocess.Popen:
    """``ledgerbridge serve`` (gunicorn, as in production) receiving the shops' webhooks."""
    env = worker_env(runtime, {"LEDGERBRIDGE_PUBLIC_URL": runtime.config.public_url})
    command = [sys.executable, "-m", "ledgerbridge.cli", "serve", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(processes)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stack.callback(server.wait, 30)
    stack.callback(server.terminate)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        time.sleep(0.3)
    raise RuntimeError("the web app did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children (Linux /proc)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its living children (gunicorn's worker processes)."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children)


def cpu_snapshot(redis_server: RedisServer) -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL (all its processes, ended backends included),
    this run's Redis, and the whole machine (every core's busy time)."""
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    postgres += cpu_seconds(int(entry.name))
    redis_pid = redis_server.process.pid if redis_server.process is not None else 0
    busy = 0.0
    with contextlib.suppress(OSError):
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    return {"postgres": postgres, "redis": cpu_seconds(redis_pid), "machine": busy}


def report(args, runtime: Runtime, target, shops, route_ids, stats_before, workers, cpu) -> None:
    from ledgerbridge_woocommerce.sandbox import sandbox_of

    delivered: dict[tuple[int, str], datetime] = {}
    for index, (app, _) in enumerate(shops):
        for entry in sandbox_of(app).deliverer.log:
            if entry.ok and entry.topic == "order.updated" and entry.order_id is not None:
                key = (route_ids[index], str(entry.order_id))
                moment = datetime.fromisoformat(entry.at)
                if key not in delivered or moment < delivered[key]:
                    delivered[key] = moment
    calls: dict[str, list[int]] = defaultdict(list)
    returning: dict[str, list[int]] = defaultdict(list)
    latencies: list[float] = []
    finished: list[datetime] = []
    created: list[datetime] = []
    per_ledger: dict[int, int] = defaultdict(int)
    ledger_finished: dict[int, list[datetime]] = defaultdict(list)
    customer_path = CUSTOMER_PATHS[args.target]
    with runtime.transaction() as session:
        exports = session.query(Export).filter(
            Export.route_id.in_(route_ids), Export.state == ExportState.DONE
        )
        for export in exports:
            created.append(export.created_at)
            exchanges = [
                exchange
                for attempt in session.query(ExportAttempt).filter(
                    ExportAttempt.export_id == export.id
                )
                for exchange in attempt.exchanges or []
            ]
            flow = f"{export.kind}:{(export.result or {}).get('document_kind', '?')}"
            calls[flow].append(len(exchanges))
            per_ledger[export.route_id] += len(exchanges)
            if not any(customer_path in exchange["url"] for exchange in exchanges):
                returning[flow].append(len(exchanges))
            if export.finished_at is not None:
                finished.append(export.finished_at)
                ledger_finished[export.route_id].append(export.finished_at)
                first = delivered.get((export.route_id, export.source_id))
                if export.kind == "order" and first is not None:
                    latencies.append((export.finished_at - first).total_seconds())
    booked = sum(len(values) for values in calls.values())
    start = min(delivered.values())
    seconds = (max(finished) - start).total_seconds()
    stats = target.stats()
    requests = stats["requests"] - stats_before["requests"]
    rate_limited = stats["rate_limited"] - stats_before["rate_limited"]
    per_order = sum(sum(values) for values in calls.values()) / booked
    ceiling = args.ledgers * target.allowed_per_second / per_order
    throughput = booked / seconds
    duplicates = {}
    for index in range(args.ledgers):
        duplicates.update(target.listing(index).duplicates())
    ordered = sorted(finished)
    first, last = ordered[len(ordered) // 10], ordered[len(ordered) * 9 // 10]
    steady = (len(ordered) * 8 // 10) / max((last - first).total_seconds(), 0.001)
    print()
    print(f"booked {booked} documents in {seconds:.1f} s: {throughput:.2f} orders/s")
    print(
        f"steady state (10 %-90 % of the documents): {steady:.2f} orders/s, "
        f"{steady / ceiling:.1%} of the ceiling"
    )
    print(
        f"ceiling {args.ledgers} x {target.allowed_per_second:.2f} req/s / {per_order:.2f} "
        f"calls per order = {ceiling:.2f} orders/s; ratio {throughput / ceiling:.1%}"
    )
    busiest = max(per_ledger.values()) / target.allowed_per_second
    print(
        f"API calls per ledger: {', '.join(str(per_ledger[r]) for r in route_ids)}; the busiest "
        f"needs {busiest:.1f} s at the allowed rate, so no run beats {booked / busiest:.2f} "
        f"orders/s; ratio to that {throughput * busiest / booked:.1%}"
    )
    spans = (
        f"{(min(ledger_finished[r]) - start).total_seconds():.1f}-"
        f"{(max(ledger_finished[r]) - start).total_seconds():.1f} s"
        for r in route_ids
    )
    print(f"each ledger's first and last document booked: {', '.join(spans)}")
    print(f"target requests {requests} ({requests / seconds:.2f}/s), 429s answered: {rate_limited}")
    for flow in sorted(calls):
        values, again = calls[flow], returning.get(flow, [])
        line = f"  {flow:24} {len(values):5} documents, {statistics.mean(values):.2f} calls each"
        if again:
            line += (
                f"; returning customers ({len(again)}): {statistics.mean(again):.2f} "
                f"(max {max(again)})"
            )
        print(line)
    print(
        f"webhook to booked: p50 {percentile(latencies, 0.5):.1f} s, "
        f"p95 {percentile(latencies, 0.95):.1f} s ({len(latencies)} orders)"
    )
    print(f"duplicates in the ledgers: {len(duplicates)} {sorted(duplicates)[:5]}")
    print_timeline(start, list(delivered.values()), created, finished, ceiling)
    in_workers = sum(cpu_seconds(p.pid) for p in workers.processes if p is not None)
    here = cpu_seconds(os.getpid())
    print(
        f"CPU: workers {in_workers:.0f} s ({in_workers * 1000 / booked:.0f} ms per document), "
        f"web app (gunicorn) {cpu['web']:.0f} s, sandboxes (this process) {here:.0f} s, "
        f"over {seconds:.0f} s on "
        f"{os.cpu_count()} cores"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU: PostgreSQL {cpu['postgres']:.0f} s, Redis {cpu['redis']:.0f} s; the machine was "
        f"busy {cpu['machine'] / (seconds * cores):.0%} of its {cores} cores from the first "
        "webhook to the end of the run"
    )


def print_requeued(runtime: Runtime, requeued: list[tuple[datetime, int]]) -> None:
    """The exports the sweeper found pending without a live job (lost work it re-queued)."""
    print(f"exports the sweeper re-queued: {len(requeued)}")
    with runtime.transaction() as session:
        for moment, export_id in requeued:
            export = session.get(Export, export_id)
            attempts = session.query(ExportAttempt).filter_by(export_id=export_id).all()
            print(
                f"  at {moment:%H:%M:%S.%f} export {export_id} ({export.kind}, {export.state}) "
                f"created {export.created_at:%H:%M:%S.%f}, finished {export.finished_at}, "
                f"attempts: {[(f'{a.started_at:%H:%M:%S.%f}', a.outcome) for a in attempts]}"
            )


def print_timeline(
    start: datetime,
    delivered: list[datetime],
    created: list[datetime],
    finished: list[datetime],
    ceiling: float,
) -> None:
    """Where the run lost time: per ``TIMELINE_SECONDS`` from the first webhook, the webhooks
    delivered, the exports created (their orders fetched) and the documents booked, against
    the ceiling."""
    announced: dict[int, int] = defaultdict(int)
    synced: dict[int, int] = defaultdict(int)
    booked: dict[int, int] = defaultdict(int)
    for moment in delivered:
        announced[int((moment - start).total_seconds() // TIMELINE_SECONDS)] += 1
    for moment in created:
        synced[int((moment - start).total_seconds() // TIMELINE_SECONDS)] += 1
    for moment in finished:
        booked[int((moment - start).total_seconds() // TIMELINE_SECONDS)] += 1
    print(
        f"first export created {(min(created) - start).total_seconds():.2f} s and first "
        f"document booked {(min(finished) - start).total_seconds():.2f} s after the first webhook"
    )
    print(
        f"timeline ({TIMELINE_SECONDS} s from the first webhook): webhooks, exports created, "
        "documents booked, % of ceiling"
    )
    end = (max(finished) - start).total_seconds()
    for bucket in range(max(booked) + 1):
        # The last span ends with the run: its share is of the time it lasted.
        span = min(TIMELINE_SECONDS, end - bucket * TIMELINE_SECONDS) or TIMELINE_SECONDS
        share = booked[bucket] / (ceiling * span)
        print(
            f"  {bucket * TIMELINE_SECONDS:4d} s {announced[bucket]:5} {synced[bucket]:5} "
            f"{booked[bucket]:5} {share:6.0%}"
        )


if __name__ == "__main__":
    main()
