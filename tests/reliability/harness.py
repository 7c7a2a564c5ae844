"""A whole installation under test: a WooCommerce sandbox shop, target sandboxes, PostgreSQL,
a Redis of its own, ``ledgerbridge worker`` processes, the sweeper, and an oracle.

The oracle decides, from the shop alone and before any fault is injected, what every order
must become (booked, skipped by the rules, or held for review by the rules) and the reference
of every document; :meth:`Installation.verify` then compares that with what the target
sandboxes list. Nothing about "exactly once" is taken from our own tables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ledgerbridge.accounting import SkipExport, build_credit_note, build_document
from ledgerbridge.errors import DataError
from ledgerbridge.pipeline.documents import gated
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.pipeline.sync import exportable, request_sync
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.queue.base import DEFAULT_RETRY, RetryPolicy
from ledgerbridge.queue.rq_backend import RQQueue
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import (
    Export,
    ExportAttempt,
    ExportState,
    Plan,
    Route,
    Site,
    SyncRequest,
)
from ledgerbridge.testing.servers import serve_wsgi
from tests.conftest import worker_env
from tests.reliability.ledgers import LedgerSandbox, Listing
from tests.support.installations import free_port

log = logging.getLogger(__name__)
logging.getLogger("werkzeug").setLevel(logging.WARNING)

#: Retries of jobs in the suite: quick, and enough that a 20 % fault rate never exhausts them.
RETRY_INTERVALS = (1, 1, 2, 2, 3, 3, 5, 5, 8, 8)
#: A worker whose heartbeat is older than this is dead (workers beat every 10 s).
WORKER_GRACE = 15
#: The plan of the suite's ledgers: document type per payment method, a quota that never
#: binds, and no PDF archive (one more API call per invoice that the scenarios do not test).
PLAN = "reliability"
#: Export states that need nothing more from a worker.
FINAL = (
    ExportState.DONE,
    ExportState.SKIPPED,
    ExportState.NEEDS_REVIEW,
    ExportState.FAILED,
    ExportState.RESOLVED,
    ExportState.IN_SUMMARY,
)
#: Route settings of every scenario: cash sales (vouchers, journal entries) for card and
#: wallet payments, invoices (with bookkeeping and payment) for invoice and bank payments.
ROUTE_SETTINGS = {
    "export_statuses": ["completed", "processing"],
    "default_document_type": "cash_sale",
    "document_types": {"invoice": "invoice", "bacs": "invoice"},
    "payment_accounts": {"stripe": "1580"},
    "manual_rates": {"EUR": "11.20"},
}


# -- infrastructure ---------------------------------------------------------------------------


class RedisServer:
    """A private ``redis-server`` (no persistence) that a scenario may kill and restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (empty) and wait until it answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as probe,
            ):
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL it: every key (jobs, locks, throttle windows, worker registrations) is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, down_for: float = 1.0) -> None:
        """Kill it, stay down a moment, start it again empty on the same port."""
        self.kill()
        time.sleep(down_for)
        self.start()
        self.restarts += 1


