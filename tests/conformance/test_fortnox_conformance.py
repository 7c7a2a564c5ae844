"""The Fortnox target against the target conformance suite, on its sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge.testing.conformance import StoredDocument, TargetConformance, asset_total
from ledgerbridge_fortnox.sandbox.state import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FIRST_TENANT,
)
from ledgerbridge_fortnox.target import FortnoxTarget

REDIRECT_URI = "http://127.0.0.1/oauth/callback"
MARKER = "ledgerbridge:"


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0))


class TestFortnoxConformance(TargetConformance):
    connector = "fortnox"

    def ledger_context(self, request):
        server = request.getfixturevalue("fortnox_sandbox")
        self.url = server.url
        ledger = memory_ledger(
            key="fortnox-conformance",
            connector="fortnox",
            settings={
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "api_base_url": server.url,
                "auth_base_url": f"{server.url}/oauth-v1",
                "timeout_seconds": 2.0,
            },
            secrets=MemorySecrets(),
            services=MemoryServices(),
        )
        # "Connect to Fortnox": the authorization-code flow against the sandbox
        target = FortnoxTarget()
        url = target.ledgerbridge_target_authorize_url(
            ledger=ledger, redirect_uri=REDIRECT_URI, state="signed-state"
        )
        answer = httpx.get(f"{url}&tenant={FIRST_TENANT}", follow_redirects=False)
        params = dict(httpx.URL(answer.headers["location"]).params)
        status = target.ledgerbridge_target_finish_authorization(
            ledger=ledger, redirect_uri=REDIRECT_URI, params=params
        )
        assert status.ok, status.message
        return ledger

    def stored_documents(self, ledger) -> list[StoredDocument]:
        listing = httpx.get(f"{self.url}/_sandbox/tenants/{FIRST_TENANT}/documents").json()
        stored = []
        for invoice in listing["invoices"]:
            gross = _amount(invoice.get("Total")) - _amount(invoice.get("RoundOff"))
            credit = str(invoice.get("Credit")).lower() == "true"
            stored.append(
                StoredDocument(
                    target_id=str(invoice["DocumentNumber"]),
                    reference=str(invoice.get("ExternalInvoiceReference1") or ""),
                    total=abs(gross),
                    currency=str(invoice.get("Currency") or "SEK"),
                    kind="credit_invoice" if credit else "invoice",
                    # a credit invoice names the invoice it credits in InvoiceReference
                    corrects=str(invoice.get("InvoiceReference") or "") if credit else "",
                )
            )
        for voucher in listing["vouchers"]:
            comments = str(voucher.get("Comments") or "")
            if not comments.startswith(MARKER):
                continue  # payment and invoice vouchers Fortnox makes itself
            rows = voucher.get("VoucherRows", [])
            stored.append(
                StoredDocument(
                    target_id=f"{voucher['VoucherSeries']}{voucher['VoucherNumber']}",
                    reference=comments.removeprefix(MARKER),
                    total=asset_total(
                        (r["Account"], r.get("Debit"), r.get("Credit")) for r in rows
                    ),
                    currency="SEK",
                    kind="voucher",
                )
            )
        return stored

    def provoke_data_error(self, ledger, route, document):
        # an invoice without a buyer: Fortnox invoices need a customer
        return document.replace(customer=None)

    def provoke_transient_error(self, ledger, route, document) -> Callable[[], None]:
        # Fortnox fails every request (500) until told otherwise: longer than the client's
        # own retries last
        httpx.post(f"{self.url}/_sandbox/knobs", json={"error_rate": 1.0})
        return lambda: httpx.post(f"{self.url}/_sandbox/knobs", json={"error_rate": 0.0})
