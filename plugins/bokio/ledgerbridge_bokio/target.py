"""The Bokio target: the ``ledgerbridge_target_*`` hooks, dispatched for Bokio ledgers only."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import ConfigError, DataError, ExportError
from ledgerbridge.model import (
    AccountingDocument,
    ConnectionStatus,
    ExportResult,
    Product,
    ReferenceItem,
)
from ledgerbridge.progress import ExportProgress
from ledgerbridge_bokio import oauth, payloads
from ledgerbridge_bokio.client import BokioClient, query_value
from ledgerbridge_bokio.flows import CREDIT_NOTE, INVOICE, BokioFlows, flow_for
from ledgerbridge_bokio.settings import ledger_config, route_config

REFERENCE_TTL = 3600.0
_PAYMENT_ACCOUNT_RANGES = ((1900, 1989), (1580, 1580), (1680, 1680), (1686, 1686))


def _client(ledger: LedgerContext) -> BokioClient:
    return BokioClient(ledger)


class BokioTarget:
    """Implements the target contract against the Bokio Company and General APIs."""

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger: LedgerContext) -> ConnectionStatus:
        """Read the company information; report the monthly request budget in the details."""
        try:
            config = ledger_config(ledger)
            with _client(ledger) as client:
                body = client.get("/company-information", what="reading the company") or {}
                info = body.get("companyInformation") or {}
                status = client.budget_status()
        except ExportError as exc:
            return ConnectionStatus(ok=False, message=str(exc))
        details = {
            "integration": config.integration,
            "company_id": client.company_id,
            "organisation_number": str(info.get("organizationNumber") or ""),
            "budget": status.describe(),
            "requests_this_month": str(status.used),
        }
        if status.enforced:
            details["budget_limit"] = str(status.limit)
        message = f"Connected to Bokio as {info.get('name') or client.company_id}."
        if status.warning:
            message += f" Note: {status.describe()}."
        return ConnectionStatus(ok=True, message=message, details=details)

    @hookimpl
    def ledgerbridge_target_authorize_url(
        self, ledger: LedgerContext, redirect_uri: str, state: str
    ) -> str | None:
        """The Bokio authorize URL for public integrations; None for private ones."""
        config = ledger_config(ledger)
        if config.is_private:
            return None
        return oauth.authorize_url(config, redirect_uri, state)

    @hookimpl
    def ledgerbridge_target_finish_authorization(
        self, ledger: LedgerContext, redirect_uri: str, params: Mapping[str, str]
    ) -> ConnectionStatus:
        """Exchange the code, store the tokens and the company, then check the connection."""
        config = ledger_config(ledger)
        if config.is_private:
            raise ConfigError("Private Bokio integrations use a token, not an authorization.")
        values = oauth.exchange_code(ledger, config, redirect_uri, params)
        status = self.ledgerbridge_target_check_connection(ledger)
        details = dict(status.details)
        details["connection_id"] = str(values.get("connection_id") or "")
        return status.replace(details=details)

    @hookimpl
    def ledgerbridge_target_reference_data(
        self, ledger: LedgerContext, kind: str
    ) -> list[ReferenceItem]:
        """Accounts, bank (payment) accounts, VAT rates, fiscal years, company information."""
        if kind == "vat_codes":
            return [
                ReferenceItem(code=str(rate), name=f"{rate} %")
                for rate in sorted(int(rate) for rate in payloads.BOKIO_TAX_RATES)
            ]
        fetchers = {
            "accounts": _accounts,
            "bank_accounts": _bank_accounts,
            "fiscal_years": _fiscal_years,
            "company": _company,
        }
        fetch = fetchers.get(kind)
        if fetch is None:
            return []
        config = ledger_config(ledger)
        key = f"bokio:reference:{config.company_id or ledger.key}:{kind}"
        cached = ledger.services.cache.get(key)
        if cached is None:
            with _client(ledger) as client:
                cached = fetch(client)
            ledger.services.cache.set(key, cached, ttl=REFERENCE_TTL)
        return [
            ReferenceItem(code=item["code"], name=item["name"], extra=item.get("extra", {}))
            for item in cached
        ]

    @hookimpl
    def ledgerbridge_target_find_document(
        self, ledger: LedgerContext, document: AccountingDocument
    ) -> ExportResult | None:
        """The invoice, credit note or journal entry already made for ``document.reference``."""
        with _client(ledger) as client:
            return BokioFlows(ledger, client).find(document)

    @hookimpl
    def ledgerbridge_target_export_document(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        progress: ExportProgress,
    ) -> ExportResult:
        """An invoice (published, recorded, paid as the route says) or a journal entry."""
        _checked(document)
        if document.is_credit:
            raise DataError("Credit notes are exported with export_credit_note.")
        with _client(ledger) as client:
            flows = BokioFlows(ledger, client)
            if flow_for(document) == INVOICE:
                return flows.export_invoice(route, document, progress)
            return flows.export_journal(route, document, progress)

    @hookimpl
    def ledgerbridge_target_export_credit_note(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """A Bokio credit note of the original invoice, or a reversing/correcting entry."""
        _checked(document)
        with _client(ledger) as client:
            return BokioFlows(ledger, client).export_credit(route, document, original, progress)

    @hookimpl
    def ledgerbridge_target_build_payloads(
        self, ledger: LedgerContext, route: RouteContext, document: AccountingDocument
    ) -> dict[str, Any]:
        """The exact bodies the export would send (customer id shown as a placeholder)."""
        _checked(document)
        config = route_config(route)
        if flow_for(document) == INVOICE:
            result: dict[str, Any] = {}
            customer_id = "<customer id>"
            if document.customer is not None:
                result["customer"] = route.filters.customer(
                    payloads.customer_payload(document.customer, config), document
                )
            result["invoice"] = payloads.invoice_payload(
                document, customer_id, config, route.filters
            )
            return result
        if flow_for(document) == CREDIT_NOTE and not payloads.goes_as_journal_entry(document):
            draft = {"id": "<credit note id>", "currency": document.currency}
            return {
                "credit_note": payloads.credit_note_payload(document, draft, config, route.filters)
            }
        return {"journal_entry": payloads.journal_payload(document, config, route.filters)}

    @hookimpl
    def ledgerbridge_target_fetch_pdf(
        self, ledger: LedgerContext, result: ExportResult
    ) -> bytes | None:
        """The invoice or credit note PDF (published documents only); None for journal entries."""
        paths = {INVOICE: "invoices", CREDIT_NOTE: "credit-notes"}
        folder = paths.get(result.document_kind)
        if folder is None:
            return None
        with _client(ledger) as client:
            return client.request(
                "GET",
                f"/{folder}/{result.target_id}/download",
                what="downloading the PDF",
                raw=True,
            )

    @hookimpl
    def ledgerbridge_target_sync_product(
        self, ledger: LedgerContext, route: RouteContext, product: Product
    ) -> str:
        """Create or update the Bokio item for a shop product; returns the item id."""
        rate = product.vat_rate
        if rate not in payloads.BOKIO_TAX_RATES:
            raise DataError(f"Bokio items take VAT 0, 6, 12 or 25 %, not {rate} %.")
        price = product.price
        if product.prices_include_tax:
            price = price * 100 / (100 + rate)
        description = (f"{product.sku} " if product.sku else "") + product.name
        body = {
            "description": description[:500],
            "itemType": "salesItem",
            "productType": "services" if product.kind.value == "service" else "goods",
            "unitType": "piece",
            "unitPrice": price.quantize(Decimal("0.0001")),
            "taxRate": int(rate),
        }
        key = f"bokio:item:{ledger_config(ledger).company_id}:{product.id}"
        with _client(ledger) as client:
            item_id = ledger.services.store.get(key)
            if item_id:
                client.put(f"/items/{item_id}", {**body, "id": item_id}, what="updating the item")
                return str(item_id)
            safe = query_value(body["description"])
            if safe:
                for item in client.pages("/items", query=f"description=={safe}", what="items"):
                    ledger.services.store.set(key, str(item["id"]))
                    client.put(f"/items/{item['id']}", {**body, "id": item["id"]}, what="item")
                    return str(item["id"])
            created = client.post("/items", body, what="creating the item")
            ledger.services.store.set(key, str(created["id"]))
            return str(created["id"])


def _checked(document: AccountingDocument) -> None:
    problems = document.check()
    if problems:
        raise DataError(f"{document.reference} is not sound: " + "; ".join(problems))


def _accounts(client: BokioClient) -> list[dict[str, Any]]:
    accounts = client.get("/chart-of-accounts", what="reading the chart of accounts") or []
    return [
        {
            "code": str(item["account"]),
            "name": str(item.get("name") or ""),
            "extra": {"type": str(item.get("accountType") or "")},
        }
        for item in accounts
    ]


def _bank_accounts(client: BokioClient) -> list[dict[str, Any]]:
    return [
        item
        for item in _accounts(client)
        if any(low <= int(item["code"]) <= high for low, high in _PAYMENT_ACCOUNT_RANGES)
    ]


def _fiscal_years(client: BokioClient) -> list[dict[str, Any]]:
    return [
        {
            "code": str(year["id"]),
            "name": f"{year['startDate']} – {year['endDate']}",
            "extra": {
                "status": str(year.get("status") or ""),
                "accounting_method": str(year.get("accountingMethod") or ""),
            },
        }
        for year in client.pages("/fiscal-years", what="reading the fiscal years")
    ]


def _company(client: BokioClient) -> list[dict[str, Any]]:
    info = (client.get("/company-information", what="reading the company") or {}).get(
        "companyInformation"
    ) or {}
    return [
        {
            "code": str(info.get("id") or client.company_id),
            "name": str(info.get("name") or ""),
            "extra": {
                "organisation_number": str(info.get("organizationNumber") or ""),
                "company_type": str(info.get("companyType") or ""),
            },
        }
    ]
