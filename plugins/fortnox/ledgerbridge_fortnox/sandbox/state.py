"""The sandbox's state: Fortnox companies (tenants), OAuth grants, tokens, knobs, statistics.

All state lives in memory behind one re-entrant lock, so the threaded server is consistent.
Each tenant is one Fortnox company with its own numbering, chart of accounts and documents;
tokens map to tenants exactly as real access tokens do.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge_fortnox.sandbox.seed import seed_reference_data

DEFAULT_CLIENT_ID = "ledgerbridge-sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 (a published sandbox credential)
FIRST_TENANT = 1000001


@dataclass
class Knobs:
    """Behaviour switches: lifetimes, limits, latency and injected faults."""

    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 45 * 24 * 3600.0
    code_ttl: float = 600.0
    rate_limit: int = 25
    rate_window: float = 5.0
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    error_rate: float = 0.0
    timeout_after_create: int = 0
    timeout_seconds: float = 2.0
    burst_429: int = 0
    round_off: bool = False

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from strings or JSON values; unknown names raise KeyError."""
        for key, value in values.items():
            current = getattr(self, key)
            if isinstance(current, bool):
                parsed: Any = str(value).strip().lower() in ("1", "true", "yes", "on")
            else:
                parsed = type(current)(value)
            setattr(self, key, parsed)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (fractions as Decimal: the sandbox writes JSON numbers from Decimal only)."""
        return {
            key: Decimal(str(value)) if isinstance(value, float) else value
            for key, value in ((key, getattr(self, key)) for key in self.__dataclass_fields__)
        }


@dataclass
class Tenant:
    """One Fortnox company."""

    id: int
    name: str
    organisation_number: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    prices: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    vouchers: dict[tuple[int, str, int], dict[str, Any]] = field(default_factory=dict)
    accounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    currencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    ways_of_delivery: dict[str, dict[str, Any]] = field(default_factory=dict)
    terms_of_payment: dict[str, dict[str, Any]] = field(default_factory=dict)
    modes_of_payment: dict[str, dict[str, Any]] = field(default_factory=dict)
    predefined_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    financial_years: dict[int, dict[str, Any]] = field(default_factory=dict)
    voucher_series: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    price_lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    vat_rates: tuple[Decimal, ...] = (Decimal("25"), Decimal("12"), Decimal("6"), Decimal("0"))
    counters: dict[str, int] = field(default_factory=dict)
    used_customer_numbers: set[str] = field(default_factory=set)
    modified: dict[tuple[str, str], datetime] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)

    def next_number(self, series: str, start: int = 1) -> int:
        """The next number of a numbering series."""
        value = self.counters.get(series, start - 1) + 1
        self.counters[series] = value
        return value

    def touch(self, kind: str, key: str) -> None:
        """Remember when an object changed (for ``lastmodified``)."""
        self.modified[(kind, key)] = datetime.now(UTC)

    def record(self, kind: str, key: str, **info: Any) -> None:
        """Add an object to the listing of everything created."""
        self.touch(kind, key)
        self.created.append(
            {
                "kind": kind,
                "id": key,
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                **{name: str(value) for name, value in info.items() if value is not None},
            }
        )

    def financial_year_for(self, day: date) -> dict[str, Any] | None:
        """The financial year covering ``day``."""
        text = day.isoformat()
        for year in self.financial_years.values():
            if year["FromDate"] <= text <= year["ToDate"]:
                return year
        return None


@dataclass
class Grant:
    """An authorization code, a refresh token or an access token."""

    value: str
    client_id: str
    tenant: int
    scopes: frozenset[str]
    expires_at: float
    redirect_uri: str = ""
    offline: bool = True
    used: bool = False
    service: bool = False


@dataclass
class Stats:
    """What the sandbox saw (tests and benchmarks read it)."""

    requests: int = 0
    rate_limited: int = 0
    injected_errors: int = 0
    token_refreshes: int = 0
    refresh_rejected: int = 0
    codes_exchanged: int = 0
    client_credentials: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON form."""
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


class SandboxState:
    """Everything the sandbox knows."""

    def __init__(
        self,
        *,
        tenants: int = 2,
        seed: bool = True,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        knobs: Knobs | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.knobs = knobs or Knobs()
        self.clients = {client_id: client_secret}
        self.tenant_count = tenants
        self.seed = seed
        self.stats = Stats()
        self.codes: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.consents: set[tuple[str, int]] = set()
        self.windows: dict[str, deque[float]] = {}
        self.tenants: dict[int, Tenant] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every document, grant and statistic; seed the tenants again."""
        with self.lock:
            self.tenants = {}
            for index in range(self.tenant_count):
                number = FIRST_TENANT + index
                tenant = Tenant(
                    id=number,
                    name=f"Sandlådan {index + 1} AB",
                    organisation_number=f"55{index + 6:02d}00-000{index}",
                )
                seed_reference_data(tenant, full=self.seed)
                self.tenants[number] = tenant
            self.codes.clear()
            self.refresh_tokens.clear()
            self.access_tokens.clear()
            self.consents.clear()
            self.windows.clear()
            self.stats = Stats()

    def default_tenant(self) -> Tenant:
        """The first tenant (used when an authorization names none)."""
        return self.tenants[FIRST_TENANT]

    def rate_check(self, token: str) -> bool:
        """Whether one more request under ``token`` fits the sliding window (and count it)."""
        now = time.monotonic()
        with self.lock:
            window = self.windows.setdefault(token, deque())
            while window and window[0] <= now - self.knobs.rate_window:
                window.popleft()
            if len(window) >= self.knobs.rate_limit:
                return False
            window.append(now)
            return True
