"""Helpers shared by the Fortnox connector tests: connecting a ledger to the sandbox
through the real OAuth flow, routes into it, and reading what the sandbox holds.

They live here rather than in conftest.py because test modules import them by name, and
``conftest`` is an ambiguous module name once several conftest files are collected."""

from __future__ import annotations

from typing import Any

import httpx

from ledgerbridge.contexts import memory_ledger, memory_route
from ledgerbridge.model.route import RouteSettings
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge_fortnox.sandbox.state import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FIRST_TENANT,
)

REDIRECT_URI = "http://127.0.0.1/oauth/callback"


def connect(
    server: Any,
    *,
    tenant: int = FIRST_TENANT,
    services: MemoryServices | None = None,
    secrets: MemorySecrets | None = None,
    ledger_id: int = 1,
    **settings: Any,
) -> Any:
    """A ledger connected to the sandbox through the real authorization-code flow."""
    ledger = memory_ledger(
        id=ledger_id,
        key=f"fortnox-{ledger_id}",
        connector="fortnox",
        settings={
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "api_base_url": server.url,
            "auth_base_url": f"{server.url}/oauth-v1",
            # Generous: a loaded CI machine can take over a second to answer; the tests
            # that need a timeout ask for a short one themselves.
            "timeout_seconds": 15.0,
            **settings,
        },
        secrets=secrets or MemorySecrets(),
        services=services or MemoryServices(),
    )
    from ledgerbridge_fortnox.target import FortnoxTarget

    target = FortnoxTarget()
    url = target.ledgerbridge_target_authorize_url(
        ledger=ledger, redirect_uri=REDIRECT_URI, state="signed-state"
    )
    answer = httpx.get(f"{url}&tenant={tenant}", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = httpx.URL(answer.headers["location"])
    status = target.ledgerbridge_target_finish_authorization(
        ledger=ledger, redirect_uri=REDIRECT_URI, params=dict(location.params)
    )
    assert status.ok, status.message
    return ledger


def route_for(ledger: Any, *, settings: RouteSettings | None = None, **options: Any) -> Any:
    """A route into ``ledger`` with accounting settings and Fortnox options."""
    return memory_route(
        ledger=ledger, settings=settings or RouteSettings(), target_settings=options
    )


def created(
    server: Any, kind: str | None = None, tenant: int = FIRST_TENANT
) -> list[dict[str, Any]]:
    """The sandbox's listing of created objects (through its admin API)."""
    params = {"kind": kind} if kind else {}
    data = httpx.get(f"{server.url}/_sandbox/tenants/{tenant}/created", params=params).json()
    return data["created"]


def documents_of(server: Any, tenant: int = FIRST_TENANT) -> dict[str, Any]:
    """Full copies of the sandbox company's documents."""
    return httpx.get(f"{server.url}/_sandbox/tenants/{tenant}/documents").json()


def invoice_in(server: Any, number: str, tenant: int = FIRST_TENANT) -> dict[str, Any]:
    """One invoice as the sandbox holds it."""
    for invoice in documents_of(server, tenant)["invoices"]:
        if invoice["DocumentNumber"] == number:
            return invoice
    raise AssertionError(f"no invoice {number}")
