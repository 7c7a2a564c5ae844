"""Bokio's monthly request budget: 5,000 requests per company and calendar month for private
integrations (reference §4.1), counted across every worker.

Every request is counted, in ``ledger.services.count`` under a key per company and month
(Europe/Stockholm). The last count is mirrored in the shared cache so it can be shown without
spending a request. Crossing the warning threshold is logged once; an exhausted budget refuses
further requests with a ``ConfigError`` before Bokio would start failing an export half-way.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ledgerbridge.contexts import LedgerContext
from ledgerbridge.errors import ConfigError
from ledgerbridge_bokio.settings import LedgerConfig

log = logging.getLogger(__name__)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
_KEEP_SECONDS = 40 * 86400


def current_month(now: datetime | None = None) -> str:
    """The calendar month in Sweden, ``YYYY-MM``."""
    return (now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Requests used this month against the budget."""

    month: str
    used: int
    limit: int
    enforced: bool
    warn_at: int

    @property
    def remaining(self) -> int:
        """Requests left this month (never negative)."""
        return max(self.limit - self.used, 0)

    @property
    def warning(self) -> bool:
        """True once the warning threshold is reached."""
        return self.enforced and self.used >= self.warn_at

    def describe(self) -> str:
        """Plain words for the UI and logs."""
        if not self.enforced:
            return f"{self.used:,} Bokio requests this month (no monthly limit for public apps)"
        text = f"{self.used:,} of {self.limit:,} Bokio requests used in {self.month}"
        if self.used >= self.limit:
            return text + " — the monthly budget is used up"
        if self.warning:
            return text + f" — only {self.remaining:,} left"
        return text


class RequestBudget:
    """Counts one company's Bokio requests per month and refuses when the budget is gone."""

    def __init__(self, ledger: LedgerContext, config: LedgerConfig) -> None:
        self._services = ledger.services
        self._config = config
        self._company = config.company_id or ledger.key

    def _keys(self, month: str) -> tuple[str, str]:
        base = f"bokio:budget:{self._company}:{month}"
        return base, base + ":seen"

    def status(self) -> BudgetStatus:
        """This month's use, without spending a request."""
        month = current_month()
        used = int(self._services.cache.get(self._keys(month)[1]) or 0)
        return self._status(month, used)

    def _status(self, month: str, used: int) -> BudgetStatus:
        limit = self._config.monthly_budget
        warn_at = max(1, math.ceil(limit * self._config.budget_warning_percent / 100))
        return BudgetStatus(month, used, limit, self._config.is_private, warn_at)

    def ensure_room(self, needed: int, what: str) -> BudgetStatus:
        """Refuse to start ``what`` (about ``needed`` requests) when the budget cannot cover it."""
        status = self.status()
        if status.enforced and status.used + needed > status.limit:
            raise ConfigError(
                f"Not starting {what}: it needs about {needed} Bokio requests and only "
                f"{status.remaining:,} of this month's {status.limit:,} are left (Bokio allows "
                "private integrations 5,000 requests per company and month). Switch the route to "
                "daily summaries, which need one request per day, or wait for next month.",
                details={"budget": status.describe()},
            )
        return status

    def consume(self) -> BudgetStatus:
        """Count one request; ``ConfigError`` instead when the budget is used up."""
        month = current_month()
        counter, seen = self._keys(month)
        used = self._services.count(counter, period_seconds=_KEEP_SECONDS)
        self._services.cache.set(seen, used, ttl=_KEEP_SECONDS)
        status = self._status(month, used)
        if status.enforced and used > status.limit:
            raise ConfigError(
                f"The monthly Bokio request budget is used up ({status.limit:,} requests per "
                f"company in {month} for private integrations). Exports continue next month; "
                "daily summaries need far fewer requests.",
                details={"budget": status.describe()},
            )
        if status.enforced and used == status.warn_at:
            log.warning("Bokio company %s: %s", self._company, status.describe())
        return status
