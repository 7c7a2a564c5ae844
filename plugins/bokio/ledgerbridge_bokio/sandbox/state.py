"""The sandbox's memory: companies with their documents, tokens, OAuth clients and knobs."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

#: Fixed ids so the demo and documentation can name them.
DEMO_COMPANY_ID = "5b3f7a52-8d1e-4c6a-9f0b-2a7c4e1d9b30"
DEMO_TOKEN = "sandbox-private-token-5b3f7a52-ledgerbridge-demo"  # noqa: S105
DEMO_CLIENT_ID = "0f6c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5"
DEMO_CLIENT_SECRET = "sandbox-client-secret-ledgerbridge"  # noqa: S105

CHART = (
    (1510, "Kundfordringar"),
    (1580, "Fordringar för kontokort och kuponger"),
    (1680, "Andra kortfristiga fordringar"),
    (1686, "Fordringar för kontokort och kuponger (BAS 2026)"),
    (1910, "Kassa"),
    (1920, "PlusGiro"),
    (1930, "Företagskonto / Affärskonto"),
    (1940, "Övriga bankkonton"),
    (2611, "Utgående moms på försäljning inom Sverige, 25 %"),
    (2621, "Utgående moms på försäljning inom Sverige, 12 %"),
    (2631, "Utgående moms på försäljning inom Sverige, 6 %"),
    (2670, "Utgående moms på försäljning inom EU, OSS"),
    (3001, "Försäljning varor inom Sverige, 25 % moms"),
    (3002, "Försäljning varor inom Sverige, 12 % moms"),
    (3003, "Försäljning varor inom Sverige, 6 % moms"),
    (3004, "Försäljning varor inom Sverige, momsfri"),
    (3011, "Försäljning tjänster inom Sverige, 25 % moms"),
    (3012, "Försäljning tjänster inom Sverige, 12 % moms"),
    (3013, "Försäljning tjänster inom Sverige, 6 % moms"),
    (3014, "Försäljning tjänster inom Sverige, momsfri"),
    (3041, "Försäljning tjänster 25 % sv"),
    (3042, "Försäljning tjänster 12 % sv"),
    (3043, "Försäljning tjänster 6 % sv"),
    (3044, "Försäljning tjänster momsfri"),
    (3105, "Försäljning varor till land utanför EU"),
    (3106, "Försäljning varor till annat EU-land, momspliktig"),
    (3108, "Försäljning varor till annat EU-land, momsfri"),
    (3305, "Försäljning tjänster till land utanför EU"),
    (3308, "Försäljning tjänster till annat EU-land"),
    (3520, "Fakturerade frakter"),
    (3540, "Faktureringsavgifter"),
    (3730, "Lämnade rabatter"),
    (3740, "Öres- och kronutjämning"),
    (3960, "Valutakursvinster på fordringar och skulder av rörelsekaraktär"),
    (6570, "Bankkostnader"),
    (7960, "Valutakursförluster på fordringar och skulder av rörelsekaraktär"),
)
CUSTOM_ACCOUNTS = (
    (2671, "Utgående moms OSS Tyskland"),
    (3150, "Försäljning varor OSS Tyskland"),
)
PAYMENT_ACCOUNTS = frozenset({1580, 1680, 1686, 1910, 1920, 1930, 1940})


def today() -> date:
    """Today in Sweden (Bokio's dates are local)."""
    return datetime.now(STOCKHOLM).date()


def new_id() -> str:
    """A resource id."""
    return str(uuid.uuid4())


@dataclass
class Company:
    """One Bokio company and everything created in it."""

    id: str
    name: str
    organisation_number: str = "559999-0001"
    rounding: str = "krona"
    accounts: dict[int, tuple[str, str]] = field(default_factory=dict)
    fiscal_years: list[dict[str, Any]] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    credit_notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal_entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    requests_by_month: dict[str, int] = field(default_factory=dict)

    def next_number(self, series: str) -> int:
        """The next number of a series (invoice, credit note, verification)."""
        self.numbers[series] = self.numbers.get(series, 0) + 1
        return self.numbers[series]

    def open_year(self, on: date) -> dict[str, Any] | None:
        """The fiscal year holding ``on``, or None."""
        for year in self.fiscal_years:
            if year["startDate"] <= on.isoformat() <= year["endDate"]:
                return year
        return None


def seeded_company(company_id: str, name: str) -> Company:
    """A company with a BAS chart and open fiscal years around today."""
    company = Company(id=company_id, name=name)
    for number, title in CHART:
        company.accounts[number] = (title, "basePlanAccount")
    for number, title in CUSTOM_ACCOUNTS:
        company.accounts[number] = (title, "customAccount")
    year = today().year
    for offset, status in ((-2, "closed"), (-1, "open"), (0, "open"), (1, "open")):
        company.fiscal_years.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{company_id}/{year + offset}")),
                "startDate": f"{year + offset}-01-01",
                "endDate": f"{year + offset}-12-31",
                "accountingMethod": "accrual",
                "status": status,
            }
        )
    return company


