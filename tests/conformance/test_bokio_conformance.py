"""The Bokio target against the target conformance suite, on its sandbox over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge.testing.conformance import StoredDocument, TargetConformance, asset_total
from ledgerbridge_bokio.sandbox import DEMO_COMPANY_ID, DEMO_TOKEN

#: Cash sales are journal entries whose title ends with the reference in brackets.
BRACKETED = re.compile(r"\[([^\]]+)\]\s*$")


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0))


class TestBokioConformance(TargetConformance):
    connector = "bokio"

    def ledger_context(self, request):
        server = request.getfixturevalue("bokio_sandbox")
        self.url = server.url
        return memory_ledger(
            key="bokio-conformance",
            connector="bokio",
            settings={
                "integration": "private",
                "company_id": DEMO_COMPANY_ID,
                "api_url": f"{server.url}/v1",
            },
            secrets=MemorySecrets({"token": DEMO_TOKEN}),
            services=MemoryServices(),
        )

    def stored_documents(self, ledger) -> list[StoredDocument]:
        listing = httpx.get(f"{self.url}/_sandbox/companies/{DEMO_COMPANY_ID}/documents").json()
        stored = []
        for kind, key in (("invoice", "invoices"), ("credit_note", "creditNotes")):
            for item in listing[key]:
                corrects = (
                    (item.get("invoiceRef") or {}).get("id", "") if kind == "credit_note" else ""
                )
                stored.append(
                    StoredDocument(
                        target_id=str(item["id"]),
                        reference=str((item.get("metadata") or {}).get("lbReference", "")),
                        total=_amount(item.get("totalAmount")) + _amount(item.get("totalTax")),
                        currency=str(item.get("currency") or "SEK"),
                        kind=kind,
                        corrects=str(corrects),
                    )
                )
        for entry in listing["journalEntries"]:
            match = BRACKETED.search(str(entry.get("title") or ""))
            if not match:
                continue  # Bokio's own entries for invoices and payments
            items = entry.get("items", [])
            stored.append(
                StoredDocument(
                    target_id=str(entry["id"]),
                    reference=match.group(1),
                    total=asset_total((i["account"], i["debit"], i["credit"]) for i in items),
                    currency="SEK",
                    kind="journal_entry",
                )
            )
        return stored

    def provoke_data_error(self, ledger, route, document):
        # an invoice without a buyer: Bokio invoices need a customer
        return document.replace(customer=None)

    def provoke_transient_error(self, ledger, route, document) -> Callable[[], None]:
        # Bokio answers 503 to every request until told otherwise
        rules = [{"status": 503, "count": 1000}]
        httpx.post(f"{self.url}/_sandbox/knobs", json={"fail_next": rules})
        return lambda: httpx.post(f"{self.url}/_sandbox/knobs", json={"fail_next": []})
