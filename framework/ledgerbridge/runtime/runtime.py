"""The runtime of one process: configuration, database, plugins, queue and services wired
together, and the contexts connectors receive.

A worker builds one at start (:func:`current`); after ``fork`` the child throws away the
parent's database connections (they must never be shared across processes).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
from ledgerbridge.services import MemoryServices
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

    def ledger_busy_for(self, ledger_id: int) -> float:
        """Seconds before the ledger's API takes another request from this installation, as
        far as the rate limit its connector throttles to says (0 when unknown or free)."""
        known = self._throttles.get(f"ledger:{ledger_id}")
        if known is None:
            return 0.0
        key, limit = known
        try:
            return self.base_services.throttle_delay(key, limit)
        except TransientError:  # Redis away: the export will find out itself
            return 0.0

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