def seed_company(company: Company) -> None:
    """Customers and an item as a shop owner would have made them in the Bokio app."""
    for name, kind, email, extra in (
        ("Anna Svensson", "private", "anna.svensson@example.se", {}),
        (
            "Kaffekompaniet i Göteborg AB",
            "company",
            "inkop@kaffekompaniet.example.se",
            {"orgNumber": "556677-8899", "vatNumber": "SE556677889901"},
        ),
    ):
        customer_id = new_id()
        company.customers[customer_id] = {
            "id": customer_id,
            "name": name,
            "type": kind,
            "vatNumber": extra.get("vatNumber", ""),
            "orgNumber": extra.get("orgNumber", ""),
            "paymentTerms": "30",
            "contactsDetails": [
                {"id": new_id(), "name": name, "email": email, "phone": "", "isDefault": True}
            ],
            "address": {
                "line1": "Storgatan 1",
                "line2": None,
                "city": "Göteborg",
                "postalCode": "411 01",
                "country": "SE",
            },
            "language": "sv",
            "modifiedDateTime": None,
        }
    item_id = new_id()
    company.items[item_id] = {
        "id": item_id,
        "description": "Kaffebryggare Classic",
        "itemType": "salesItem",
        "productType": "goods",
        "unitType": "piece",
        "unitPrice": Decimal("799.20"),
        "taxRate": Decimal(25),
    }


@dataclass
class Principal:
    """Who a bearer token belongs to."""

    kind: str
    company_id: str = ""
    client_id: str = ""
    connection_id: str = ""
    expires: float | None = None


@dataclass
class Knobs:
    """What the admin API and ``--option`` change. Durations in seconds unless named _ms."""

    latency_ms: int = 0
    write_delay_ms: int = 0
    rate_limit: int = 200
    rate_window: float = 60.0
    monthly_budget: int = 5000
    error_rate: float = 0.0
    fail_next: list[dict[str, Any]] = field(default_factory=list)
    after_create: list[dict[str, Any]] = field(default_factory=list)
    access_token_ttl: int = 3600

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "latency_ms": self.latency_ms,
            "write_delay_ms": self.write_delay_ms,
            "rate_limit": self.rate_limit,
            "rate_window": self.rate_window,
            "monthly_budget": self.monthly_budget,
            "error_rate": self.error_rate,
            "fail_next": list(self.fail_next),
            "after_create": list(self.after_create),
            "access_token_ttl": self.access_token_ttl,
        }


@dataclass
class Stats:
    """Counters the tests and benchmarks read."""

    requests: int = 0
    write_conflicts: int = 0
    rate_limited: int = 0
    quota_exceeded: int = 0
    injected_faults: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON form."""
        return {
            "requests": self.requests,
            "writeConflicts": self.write_conflicts,
            "rateLimited": self.rate_limited,
            "quotaExceeded": self.quota_exceeded,
            "injectedFaults": self.injected_faults,
        }


class SandboxState:
    """All state of one sandbox process, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.companies: dict[str, Company] = {}
        self.tokens: dict[str, Principal] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, deque[float]] = {}
        self.in_flight: set[tuple[str, str, str]] = set()
        self.knobs = Knobs()
        self.stats = Stats()

    def add_company(self, name: str, company_id: str | None = None) -> Company:
        """A new seeded company."""
        with self.lock:
            company = seeded_company(company_id or new_id(), name)
            self.companies[company.id] = company
            return company

    def add_private_token(self, company_id: str, token: str | None = None) -> str:
        """A private-integration token for a company."""
        value = token or "sbx-" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[value] = Principal(kind="private", company_id=company_id)
        return value

    def add_client(self, client_id: str, client_secret: str, name: str) -> None:
        """A public-integration app (OAuth client)."""
        with self.lock:
            self.clients[client_id] = {"secret": client_secret, "name": name}

    def issue_tokens(self, client_id: str, company_id: str, connection_id: str) -> dict[str, Any]:
        """A company access token and a single-use refresh token."""
        access = "sbx-at-" + secrets.token_urlsafe(32)
        refresh = "sbx-rt-" + secrets.token_urlsafe(32)
        ttl = self.knobs.access_token_ttl
        self.tokens[access] = Principal(
            kind="public",
            company_id=company_id,
            client_id=client_id,
            connection_id=connection_id,
            expires=time.time() + ttl,
        )
        self.refresh_tokens[refresh] = {
            "client_id": client_id,
            "company_id": company_id,
            "connection_id": connection_id,
        }
        return {
            "tenant_id": company_id,
            "tenant_type": "company",
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "connection_id": connection_id,
        }

    def principal(self, token: str) -> Principal | None:
        """The owner of a live token."""
        with self.lock:
            principal = self.tokens.get(token)
            if principal is None:
                return None
            if principal.expires is not None and principal.expires < time.time():
                return None
            return principal

    def allow(self, token: str) -> tuple[bool, int, float]:
        """Count a request in the token's sliding window: (allowed, remaining, retry after)."""
        with self.lock:
            now = time.monotonic()
            window = self.windows.setdefault(token, deque())
            while window and window[0] <= now - self.knobs.rate_window:
                window.popleft()
            limit = self.knobs.rate_limit
            if len(window) >= limit:
                return False, 0, max(window[0] + self.knobs.rate_window - now, 0.0)
            window.append(now)
            retry = window[0] + self.knobs.rate_window - now if len(window) >= limit else 0.0
            return True, limit - len(window), retry


def money(value: Decimal) -> Decimal:
    """Amounts kept as two-decimal Decimals."""
    return value.quantize(Decimal("0.01"))
