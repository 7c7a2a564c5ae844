"""Time as the pipeline sees it: aware UTC now, and Stockholm months and days.

Tests freeze or move time by replacing :data:`now` (see ``freeze``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time (aware, UTC)."""
    return _now()


def stockholm_period(moment: datetime | None = None) -> str:
    """The quota period (``YYYY-MM``) of ``moment`` in Europe/Stockholm."""
    local = (moment or now()).astimezone(STOCKHOLM)
    return f"{local.year:04d}-{local.month:02d}"


def stockholm_date(moment: datetime | None = None) -> date:
    """The calendar date of ``moment`` in Europe/Stockholm."""
    return (moment or now()).astimezone(STOCKHOLM).date()


@contextmanager
def freeze(moment: datetime) -> Iterator[None]:
    """Make :func:`now` return ``moment`` inside the block (tests; same process only)."""
    global _now
    if moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    previous = _now
    _now = lambda: moment  # noqa: E731
    try:
        yield
    finally:
        _now = previous
