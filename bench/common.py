"""What the benchmarks share: a throwaway PostgreSQL database, a private Redis, percentiles
and a description of the machine the figures came from.

The benchmarks reuse the fault suite's installation pieces (``tests/reliability``): run them
from the repository root with the project's virtualenv, e.g. ``.venv/bin/python bench/x.py``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def clean_up_on_sigterm() -> None:
    """Let ``kill`` (SIGTERM) unwind the benchmark like Ctrl-C, so it stops its workers and
    servers and drops its database instead of leaving them running."""

    def stop(*_: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)


def temporary_database() -> contextlib.AbstractContextManager[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    from tests.support.databases import temporary_postgres_database

    return temporary_postgres_database("lbbench")


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0-1) percentile of ``values`` (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> str:
    """One line naming the machine, Python and the date (for docs/performance.md)."""
    cpus = os.cpu_count() or 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return (
        f"{platform.machine()} {cpus} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load {load:.1f}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
