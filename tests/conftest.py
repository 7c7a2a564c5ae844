"""Fixtures for the framework's own tests: a real runtime (database + Redis), the test-only
connectors installed as a fake distribution, and workers as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from ledgerbridge.model import Order
from ledgerbridge.model.schemas import dump_order
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.setup.ledgers import add_ledger
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site

SUPPORT_DISTS = Path(__file__).parent / "support" / "dists"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class World:
    """A runtime with one memory shop routed to one memory ledger, and their Redis state."""

    runtime: Runtime
    redis: redis.Redis
    namespace: str
    env: dict[str, str]
    site_id: int
    ledger_id: int
    route_id: int

    def put_order(self, order: Order) -> None:
        """Place (or change) an order in the test shop."""
        self.redis.hset(f"{self.namespace}:orders", order.id, json.dumps(dump_order(order)))

    def documents(self) -> list[dict[str, Any]]:
        """Everything the test ledger created, in order."""
        return [json.loads(raw) for raw in self.redis.lrange(f"{self.namespace}:documents", 0, -1)]

    def notes(self, order_id: str) -> list[dict[str, Any]]:
        """Notes written back to an order of the test shop."""
        raw = self.redis.lrange(f"{self.namespace}:notes:{order_id}", 0, -1)
        return [json.loads(item) for item in raw]

    def knob(self, name: str, value: str | int) -> None:
        """Set a fault knob of the test connectors."""
        self.redis.hset(f"{self.namespace}:knobs", name, value)

    def worker(self, *, burst: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``ledgerbridge worker`` in a subprocess until the queues are empty."""
        arguments = [sys.executable, "-m", "ledgerbridge.cli", "worker", "--no-ticker"]
        if burst:
            arguments.append("--burst")
        return subprocess.run(
            arguments, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def exports_queue(self) -> Any:
        """The RQ queue of exports and order syncs (the runtime's own)."""
        from ledgerbridge.queue.base import QUEUES

        return self.runtime.queue.rq_queues()[QUEUES.index("exports")]

    def run_next_job(self) -> None:
        """Run the next job of the exports queue in this process (an in-process RQ worker)."""
        from rq.serializers import JSONSerializer

        from ledgerbridge.queue.worker import InProcessWorker

        InProcessWorker(
            [self.exports_queue()], connection=self.redis, serializer=JSONSerializer
        ).work(burst=True, max_jobs=1)

    def start_worker(self) -> subprocess.Popen:
        """Start a long-running worker subprocess (stop it with ``terminate``)."""
        return subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli", "worker", "--no-ticker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


def worker_env(runtime: Runtime, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a worker subprocess needs to join ``runtime``'s installation."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": os.pathsep.join([str(SUPPORT_DISTS), str(REPO)]),
        "LEDGERBRIDGE_INSTANCE_PATH": str(runtime.config.instance_path),
        "LEDGERBRIDGE_DATABASE_URL": runtime.config.database_url,
        "LEDGERBRIDGE_REDIS_URL": runtime.config.redis_url,
        "LEDGERBRIDGE_QUEUE": "redis",
        "LEDGERBRIDGE_QUEUE_PREFIX": runtime.config.queue_prefix,
        "LEDGERBRIDGE_STRICT_PLUGINS": "1",
        "LEDGERBRIDGE_RETRY_INTERVALS": os.environ.get("LEDGERBRIDGE_RETRY_INTERVALS", "1,1,1"),
    }
    env.update(extra or {})
    return env


@pytest.fixture
def test_connectors(monkeypatch) -> Path:
    """The ``lbtest-connectors`` fake distribution on sys.path (found by its entry point)."""
    monkeypatch.syspath_prepend(str(SUPPORT_DISTS))
    monkeypatch.setenv("LEDGERBRIDGE_RETRY_INTERVALS", "1,1,1")
    return SUPPORT_DISTS


@pytest.fixture
def make_runtime(tmp_path, database_url, redis_url, redis_prefix, test_connectors):
    """Build runtimes (production mode: RQ on the real Redis) on one fresh database."""
    built: list[Runtime] = []

    def factory(**overrides: Any) -> Runtime:
        config = load_config(
            instance_path=tmp_path / "instance",
            database_url=database_url,
            redis_url=redis_url,
            queue_mode=overrides.pop("queue_mode", "redis"),
            queue_prefix=redis_prefix,
            secret_key=None,
            **overrides,
        )
        runtime = Runtime(config)
        runtime.migrate()
        install(runtime)
        built.append(runtime)
        return runtime

    yield factory
    install(None)
    for runtime in built:
        runtime.close()


@pytest.fixture
def world(make_runtime, redis_url, redis_prefix) -> Iterator[World]:
    """A memory shop routed to a memory ledger on a fresh database and Redis prefix."""
    runtime = make_runtime()
    namespace = f"{redis_prefix}-conn"
    settings = {"namespace": namespace, "redis_url": redis_url}
    with runtime.transaction() as session:
        site = add_site(
            runtime,
            session,
            key="test-shop",
            name="Test shop",
            connector="memshop",
            url="http://127.0.0.1:9",
            settings=settings,
            secrets={"token": "shop-token-123456"},
            reference_prefix="TS-",
            allow_private_network=True,
            actor="test",
        )
        ledger = add_ledger(
            runtime,
            session,
            key="test-ledger",
            name="Testbolaget AB",
            connector="memledger",
            settings=settings,
            secrets={"token": "ledger-token-123456"},
            plan="pro",
            actor="test",
        )
        route = add_route(runtime, session, site=site, ledger=ledger, actor="test")
        ids = (site.id, ledger.id, route.id)
    connection = redis.Redis.from_url(redis_url)
    yield World(
        runtime=runtime,
        redis=connection,
        namespace=namespace,
        env=worker_env(runtime),
        site_id=ids[0],
        ledger_id=ids[1],
        route_id=ids[2],
    )
    connection.close()
