"""The target sandboxes as the fault suite and the benchmarks drive them.

Each adapter starts one connector's sandbox on a loopback port, adds a connected ledger to an
installation, injects the faults the scenarios need through the sandbox's own knobs, and lists
what the sandbox company holds by ledgerbridge reference: "exactly once" is always checked
against that listing, never against our own tables. Adding a target means adding one adapter
here and its name to :data:`TARGETS`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import httpx

from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup.ledgers import add_ledger
from ledgerbridge.testing.servers import serve_wsgi

#: Every target the suites run against.
TARGETS = ("fortnox", "bokio")


@dataclass(frozen=True)
class Listing:
    """What a sandbox company holds: documents by (kind, reference), and payments.

    One export may make documents of several kinds under one reference (Bokio: a credit note
    and its payout entry); each kind must appear once per reference.
    """

    documents: Counter[tuple[str, str]]
    payments: Counter[str]

    def references(self) -> set[str]:
        """Every reference some document carries."""
        return {reference for _, reference in self.documents}

    def count(self) -> int:
        """How many documents there are."""
        return sum(self.documents.values())

    def duplicates(self) -> dict[str, int]:
        """Documents (kind and reference) and invoice payments seen more than once."""
        found = {f"{kind} {ref}": n for (kind, ref), n in self.documents.items() if n > 1}
        found.update({f"payment of {key}": n for key, n in self.payments.items() if n > 1})
        return found


class LedgerSandbox:
    """One target sandbox served on loopback for the lifetime of a ``with`` block."""

    name: ClassVar[str]
    #: The requests per second the real API allows one token (the benchmark ceiling).
    allowed_per_second: ClassVar[float]

    def __init__(self, *, latency_ms: int = 0, companies: int = 4) -> None:
        self.latency_ms = latency_ms
        self.companies_wanted = companies
        self._stack = contextlib.ExitStack()
        self.url = ""
        self.app: Any = None

    def __enter__(self) -> LedgerSandbox:
        self.app = self.create_app()
        server = self._stack.enter_context(serve_wsgi(self.app))
        self.url = server.url
        self.admin = self._stack.enter_context(httpx.Client(base_url=self.url, timeout=30))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    # -- what each target provides -----------------------------------------------------

    def create_app(self) -> Any:
        """The sandbox WSGI app."""
        raise NotImplementedError

    def add_ledger(
        self,
        runtime: Runtime,
        session: Any,
        key: str,
        index: int,
        plan: str = "pro",
        settings: dict[str, Any] | None = None,
    ) -> Any:
        """Add a ledger connected to company ``index`` of the sandbox (``settings`` added to
        the connector settings); the Ledger row."""
        raise NotImplementedError

    def connect(self, runtime: Runtime, ledger: Any, index: int) -> None:
        """Finish connecting (tokens) after the ledger row is committed."""

    def route_settings(self) -> dict[str, Any]:
        """Accounting route settings the target needs on top of the scenario's."""
        return {}

    def target_settings(self) -> dict[str, Any]:
        """Target route settings."""
        return {}

    def listing(self, index: int = 0) -> Listing:
        """What company ``index`` holds."""
        raise NotImplementedError

    def knobs(self, **values: Any) -> None:
        """Set fault knobs through the admin API."""
        answer = self.admin.post("/_sandbox/knobs", json=values)
        answer.raise_for_status()

    def fail_some_creates(self, count: int) -> None:
        """Make the next ``count`` creating requests succeed but answer too late."""
        raise NotImplementedError

    def burst_429(self, count: int) -> None:
        """Answer the next ``count`` API requests with 429."""
        raise NotImplementedError

    def pending_429(self) -> int:
        """How many injected 429s are still waiting for a request to answer."""
        raise NotImplementedError

    def stats(self) -> dict[str, int]:
        """``requests`` and ``rate_limited`` (429s answered) so far."""
        raise NotImplementedError


