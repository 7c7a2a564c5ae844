"""Finding, creating and updating the Fortnox customer of a document.

Fortnox has no uniqueness on e-mail or organisation number and its search matches substrings,
so a lookup asks Fortnox and then compares exactly: organisation number (digits only) for
companies, else e-mail (case-insensitive). The number found is remembered in the ledger's
key-value store so the next order of the same buyer needs no search.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import NotFound
from ledgerbridge.model import AccountingDocument
from ledgerbridge_fortnox.client import FortnoxClient, segment
from ledgerbridge_fortnox.payloads import customer_payload
from ledgerbridge_fortnox.settings import RouteOptions

#: Fields set only when a customer is created (an accountant may change them in Fortnox).
CREATE_ONLY = ("Currency",)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def cache_keys(payload: dict[str, Any]) -> list[str]:
    """Store keys under which the customer number of this buyer is remembered."""
    keys = []
    if payload.get("OrganisationNumber"):
        keys.append(f"fortnox:customer:orgnr:{_digits(payload['OrganisationNumber'])}")
    if payload.get("Email"):
        keys.append(f"fortnox:customer:email:{payload['Email'].strip().lower()}")
    return keys


def find_customer(client: FortnoxClient, payload: dict[str, Any]) -> str | None:
    """The number of the existing customer matching the payload exactly, or None."""
    orgnr = payload.get("OrganisationNumber", "")
    if orgnr and payload.get("Type") == "COMPANY":
        for item in client.iterate(
            "customers",
            "Customers",
            {"organisationnumber": orgnr},
            what="looking up the customer by organisation number",
        ):
            if _digits(item.get("OrganisationNumber", "")) == _digits(orgnr):
                return str(item["CustomerNumber"])
    email = payload.get("Email", "").strip().lower()
    if email:
        for item in client.iterate(
            "customers", "Customers", {"email": email}, what="looking up the customer by e-mail"
        ):
            if str(item.get("Email", "")).strip().lower() == email:
                return str(item["CustomerNumber"])
    return None


def ensure_customer(
    client: FortnoxClient,
    route: RouteContext,
    options: RouteOptions,
    document: AccountingDocument,
) -> str:
    """The customer number for the document's buyer: found (and updated) or created."""
    payload = route.filters.customer(customer_payload(document, options), document)
    store = client.ledger.services.store
    number: str | None = None
    for key in cache_keys(payload):
        cached = store.get(key)
        if cached:
            number = str(cached)
            break
    if number is None:
        number = find_customer(client, payload)
    if number is not None:
        if options.update_existing_customers and not _written(client, payload, number):
            try:
                client.put(
                    f"customers/{segment(number)}",
                    {"Customer": payload},
                    what=f"updating customer {number}",
                )
            except NotFound:
                number = None
        if number is not None:
            _remember(client, payload, number)
            return number
    created = client.post(
        "customers",
        {"Customer": {**payload, "Currency": document.currency.upper()}},
        what="creating the customer",
    )
    number = str(created["Customer"]["CustomerNumber"])
    _remember(client, payload, number)
    return number


#: How long a customer written by ledgerbridge is taken to still hold what was written.
WRITTEN_TTL = 24 * 3600.0


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _written_key(client: FortnoxClient, number: str) -> str:
    return f"fortnox:{client.ledger.id}:customer-written:{number}"


def _written(client: FortnoxClient, payload: dict[str, Any], number: str) -> bool:
    """Whether ledgerbridge wrote exactly this payload to the customer lately.

    A returning buyer whose details did not change then costs no API call (Fortnox allows 25
    requests per 5 seconds, so an update per order would be a fifth of an invoice's budget).
    """
    return client.ledger.services.cache.get(_written_key(client, number)) == _digest(payload)


def _remember(client: FortnoxClient, payload: dict[str, Any], number: str) -> None:
    for key in cache_keys(payload):
        client.ledger.services.store.set(key, number)
    client.ledger.services.cache.set(_written_key(client, number), _digest(payload), WRITTEN_TTL)
