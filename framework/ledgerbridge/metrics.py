"""Counters the runtime exposes on ``/metrics``; connectors and the pipeline report here.

Workers run on many machines, so counts go to a shared sink (Redis in production, see
:mod:`ledgerbridge.runtime.metrics_store`); the web process turns them into Prometheus metrics.
"""

from __future__ import annotations

from typing import Protocol


class MetricsSink(Protocol):
    """Where counts and timings go."""

    def api_call(self, target: str, status: int, seconds: float) -> None:
        """One HTTP call to an external API finished with ``status`` (0 for no response)."""

    def export_outcome(self, outcome: str, seconds: float) -> None:
        """One export attempt ended as ``outcome`` (done, failed, retry, review, waiting)."""


class NullSink:
    """Discards everything (the default until a runtime installs a real sink)."""

    def api_call(self, target: str, status: int, seconds: float) -> None:
        return None

    def export_outcome(self, outcome: str, seconds: float) -> None:
        return None


_sink: MetricsSink = NullSink()


def set_sink(sink: MetricsSink) -> None:
    """Install the process-wide sink."""
    global _sink
    _sink = sink


def sink() -> MetricsSink:
    """The process-wide sink."""
    return _sink
