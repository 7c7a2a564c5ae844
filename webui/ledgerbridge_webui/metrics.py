"""``/metrics``: Prometheus text — exports by outcome, queue depth, API calls, 429s, latency.

Workers count in Redis (:class:`~ledgerbridge.runtime.metrics_store.RedisMetrics`) and this
endpoint reads the counters with the same collector in every web process. In embedded mode
(the demo) jobs run in this process, so the counters are kept in memory here.

Access: an admin's session, an admin's API token (``Authorization: Bearer …``), or a client
address in ``LEDGERBRIDGE_METRICS_ALLOW`` (comma-separated addresses or networks, e.g.
``127.0.0.1,10.0.0.0/8`` for a Prometheus server that cannot send a token).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections import defaultdict
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ledgerbridge import metrics as metric_sinks
from ledgerbridge.runtime.metrics_store import RedisMetrics, RedisMetricsCollector
from ledgerbridge.runtime.runtime import Runtime

blueprint = Blueprint("metrics", __name__)


class MemoryHashes:
    """The few Redis hash commands the metrics store uses, in this process's memory."""

    def __init__(self) -> None:
        self._hashes: dict[str, dict[str, float]] = defaultdict(dict)
        self._guard = threading.Lock()

    def hincrby(self, key: str, field: str, amount: int = 1) -> None:
        """Add ``amount`` to a field."""
        self.hincrbyfloat(key, field, amount)

    def hincrbyfloat(self, key: str, field: str, amount: float = 1.0) -> None:
        """Add ``amount`` to a field."""
        with self._guard:
            bucket = self._hashes[key]
            bucket[field] = bucket.get(field, 0.0) + float(amount)

    def hgetall(self, key: str) -> dict[str, float]:
        """A copy of one hash."""
        with self._guard:
            return dict(self._hashes.get(key, {}))

    def pipeline(self, transaction: bool = False) -> _Batch:
        """Commands applied at once (``with ... as pipe: ...; pipe.execute()``)."""
        return _Batch(self)


class _Batch:
    """A pipeline stand-in: commands apply at once (one process, one lock per command)."""

    def __init__(self, hashes: MemoryHashes) -> None:
        self._hashes = hashes

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def hincrby(self, key: str, field: str, amount: int = 1) -> None:
        self._hashes.hincrby(key, field, amount)

    def hincrbyfloat(self, key: str, field: str, amount: float = 1.0) -> None:
        self._hashes.hincrbyfloat(key, field, amount)

    def execute(self) -> list[Any]:
        return []


_memory = MemoryHashes()


def configure(app: Flask, runtime: Runtime) -> None:
    """Give ``app`` a Prometheus registry reading this installation's counters."""
    registry = CollectorRegistry(auto_describe=False)
    if runtime.redis is not None:
        store: Any = runtime.redis
        prefix = runtime.config.queue_prefix
    else:
        # Jobs run in this process: its counters are this process's (the runtime installs no
        # sink in embedded mode, so the web app does).
        store, prefix = _memory, "embedded"
        metric_sinks.set_sink(RedisMetrics(store, prefix))  # type: ignore[arg-type]
    registry.register(RedisMetricsCollector(store, prefix, runtime.queue.depth))
    app.extensions["ledgerbridge_metrics"] = registry


def _allowed_address() -> bool:
    allowed = os.environ.get("LEDGERBRIDGE_METRICS_ALLOW", "")
    allowed = current_app.config.get("LEDGERBRIDGE_METRICS_ALLOW", allowed)
    if not allowed or not request.remote_addr:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr)
    except ValueError:
        return False
    for entry in str(allowed).split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _admin_token() -> bool | None:
    from ledgerbridge_webui.api import token_user

    header = request.headers.get("Authorization", "")
    if not header:
        return None
    user = token_user(header)
    return bool(user and user.is_admin)


@blueprint.get("/metrics")
def metrics() -> Response:
    """The Prometheus exposition of this installation's counters."""
    token = _admin_token()
    if token is False:
        abort(403)
    if token is None and not _allowed_address():
        if not current_user.is_authenticated:
            abort(401)
        if not current_user.is_admin:
            abort(403)
    registry = current_app.extensions["ledgerbridge_metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