class FortnoxSandbox(LedgerSandbox):
    """The Fortnox sandbox: one OAuth-connected tenant per ledger."""

    name = "fortnox"
    allowed_per_second = 25 / 5.0
    #: Clients give up after this; the sandbox's late answers come after ``LATE_SECONDS``.
    CLIENT_TIMEOUT = 2.0
    LATE_SECONDS = 3.0

    def create_app(self) -> Any:
        from ledgerbridge_fortnox.sandbox.app import create_app

        return create_app(
            SandboxOptions(
                latency_ms=self.latency_ms,
                extra={"timeout_seconds": self.LATE_SECONDS, "tenants": self.companies_wanted},
            )
        )

    def tenant(self, index: int) -> int:
        """The sandbox tenant id of company ``index``."""
        from ledgerbridge_fortnox.sandbox.state import FIRST_TENANT

        return FIRST_TENANT + index

    def add_ledger(
        self,
        runtime: Runtime,
        session: Any,
        key: str,
        index: int,
        plan: str = "pro",
        settings: dict[str, Any] | None = None,
    ) -> Any:
        from ledgerbridge_fortnox.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

        return add_ledger(
            runtime,
            session,
            key=key,
            name=f"Sandlådan {index + 1} AB",
            connector="fortnox",
            settings={
                "client_id": DEFAULT_CLIENT_ID,
                "api_base_url": self.url,
                "auth_base_url": f"{self.url}/oauth-v1",
                "timeout_seconds": self.CLIENT_TIMEOUT,
                **(settings or {}),
            },
            secrets={"client_secret": DEFAULT_CLIENT_SECRET},
            plan=plan,
            actor="reliability",
        )

    def connect(self, runtime: Runtime, ledger: Any, index: int) -> None:
        from ledgerbridge_fortnox.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        from ledgerbridge_fortnox.settings import SCOPES

        redirect = "http://127.0.0.1/oauth/callback"
        answer = self.admin.get(
            "/oauth-v1/auth",
            params={
                "client_id": DEFAULT_CLIENT_ID,
                "response_type": "code",
                "scope": " ".join(SCOPES),
                "state": "reliability",
                "access_type": "offline",
                "redirect_uri": redirect,
                "tenant": self.tenant(index),
            },
        )
        code = parse_qs(urlparse(answer.headers["location"]).query)["code"][0]
        token = self.admin.post(
            "/oauth-v1/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        ).json()
        with runtime.transaction() as session:
            context = runtime.ledger_context(session.merge(ledger))
        context.secrets.update(
            {
                "access_token": token["access_token"],
                "refresh_token": token["refresh_token"],
                "access_token_expires_at": str(int(token.get("expires_in", 3600)) + _now()),
            }
        )

    def listing(self, index: int = 0) -> Listing:
        from ledgerbridge_fortnox.text import clean

        data = self.admin.get(f"/_sandbox/tenants/{self.tenant(index)}/documents").json()
        documents: Counter[tuple[str, str]] = Counter()
        for invoice in data["invoices"]:
            if invoice.get("Cancelled"):
                continue
            reference = invoice.get("ExternalInvoiceReference1") or ""
            kind = "credit_invoice" if invoice.get("Credit") in (True, "true") else "invoice"
            documents[(kind, reference or f"untagged {invoice['DocumentNumber']}")] += 1
        prefix = clean("ledgerbridge:", "VoucherComments")
        for voucher in data["vouchers"]:
            comments = voucher.get("Comments") or ""
            if comments.startswith(prefix):
                documents[("voucher", comments[len(prefix) :])] += 1
        payments: Counter[str] = Counter(
            f"invoice {payment['InvoiceNumber']}" for payment in data.get("payments", [])
        )
        return Listing(documents=documents, payments=payments)

    def fail_some_creates(self, count: int) -> None:
        from ledgerbridge_fortnox.sandbox.app import sandbox_state

        state = sandbox_state(self.app)
        with state.lock:
            state.knobs.timeout_after_create += count

    def burst_429(self, count: int) -> None:
        from ledgerbridge_fortnox.sandbox.app import sandbox_state

        state = sandbox_state(self.app)
        with state.lock:
            state.knobs.burst_429 += count

    def pending_429(self) -> int:
        from ledgerbridge_fortnox.sandbox.app import sandbox_state

        state = sandbox_state(self.app)
        with state.lock:
            return int(state.knobs.burst_429)

    def stats(self) -> dict[str, int]:
        data = self.admin.get("/_sandbox/stats").json()
        return {"requests": int(data["requests"]), "rate_limited": int(data["rate_limited"])}


class BokioSandbox(LedgerSandbox):
    """The Bokio sandbox: one company (private integration token) per ledger."""

    name = "bokio"
    allowed_per_second = 200 / 60.0
    CLIENT_TIMEOUT = 2.0
    LATE_SECONDS = 3.0
    #: The OSS accounts the shop owner creates in Bokio, and the route's mapping to them.
    OSS_ACCOUNTS: ClassVar[dict[str, str]] = {
        "oss_sales:DE": "3150",
        "oss_vat:DE": "2671",
        "oss_sales:DK": "3152",
        "oss_vat:DK": "2672",
        "oss_sales:FI": "3153",
        "oss_vat:FI": "2673",
    }
    OWN_ACCOUNTS: ClassVar[dict[str, str]] = {
        "3152": "Försäljning varor OSS Danmark",
        "2672": "Utgående moms OSS Danmark",
        "3153": "Försäljning varor OSS Finland",
        "2673": "Utgående moms OSS Finland",
    }

    def __init__(self, *, latency_ms: int = 0, companies: int = 4) -> None:
        super().__init__(latency_ms=latency_ms, companies=companies)
        self.companies: list[tuple[str, str]] = []

    def create_app(self) -> Any:
        from ledgerbridge_bokio.sandbox import create_app

        return create_app(
            SandboxOptions(
                latency_ms=self.latency_ms,
                extra={"rounding": "none", "monthly_budget": 10_000_000},
            )
        )

    def company(self, index: int) -> tuple[str, str]:
        """(company id, private token) of company ``index``, created on first use."""
        from ledgerbridge_bokio.sandbox import DEMO_COMPANY_ID, DEMO_TOKEN

        if not self.companies:
            self.companies.append((DEMO_COMPANY_ID, DEMO_TOKEN))
        while len(self.companies) <= index:
            made = self.admin.post(
                "/_sandbox/companies",
                json={"name": f"Sandlådan {len(self.companies) + 1} AB", "rounding": "none"},
            ).json()
            self.companies.append((made["companyId"], made["token"]))
        company_id, token = self.companies[index]
        self.admin.post(
            f"/_sandbox/companies/{company_id}/settings", json={"accounts": self.OWN_ACCOUNTS}
        ).raise_for_status()
        return company_id, token

    def add_ledger(
        self,
        runtime: Runtime,
        session: Any,
        key: str,
        index: int,
        plan: str = "pro",
        settings: dict[str, Any] | None = None,
    ) -> Any:
        company_id, token = self.company(index)
        return add_ledger(
            runtime,
            session,
            key=key,
            name=f"Sandlådan {index + 1} AB",
            connector="bokio",
            settings={
                "company_id": company_id,
                "api_url": f"{self.url}/v1",
                "timeout_seconds": self.CLIENT_TIMEOUT,
                "monthly_budget": 10_000_000,
                **(settings or {}),
            },
            secrets={"token": token},
            plan=plan,
            actor="reliability",
        )

    def route_settings(self) -> dict[str, Any]:
        return {"accounts": dict(self.OSS_ACCOUNTS)}

    def listing(self, index: int = 0) -> Listing:
        company_id, _ = self.company(index)
        data = self.admin.get(f"/_sandbox/companies/{company_id}/documents").json()
        documents: Counter[tuple[str, str]] = Counter()
        for invoice in data["invoices"]:
            reference = (invoice.get("metadata") or {}).get("lbReference") or ""
            documents[("invoice", reference or f"untagged {invoice['id']}")] += 1
        for note in data["creditNotes"]:
            reference = (note.get("metadata") or {}).get("lbReference") or ""
            documents[("credit_note", reference or f"untagged {note['id']}")] += 1
        for entry in data["journalEntries"]:
            title = str(entry.get("title") or "")
            if title.endswith("]") and "[" in title:
                reference = title[title.rindex("[") + 1 : -1]
                kind = "journal_entry"
                if entry.get("reversingJournalEntryId"):
                    # Bokio's reversal of an entry (a full refund of a cash sale) repeats the
                    # original's title, marker included.
                    kind = "reversal"
                elif reference.endswith("/payout"):  # the refund of a paid invoice, paid out
                    kind, reference = "payout", reference.removesuffix("/payout")
                documents[(kind, reference)] += 1
        payments: Counter[str] = Counter(
            f"invoice {payment.get('invoiceId')}" for payment in data["payments"]
        )
        return Listing(documents=documents, payments=payments)

    def fail_some_creates(self, count: int) -> None:
        rules = [
            {"method": "POST", "path": path, "count": count, "mode": "timeout", "sleep": 3.0}
            for path in ("/journal-entries", "/invoices", "/credit-notes")
        ]
        self.knobs(after_create=rules)

    def burst_429(self, count: int) -> None:
        # A rule without method matches every method; the empty path matches every path.
        # Added to the faults still pending: setting fail_next replaces the whole list.
        pending = self.admin.get("/_sandbox/knobs").json().get("fail_next") or []
        self.knobs(fail_next=[*pending, {"path": "", "count": count, "status": 429}])

    def pending_429(self) -> int:
        pending = self.admin.get("/_sandbox/knobs").json().get("fail_next") or []
        return sum(int(rule.get("count", 1)) for rule in pending if rule.get("status") == 429)

    def stats(self) -> dict[str, int]:
        data = self.admin.get("/_sandbox/stats").json()
        return {"requests": int(data["requests"]), "rate_limited": int(data["rateLimited"])}


def _now() -> int:
    import time

    return int(time.time())


def sandbox_for(name: str, **options: Any) -> LedgerSandbox:
    """The adapter of target ``name``."""
    adapters: dict[str, type[LedgerSandbox]] = {
        FortnoxSandbox.name: FortnoxSandbox,
        BokioSandbox.name: BokioSandbox,
    }
    return adapters[name](**options)
