"""Metrics counted in Redis, so workers on every machine add to the same figures, and a
Prometheus collector that turns them into ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

log = logging.getLogger(__name__)

#: Latency buckets in seconds for API calls and exports.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _bucket(seconds: float) -> str:
    for bound in BUCKETS:
        if seconds <= bound:
            return f"{bound:g}"
    return "+Inf"


class RedisMetrics:
    """A :class:`~ledgerbridge.metrics.MetricsSink` writing to Redis hashes.

    Best effort: a metric that cannot be counted (Redis unreachable) is dropped with a log
    line. Counting happens right after API calls and exports; it must never turn a document
    that was created into a failure.
    """

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self._redis = connection
        self._key = f"{prefix}:metrics"

    def _count(self, increments: list[tuple[str, str, int | float]]) -> None:
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key, field, amount in increments:
                    if isinstance(amount, int):
                        pipe.hincrby(f"{self._key}:{key}", field, amount)
                    else:
                        pipe.hincrbyfloat(f"{self._key}:{key}", field, amount)
                pipe.execute()
        except redis.exceptions.RedisError as error:
            log.warning("Metrics not counted (Redis: %s)", type(error).__name__)

    def api_call(self, target: str, status: int, seconds: float) -> None:
        self._count(
            [
                ("api_calls", f"{target}|{status}", 1),
                ("api_seconds", target, float(seconds)),
                ("api_buckets", f"{target}|{_bucket(seconds)}", 1),
            ]
        )

    def export_outcome(self, outcome: str, seconds: float) -> None:
        self._count(
            [
                ("exports", outcome, 1),
                ("export_seconds", "all", float(seconds)),
                ("export_buckets", _bucket(seconds), 1),
            ]
        )


def _decode(mapping: dict[Any, Any]) -> dict[str, float]:
    return {
        (key.decode() if isinstance(key, bytes) else key): float(value)
        for key, value in mapping.items()
    }


def _histogram(
    name: str, doc: str, buckets: dict[str, float], total: float, labels: dict[str, str]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=list(labels))
    cumulative = 0.0
    points = []
    for bound in (*[f"{b:g}" for b in BUCKETS], "+Inf"):
        cumulative += buckets.get(bound, 0.0)
        points.append((bound, cumulative))
    family.add_metric(list(labels.values()), points, total)
    return family


class RedisMetricsCollector:
    """Prometheus collector reading the Redis counters and the queue depths."""

    def __init__(self, connection: redis.Redis, prefix: str, depth: Any) -> None:
        self._redis = connection
        self._key = f"{prefix}:metrics"
        self._depth = depth

    def collect(self) -> Iterator[Any]:
        exports = _decode(self._redis.hgetall(f"{self._key}:exports"))
        family = CounterMetricFamily(
            "ledgerbridge_exports", "Export attempts by outcome", labels=["outcome"]
        )
        for outcome, value in sorted(exports.items()):
            family.add_metric([outcome], value)
        yield family

        calls = _decode(self._redis.hgetall(f"{self._key}:api_calls"))
        family = CounterMetricFamily(
            "ledgerbridge_api_calls", "External API calls by status", labels=["target", "status"]
        )
        throttled = CounterMetricFamily(
            "ledgerbridge_api_429", "429 answers per target", labels=["target"]
        )
        per_target_429: dict[str, float] = {}
        for key, value in sorted(calls.items()):
            target, _, status = key.partition("|")
            family.add_metric([target, status], value)
            per_target_429.setdefault(target, 0.0)
            if status == "429":
                per_target_429[target] += value
        for target, value in per_target_429.items():
            throttled.add_metric([target], value)
        yield family
        yield throttled

        seconds = _decode(self._redis.hgetall(f"{self._key}:api_seconds"))
        buckets = _decode(self._redis.hgetall(f"{self._key}:api_buckets"))
        for target in sorted(seconds):
            mine = {
                key.partition("|")[2]: value
                for key, value in buckets.items()
                if key.partition("|")[0] == target
            }
            yield _histogram(
                "ledgerbridge_api_latency_seconds",
                "External API call latency",
                mine,
                seconds[target],
                {"target": target},
            )

        export_seconds = _decode(self._redis.hgetall(f"{self._key}:export_seconds"))
        export_buckets = _decode(self._redis.hgetall(f"{self._key}:export_buckets"))
        if export_seconds:
            yield _histogram(
                "ledgerbridge_export_latency_seconds",
                "Export attempt duration",
                export_buckets,
                export_seconds.get("all", 0.0),
                {},
            )

        depth = GaugeMetricFamily(
            "ledgerbridge_queue_depth", "Jobs waiting per queue", labels=["queue"]
        )
        for name, value in sorted(self._depth().items()):
            depth.add_metric([name], value)
        yield depth
