"""Fixtures of the fault suite: run sizes, a private Redis, a whole installation per target.

Sizes: the issue's full sizes (500 orders, kills for as long as the run lasts...) run when
``LEDGERBRIDGE_FULL_RELIABILITY=1``, or when pytest is pointed only at ``tests/reliability``
(``pytest tests/reliability``) and ``CI`` is not set. Whole-suite runs and CI (``CI=true``) run
the short version (fewer orders and kill cycles, one target per scenario).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.reliability.harness import Installation, RedisServer, installation
from tests.reliability.ledgers import TARGETS, sandbox_for
from tests.support.runsize import full_run

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sizes:
    """How big a run is."""

    full: bool
    orders: int
    kill_cycles: int
    redis_restarts: int
    settle_seconds: float

    def targets(self, short_choice: str) -> tuple[str, ...]:
        """Every target in a full run; ``short_choice`` only in a short one."""
        return TARGETS if self.full else (short_choice,)


SIZES: Sizes | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Decide the sizes once per session."""
    global SIZES
    if full_run(config, HERE):
        SIZES = Sizes(full=True, orders=560, kill_cycles=60, redis_restarts=3, settle_seconds=900)
    else:
        SIZES = Sizes(full=False, orders=50, kill_cycles=5, redis_restarts=1, settle_seconds=240)


def targets_for(short_choice: str) -> list[str]:
    """The targets a scenario is parametrized with (all in full runs)."""
    assert SIZES is not None
    return list(SIZES.targets(short_choice))


@pytest.fixture
def sizes() -> Sizes:
    """The run sizes of this session."""
    assert SIZES is not None
    return SIZES


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A Redis server of the test's own, which the test may kill and restart."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def make_installation(tmp_path, postgres_url, private_redis):
    """Build the installation of a scenario for a target name."""
    opened: list = []

    def factory(target_name: str, *, orders: int, **options) -> Installation:
        target = sandbox_for(target_name, latency_ms=options.pop("latency_ms", 0))
        target.__enter__()
        opened.append(target)
        context = installation(
            tmp_path=tmp_path,
            database_url=postgres_url,
            redis_url=private_redis.url,
            target=target,
            orders=orders,
            **options,
        )
        built = context.__enter__()
        opened.append(context)
        return built

    yield factory
    for item in reversed(opened):
        item.__exit__(None, None, None)
