"""The runtime of one process: configuration, database, plugins, queue and services wired
together, and the contexts connectors receive.

A worker builds one at start (:func:`current`); after ``fork`` the child throws away the
parent's database connections (they must never be shared across processes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import redis
from sqlalchemy.orm import Session, object_session

from ledgerbridge import metrics
from ledgerbridge.contexts import LedgerContext, RouteContext, SiteContext
from ledgerbridge.errors import TransientError
from ledgerbridge.model.route import load_route_settings
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import PluginManager, create_plugin_manager
from ledgerbridge.queue.base import TaskQueue
from ledgerbridge.runtime.config import Config, load_config
from ledgerbridge.runtime.redis_services import RedisServices, ScopedServices
from ledgerbridge.services import Claim, MemoryServices, current_claim
from ledgerbridge.store import migrate
from ledgerbridge.store.crypto import SecretBox
from ledgerbridge.store.db import make_engine, make_sessionmaker, transaction
from ledgerbridge.store.kv import StoredKeyValues
from ledgerbridge.store.models import Ledger, Plan, Route, Site
from ledgerbridge.store.secrets import StoredSecrets

log = logging.getLogger(__name__)


class Runtime:
    """Everything one process needs to run the pipeline, the web app or the CLI."""

    def __init__(
        self,
        config: Config,
        *,
        pm: PluginManager | None = None,
        queue: TaskQueue | None = None,
    ) -> None:
        self.config = config
        config.instance_path.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(config.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.box = SecretBox.from_config(config.secret_key, config.instance_path)
        self.pm = pm or create_plugin_manager(local_hooks=config.local_hooks_path)
        self.hooks = Hooks(self.pm)
        self.redis: redis.Redis | None = None
        if config.embedded:
            from ledgerbridge.queue.embedded import EmbeddedQueue

            self.base_services: Any = MemoryServices()
            self.queue: TaskQueue = queue or EmbeddedQueue()
        else:
            from ledgerbridge.queue.rq_backend import RQQueue
            from ledgerbridge.runtime.metrics_store import RedisMetrics

            self.redis = redis.Redis.from_url(config.redis_url)
            self.base_services = RedisServices(self.redis, config.queue_prefix)
            self.queue = queue or RQQueue(self.redis, config.queue_prefix)
            metrics.set_sink(RedisMetrics(self.redis, config.queue_prefix))
        self._plans: dict[str, list[str]] | None = None
        self._throttles: dict[str, tuple[str, Any]] = {}
        self._requests_per_export: dict[int, float] = {}
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        # A forked work horse must open its own connections (SQLAlchemy's documented rule).
        self.engine.dispose(close=False)

    # -- database ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with transaction(self.sessions) as session:
            yield session

    def migrate(self) -> None:
        """Bring the database schema up to date."""
        migrate.upgrade(self.engine)

    # -- contexts ---------------------------------------------------------------------------

    def _services(self, scope: str) -> ScopedServices:
        return ScopedServices(
            self.base_services,
            StoredKeyValues(self.sessions, scope),
            scope=scope,
            throttles=self._throttles,
        )

    def claim_ledger(
        self, ledger_id: int, until: ExitStack, *, ahead: float, force: bool = False
    ) -> bool:
        """Whether the ledger's API has room for one more export: for as many requests as its
        exports took lately, ``ahead`` seconds from now, besides what the exports running for
        it still claim (always, with ``force``). If so, this export claims them until ``until``
        closes. True also when this process does not know the ledger's rate limit yet."""
        known = self._throttles.get(f"ledger:{ledger_id}")
        if known is None:
            return True
        key, limit = known
        requests = max(1, round(self._requests_per_export.get(ledger_id, 1.0)))
        try:
            claim = self.base_services.claim(
                key, limit, requests, ahead=ahead, ttl=2 * limit.per_seconds, force=force
            )
        except TransientError:  # Redis away: the export will find out itself
            return True
        if claim is None:
            return False
        until.enter_context(self._claiming(ledger_id, claim))
        return True

    @contextmanager
    def _claiming(self, ledger_id: int, claim: Claim) -> Iterator[None]:
        reset = current_claim.set(claim)
        try:
            yield
        finally:
            current_claim.reset(reset)
            with contextlib.suppress(TransientError):
                self.base_services.release(claim)
            if claim.taken:
                # The next claim's size: how many requests this ledger's exports take lately.
                before = self._requests_per_export.get(ledger_id, claim.taken)
                self._requests_per_export[ledger_id] = before + (claim.taken - before) / 4

    def site_context(self, site: Site) -> SiteContext:
        """What the source connector of ``site`` receives."""
        return SiteContext(
            id=site.id,
            key=site.key,
            name=site.name,
            connector=site.connector,
            url=site.url,
            settings=dict(site.settings or {}),
            secrets=StoredSecrets(self.sessions, self.box, Site, site.id, site.secrets),
            services=self._services(f"site:{site.id}"),
            reference_prefix=site.reference_prefix,
            oss_registered=site.oss_registered,
            allow_private_network=site.allow_private_network,
        )

    def ledger_context(self, ledger: Ledger) -> LedgerContext:
        """What the target connector of ``ledger`` receives."""
        return LedgerContext(
            id=ledger.id,
            key=ledger.key,
            name=ledger.name,
            connector=ledger.connector,
            settings=dict(ledger.settings or {}),
            secrets=StoredSecrets(self.sessions, self.box, Ledger, ledger.id, ledger.secrets),
            services=self._services(f"ledger:{ledger.id}"),
            plan=ledger.plan,
            features=frozenset(self.plan_features(ledger.plan, object_session(ledger))),
        )

    def route_context(self, route: Route) -> RouteContext:
        """What a route looks like to the accounting rules and the target, filters wired."""
        context = RouteContext(
            id=route.id,
            site=self.site_context(route.site),
            ledger=self.ledger_context(route.ledger),
            settings=load_route_settings(route.settings),
            target_settings=dict(route.target_settings or {}),
        )
        return self.hooks.with_filters(context)

    def plan_features(self, plan: str, session: Session | None = None) -> list[str]:
        """Features a plan unlocks (cached per process; plans change rarely).

        Pass the caller's session when inside a transaction: SQLite allows one writer, so a
        second transaction opened from within the first would wait for it forever.
        """
        if self._plans is None:
            if session is not None:
                self._plans = {row.name: list(row.features or []) for row in session.query(Plan)}
            else:
                with self.transaction() as own:
                    self._plans = {row.name: list(row.features or []) for row in own.query(Plan)}
        return self._plans.get(plan, [])

    def forget_plans(self) -> None:
        """Drop the plan cache (after plans were edited)."""
        self._plans = None

    def close(self) -> None:
        """Release the queue, Redis and database connections."""
        self.queue.close()
        self.engine.dispose()


_current: Runtime | None = None
_current_guard = threading.Lock()


def current() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _current
    with _current_guard:
        if _current is None:
            _current = Runtime(load_config())
        return _current


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` this process's runtime (tests, the demo); None forgets it."""
    global _current
    with _current_guard:
        _current = runtime
