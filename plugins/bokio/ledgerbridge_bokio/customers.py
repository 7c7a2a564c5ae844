"""Reusing Bokio customers by e-mail.

Bokio cannot filter customers on e-mail (reference §2.1), so ledgerbridge keeps its own map
(e-mail → customer id) in the ledger's durable store. The first miss in a company indexes the
whole customer list once (paged, 100 per request) so customers created by hand in Bokio are
reused too; later misses only ask Bokio by name (a filter it has) before creating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ledgerbridge.model.order import Customer
from ledgerbridge.progress import ExportProgress
from ledgerbridge_bokio.client import BokioClient, query_value

_INDEXED = "bokio:customers-indexed:{company}"


def _key(company: str, email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"bokio:customer:{company}:{digest}"


def _emails(customer: dict[str, Any]) -> set[str]:
    return {
        str(contact.get("email") or "").strip().lower()
        for contact in customer.get("contactsDetails") or []
        if contact.get("email")
    }


class CustomerDirectory:
    """Finds or creates the Bokio customer for a buyer, keeping the e-mail map current."""

    def __init__(self, client: BokioClient) -> None:
        self.client = client
        self.store = client.ledger.services.store
        self.company = client.company_id

    def remember(self, email: str, customer_id: str) -> None:
        """Map ``email`` to ``customer_id``."""
        if email:
            self.store.set(_key(self.company, email), customer_id)

    def known(self, email: str) -> str | None:
        """The mapped customer id for ``email``."""
        if not email:
            return None
        value = self.store.get(_key(self.company, email))
        return str(value) if value else None

    def _index_all(self) -> None:
        marker = _INDEXED.format(company=self.company)
        if self.store.get(marker):
            return
        for customer in self.client.pages("/customers", what="listing Bokio customers"):
            for email in _emails(customer):
                if not self.known(email):
                    self.remember(email, str(customer["id"]))
        self.store.set(marker, True)

    def search(self, customer: Customer) -> str | None:
        """An existing Bokio customer with this e-mail (and, without e-mail, this identity)."""
        email = (customer.email or customer.billing.email).strip().lower()
        found = self.known(email)
        if found:
            return found
        queries = []
        for field_name, value in (
            ("orgNumber", customer.organisation_number),
            ("vatNumber", customer.vat_number),
            ("name", customer.name.strip()),
        ):
            safe = query_value(value)
            if safe:
                queries.append(f"{field_name}=={safe}")
        for query in queries:
            for candidate in self.client.pages(
                "/customers", query=query, what="searching Bokio customers"
            ):
                if email and email in _emails(candidate):
                    self.remember(email, str(candidate["id"]))
                    return str(candidate["id"])
                if not email and candidate.get("name", "").strip() == customer.name.strip():
                    return str(candidate["id"])
        if email:
            self._index_all()
            return self.known(email)
        return None

    def ensure(
        self,
        customer: Customer,
        payload: dict[str, Any],
        progress: ExportProgress,
        step: str = "customer",
    ) -> str:
        """The customer id for the buyer: reused when known, else created exactly once."""
        email = (customer.email or customer.billing.email).strip().lower()

        def create() -> dict[str, Any]:
            # Two workers with orders from one new buyer must not both create the customer.
            identity = email or customer.name.strip().lower()
            lock = _key(self.company, identity).replace("bokio:customer:", "bokio-customer:")
            with self.client.ledger.services.lock(lock, timeout=60, wait=60):
                existing = self.search(customer)
                if existing:
                    return {"id": existing, "reused": True}
                created = self.client.post("/customers", payload, what="creating the customer")
                self.remember(email, str(created["id"]))
                return {"id": str(created["id"]), "reused": False}

        recover: Callable[[], dict[str, Any] | None] = lambda: (  # noqa: E731
            {"id": found, "reused": True} if (found := self.search(customer)) else None
        )
        return str(progress.run(step, create, recover=recover)["id"])