class WorkerPool:
    """``ledgerbridge worker`` processes, each in its own process group."""

    def __init__(
        self, env: dict[str, str], count: int, log_dir: Path, options: tuple[str, ...] = ()
    ) -> None:
        self.env = env
        self.log_dir = log_dir
        self.options = options
        self.processes: list[subprocess.Popen | None] = [None] * count
        self.started = 0
        self.kills = 0

    def start(self, index: int) -> None:
        """Start worker ``index``."""
        self.started += 1
        log_file = open(self.log_dir / f"worker-{index}-{self.started}.log", "wb")  # noqa: SIM115
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli", "worker", "--no-ticker", *self.options],
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()

    def start_all(self) -> None:
        """Start every worker."""
        for index in range(len(self.processes)):
            self.start(index)

    def kill(self, index: int) -> None:
        """SIGKILL worker ``index`` and its work horse (the whole process group)."""
        process = self.processes[index]
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.processes[index] = None
        self.kills += 1

    def revive(self) -> int:
        """Start again every worker that is not running (a supervisor's job); how many."""
        revived = 0
        for index, process in enumerate(self.processes):
            if process is None or process.poll() is not None:
                self.start(index)
                revived += 1
        return revived

    def stop(self) -> None:
        """Stop every worker (SIGTERM to the group, SIGKILL after a grace period)."""
        for process in self.processes:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for index, process in enumerate(self.processes):
            if process is None:
                continue
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            self.processes[index] = None

    def logs(self, tail: int = 3000) -> str:
        """The end of every worker log (for failure messages)."""
        parts = []
        for path in sorted(self.log_dir.glob("worker-*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)


class Periodic(threading.Thread):
    """Calls ``action`` every ``interval`` seconds until stopped; survives its errors."""

    def __init__(self, name: str, interval: float, action: Any) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.action = action
        self.stopping = threading.Event()
        self.errors = 0

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.action()
            except Exception:  # a passing Redis or database outage: try again next time
                self.errors += 1
                log.debug("%s failed", self.name, exc_info=True)

    def stop(self) -> None:
        """Stop and wait."""
        self.stopping.set()
        self.join(timeout=30)


class _SuiteQueue(RQQueue):
    """RQ with the suite's quick retries for jobs this process queues (sync, sweeper)."""

    def enqueue(
        self,
        task: str,
        *,
        job_id: str,
        queue: str = "exports",
        retry: RetryPolicy | None = DEFAULT_RETRY,
        delay: float | None = None,
        **kwargs: Any,
    ) -> bool:
        if retry is DEFAULT_RETRY:
            retry = RetryPolicy(RETRY_INTERVALS)
        return super().enqueue(task, job_id=job_id, queue=queue, retry=retry, delay=delay, **kwargs)


# -- the oracle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What one export must end as: its state and, when booked, its document reference."""

    kind: str
    source_id: str
    state: str
    reference: str = ""
    #: For a refund, the reference of the order's document (a reversal carries that one).
    original: str = ""


@dataclass
class Verdict:
    """The result of comparing a run with the oracle."""

    problems: list[str] = field(default_factory=list)
    booked: int = 0
    skipped: int = 0
    review: int = 0
    documents: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def expected_outcomes(runtime: Runtime, route_id: int) -> dict[tuple[str, str], Expectation]:
    """What every order of the route's shop must become, read from the shop now, fault-free."""
    with runtime.transaction() as session:
        route = session.get(Route, route_id)
        assert route is not None
        site_context = runtime.site_context(route.site)
        route_context, _ = gated(runtime.route_context(route))
    source = runtime.hooks.source(site_context)
    expected: dict[tuple[str, str], Expectation] = {}
    statuses = route_context.settings.export_statuses
    for summary in source.iter_orders(None, []):
        raw = source.fetch_order(summary.id)
        order = runtime.hooks.order_received(site_context, source.normalize_order(raw))
        if not exportable(order, statuses):
            continue
        key = ("order", order.id)
        try:
            document = build_document(order, route_context, runtime.hooks)
        except SkipExport:
            expected[key] = Expectation("order", order.id, ExportState.SKIPPED)
            continue
        except DataError:
            expected[key] = Expectation("order", order.id, ExportState.NEEDS_REVIEW)
            for refund in order.refunds:
                # The credit note of an order the rules hold back fails the same checks; one
                # that could be built waits for its order until the retries run out.
                try:
                    build_credit_note(order, refund.id, route_context, runtime.hooks, original=None)
                    state = ExportState.FAILED
                except DataError:
                    state = ExportState.NEEDS_REVIEW
                expected[("refund", refund.id)] = Expectation("refund", refund.id, state)
            continue
        expected[key] = Expectation("order", order.id, ExportState.DONE, document.reference)
        for refund in order.refunds:
            try:
                credit = build_credit_note(
                    order, refund.id, route_context, runtime.hooks, original=document
                )
            except DataError:
                expected[("refund", refund.id)] = Expectation(
                    "refund", refund.id, ExportState.NEEDS_REVIEW
                )
                continue
            expected[("refund", refund.id)] = Expectation(
                "refund", refund.id, ExportState.DONE, credit.reference, document.reference
            )
    return expected


# -- the installation -------------------------------------------------------------------------


@dataclass
class Installation:
    """A shop routed to one ledger in a target sandbox, workers, sweeper and oracle."""

    runtime: Runtime
    shop_app: Any
    shop_url: str
    target: LedgerSandbox
    site_id: int
    route_id: int
    env: dict[str, str]
    workers: WorkerPool
    expected: dict[tuple[str, str], Expectation] = field(default_factory=dict)
    background: list[Periodic] = field(default_factory=list)

    @property
    def shop(self) -> Any:
        """The sandbox shop (its orders, knobs and webhook deliverer)."""
        from ledgerbridge_woocommerce.sandbox import sandbox_of

        return sandbox_of(self.shop_app)

    def order_ids(self) -> list[str]:
        """Every order of the shop."""
        with self.shop.shop.lock:
            return [str(order_id) for order_id in self.shop.shop.orders]

    def predict(self) -> None:
        """Ask the oracle what every order must become (before any fault is injected)."""
        self.expected = expected_outcomes(self.runtime, self.route_id)

    def announce_all(self, reason: str = "test") -> None:
        """Request a sync of every order of the shop (as bulk sync or webhooks would)."""
        for order_id in self.order_ids():
            request_sync(self.runtime, self.site_id, order_id, reason)

    def start_sweeper(self, interval: float = 2.0, stale_after: float = 3.0) -> Periodic:
        """The sweeper at test speed: what the ticker runs every minute in production."""
        grace = timedelta(seconds=stale_after)
        sweeper = Periodic("sweeper", interval, lambda: sweep(self.runtime, stale_after=grace))
        sweeper.start()
        self.background.append(sweeper)
        return sweeper

    def every(self, interval: float, action: Any, name: str = "chaos") -> Periodic:
        """Run ``action`` every ``interval`` seconds in the background."""
        periodic = Periodic(name, interval, action)
        periodic.start()
        self.background.append(periodic)
        return periodic

    def unsettled(self) -> list[str]:
        """What still has work left: missing or unfinished exports, queued order syncs."""
        with self.runtime.transaction() as session:
            states = {
                (kind, source): state
                for kind, source, state in session.execute(
                    select(Export.kind, Export.source_id, Export.state).where(
                        Export.route_id == self.route_id
                    )
                )
            }
            syncs = session.scalar(select(func.count()).select_from(SyncRequest)) or 0
        left = [f"{k}:{s} missing" for (k, s) in self.expected if (k, s) not in states]
        left += [f"{k}:{s} {state}" for (k, s), state in states.items() if state not in FINAL]
        if syncs:
            left.append(f"{syncs} order syncs queued")
        return left

    def settle(
        self, timeout: float, *, while_waiting: Any = None, missing_is_settled: bool = False
    ) -> list[str]:
        """Wait until nothing is left to do (or ``timeout``); what is still left.

        ``missing_is_settled``: exports that do not exist yet (their order was never
        announced) do not count as work in progress.
        """
        deadline = time.monotonic() + timeout

        def busy(left: list[str]) -> bool:
            if missing_is_settled:
                return any(not entry.endswith(" missing") for entry in left)
            return bool(left)

        left = self.unsettled()
        while busy(left) and time.monotonic() < deadline:
            if while_waiting is not None:
                while_waiting()
            time.sleep(1.0)
            left = self.unsettled()
        return left

    def verify(self, listing: Listing | None = None) -> Verdict:
        """Compare the run with the oracle and the target sandbox's own listing."""
        verdict = Verdict()
        listing = listing or self.target.listing()
        with self.runtime.transaction() as session:
            exports = {
                (export.kind, export.source_id): (export.state, export.message, export.progress)
                for export in session.scalars(
                    select(Export).where(Export.route_id == self.route_id)
                )
            }
        present = listing.references()
        reversed_originals = {ref for kind, ref in listing.documents if kind == "reversal"}
        wanted_references: set[str] = set()
        for key, expectation in self.expected.items():
            found = exports.get(key)
            if found is None:
                verdict.problems.append(f"{key[0]} {key[1]}: lost (no export)")
                continue
            state, message, progress = found
            if state != expectation.state:
                verdict.problems.append(
                    f"{key[0]} {key[1]}: {state} ({message[:160]}), expected {expectation.state}"
                )
            if expectation.state == ExportState.DONE:
                verdict.booked += 1
                if (
                    expectation.reference in present
                    or expectation.original not in reversed_originals
                ):
                    wanted_references.add(expectation.reference)
            elif expectation.state == ExportState.SKIPPED:
                verdict.skipped += 1
            else:
                verdict.review += 1
                if progress:
                    verdict.problems.append(f"{key[0]} {key[1]}: held for review after {progress}")
        for key, (state, message, _) in exports.items():
            if key not in self.expected and state not in (ExportState.SKIPPED,):
                verdict.problems.append(f"{key[0]} {key[1]}: unexpected export {state} {message}")
        references = present
        verdict.documents = listing.count()
        for reference, count in sorted(listing.duplicates().items()):
            verdict.problems.append(f"{reference}: {count} documents in the ledger (duplicate)")
        missing = sorted(wanted_references - set(references))
        if missing:
            verdict.problems.append(f"not in the ledger: {', '.join(missing[:20])}")
        extra = sorted(set(references) - wanted_references)
        if extra:
            verdict.problems.append(f"in the ledger but not expected: {', '.join(extra[:20])}")
        return verdict

    def failed_attempts(self) -> list[tuple[str, int | None, str]]:
        """Every attempt that did not finish its export: (outcome, last HTTP status, message)."""
        with self.runtime.transaction() as session:
            rows = session.execute(
                select(ExportAttempt.outcome, ExportAttempt.exchanges, ExportAttempt.message)
                .join(Export, Export.id == ExportAttempt.export_id)
                .where(Export.route_id == self.route_id, ExportAttempt.outcome != "done")
            ).all()
        return [
            (outcome, (exchanges or [{}])[-1].get("status"), message)
            for outcome, exchanges, message in rows
        ]

    def close(self) -> None:
        """Stop background threads and workers."""
        for periodic in self.background:
            periodic.stop()
        self.workers.stop()


def suite_worker_env(runtime: Runtime) -> dict[str, str]:
    """The environment of the suite's ``ledgerbridge worker`` processes."""
    return worker_env(
        runtime,
        {
            "LEDGERBRIDGE_RETRY_INTERVALS": ",".join(str(i) for i in RETRY_INTERVALS),
            "LEDGERBRIDGE_WORKER_GRACE": str(WORKER_GRACE),
        },
    )


@contextlib.contextmanager
def installation(
    *,
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    target: LedgerSandbox,
    orders: int,
    workers: int = 3,
    random_seed: int = 2026,
    shop_options: dict[str, Any] | None = None,
    site_settings: dict[str, Any] | None = None,
    web: bool = False,
) -> Iterator[Installation]:
    """Shop sandbox + ``target`` (already entered) + runtime + workers (not yet started).

    With ``web`` the web app (webhook endpoint included) is served at the installation's
    public URL, in this process.
    """
    from ledgerbridge_woocommerce.sandbox import create_app as create_shop

    web_port = free_port()
    config = load_config(
        public_url=f"http://127.0.0.1:{web_port}",
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        queue_mode="redis",
        queue_prefix=f"lbrel{random.randrange(10**6)}",
        secret_key=None,
    )
    runtime = Runtime(config, queue=_SuiteQueue(_redis(redis_url), config.queue_prefix))
    runtime.queue.worker_grace = WORKER_GRACE  # type: ignore[attr-defined]
    runtime.migrate()
    with runtime.transaction() as session:
        session.add(
            Plan(
                name=PLAN,
                title="Reliability suite",
                monthly_quota=1_000_000,
                features=["document_type_override"],
                position=99,
            )
        )
    install(runtime)
    shop_app = create_shop(
        SandboxOptions(extra={"orders": orders, "random_seed": random_seed, **(shop_options or {})})
    )
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    with serve_wsgi(shop_app) as shop, contextlib.ExitStack() as stack:
        if web:
            from ledgerbridge_webui.app import create_app as create_web

            stack.enter_context(serve_wsgi(create_web(runtime), port=web_port))
        with runtime.transaction() as session:
            site = add_site(
                runtime,
                session,
                key="webbshop",
                name="Webbshop",
                connector="woocommerce",
                url=shop.url,
                secrets={
                    "consumer_key": "ck_sandbox",
                    "consumer_secret": "cs_sandbox",
                    "webhook_secret": "whsec_reliability_0123456789",
                },
                settings=site_settings,
                reference_prefix="WS-",
                oss_registered=True,
                allow_private_network=True,
                actor="reliability",
            )
            ledger = target.add_ledger(runtime, session, f"{target.name}-1", 0, plan=PLAN)
            session.flush()
            route = add_route(
                runtime,
                session,
                site=site,
                ledger=ledger,
                settings={**ROUTE_SETTINGS, **target.route_settings()},
                target_settings=target.target_settings(),
                actor="reliability",
            )
            site_id, route_id = site.id, route.id
        target.connect(runtime, ledger, 0)
        built = Installation(
            runtime=runtime,
            shop_app=shop_app,
            shop_url=shop.url,
            target=target,
            site_id=site_id,
            route_id=route_id,
            env=suite_worker_env(runtime),
            workers=WorkerPool(suite_worker_env(runtime), workers, log_dir),
        )
        try:
            yield built
        finally:
            built.close()
            install(None)
            runtime.close()


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def site_of(runtime: Runtime, site_id: int) -> Site:
    """The site row (detached)."""
    with runtime.transaction() as session:
        site = session.get(Site, site_id)
        assert site is not None
        session.expunge(site)
        return site
