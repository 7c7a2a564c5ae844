"""The Fortnox target: ledgerbridge's target contract implemented for the Fortnox API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import ConfigError, ExportError, NotFound, ReconnectNeeded
from ledgerbridge.model import (
    AccountingDocument,
    ConnectionStatus,
    ExportResult,
    Product,
    ReferenceItem,
    StockLevel,
)
from ledgerbridge.progress import ExportProgress
from ledgerbridge_fortnox import articles, auth
from ledgerbridge_fortnox.client import FortnoxClient, segment
from ledgerbridge_fortnox.customers import cache_keys
from ledgerbridge_fortnox.exports import VOUCHER_TYPES, Exporter, find_document
from ledgerbridge_fortnox.payloads import customer_payload, invoice_payload, voucher_payload
from ledgerbridge_fortnox.reference import reference_data
from ledgerbridge_fortnox.settings import load_ledger_settings, load_route_options

PREVIEW_CUSTOMER = "(kundnummer tilldelas vid export)"


class FortnoxTarget:
    """Implements every ``ledgerbridge_target_*`` hook for Fortnox ledgers."""

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger: LedgerContext) -> ConnectionStatus:
        """Read the company information; report what to fix when that fails."""
        try:
            with FortnoxClient(ledger) as client:
                info = client.get("companyinformation", what="testing the connection")
        except ReconnectNeeded as exc:
            return ConnectionStatus(ok=False, message=str(exc), details={"reconnect": "yes"})
        except (ExportError, NotFound) as exc:
            return ConnectionStatus(ok=False, message=str(exc))
        company = info.get("CompanyInformation") or {}
        name = company.get("CompanyName") or "the company"
        return ConnectionStatus(
            ok=True,
            message=f"Connected to Fortnox as {name}.",
            details={
                "company": str(name),
                "organisation_number": str(company.get("OrganizationNumber") or ""),
                "tenant_id": str(company.get("DatabaseNumber") or ""),
            },
        )

    @hookimpl
    def ledgerbridge_target_authorize_url(
        self, ledger: LedgerContext, redirect_uri: str, state: str
    ) -> str | None:
        """The Fortnox consent page (all scopes the connector needs, offline access)."""
        return auth.authorize_url(ledger, redirect_uri, state)

    @hookimpl
    def ledgerbridge_target_finish_authorization(
        self, ledger: LedgerContext, redirect_uri: str, params: Mapping[str, str]
    ) -> ConnectionStatus:
        """Exchange the code for tokens, store them, and learn the tenant id."""
        if params.get("error"):
            description = params.get("error_description") or params["error"]
            raise ConfigError(f"Fortnox did not authorize ledgerbridge: {description}.")
        code = params.get("code", "")
        if not code:
            raise ConfigError("Fortnox's answer carried no authorization code; try again.")
        auth.exchange_code(ledger, redirect_uri, code)
        status = self.ledgerbridge_target_check_connection(ledger)
        tenant = status.details.get("tenant_id", "")
        if status.ok and tenant and not ledger.secrets.get("tenant_id"):
            ledger.secrets.update({"tenant_id": tenant})
        return status

    @hookimpl
    def ledgerbridge_target_reference_data(
        self, ledger: LedgerContext, kind: str
    ) -> list[ReferenceItem]:
        """Accounts, modes of payment, ways of delivery, terms, currencies... (cached 1 h)."""
        with FortnoxClient(ledger) as client:
            return reference_data(client, kind)

    @hookimpl
    def ledgerbridge_target_find_document(
        self, ledger: LedgerContext, document: AccountingDocument
    ) -> ExportResult | None:
        """The invoice (by ExternalInvoiceReference1) or voucher (by Comments marker)."""
        with FortnoxClient(ledger) as client:
            return find_document(client, document)

    @hookimpl
    def ledgerbridge_target_export_document(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        progress: ExportProgress,
    ) -> ExportResult:
        """Invoice, order then invoice, or voucher, with the route's automation."""
        with FortnoxClient(ledger) as client:
            return Exporter(client, route, document, progress).export()

    @hookimpl
    def ledgerbridge_target_export_credit_note(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """Full credit of the invoice, a partial credit invoice, or a reversing voucher."""
        with FortnoxClient(ledger) as client:
            return Exporter(client, route, document, progress).credit(original)

    @hookimpl
    def ledgerbridge_target_build_payloads(
        self, ledger: LedgerContext, route: RouteContext, document: AccountingDocument
    ) -> dict[str, Any]:
        """What would be sent, after the payload filters; nothing is sent."""
        options = load_route_options(route.target_settings)
        if document.document_type in VOUCHER_TYPES or (
            document.is_credit and document.meta.get("original_kind") == "voucher"
        ):
            year = int(document.meta.get("financial_year", "0") or 0)
            return {
                "voucher": {
                    "Voucher": voucher_payload(document, route, options, financial_year=year)
                }
            }
        customer = route.filters.customer(customer_payload(document, options), document)
        number = _cached_customer(ledger, customer) or PREVIEW_CUSTOMER
        send_email = (
            options.email_invoice
            if options.email_invoice is not None
            else route.settings.send_document
        )
        payloads: dict[str, Any] = {"customer": {"Customer": customer}}
        if options.flow == "order_invoice" and not document.is_credit:
            payloads["order"] = {
                "Order": invoice_payload(
                    document, route, options, number, send_email=False, order=True
                )
            }
        else:
            payloads["invoice"] = {
                "Invoice": invoice_payload(document, route, options, number, send_email=send_email)
            }
        return payloads

    @hookimpl
    def ledgerbridge_target_fetch_pdf(
        self, ledger: LedgerContext, result: ExportResult
    ) -> bytes | None:
        """The invoice's PDF (preview: does not mark it sent); vouchers have none."""
        if result.document_kind != "invoice":
            return None
        with FortnoxClient(ledger) as client:
            return client.get_bytes(
                f"invoices/{segment(result.target_id)}/preview",
                what=f"fetching the PDF of invoice {result.target_id}",
            )

    @hookimpl
    def ledgerbridge_target_sync_product(
        self, ledger: LedgerContext, route: RouteContext, product: Product
    ) -> str:
        """Create or update the article and its price-list price."""
        with FortnoxClient(ledger) as client:
            return articles.sync_product(client, route, product)

    @hookimpl
    def ledgerbridge_target_stock_levels(
        self, ledger: LedgerContext, skus: list[str] | None
    ) -> list[StockLevel]:
        """Quantity in stock per article."""
        with FortnoxClient(ledger) as client:
            return articles.stock_levels(client, skus)

    @hookimpl
    def ledgerbridge_target_currency_rate(
        self, ledger: LedgerContext, currency: str, on_date: date
    ) -> Decimal | None:
        """SEK per unit from Fortnox's currency table (SellRate / Unit), or None."""
        code = currency.upper()
        if code == "SEK":
            return Decimal("1")
        with FortnoxClient(ledger) as client:
            try:
                data = client.get(f"currencies/{segment(code)}", what=f"reading currency {code}")
            except NotFound:
                return None
        item = data.get("Currency") or {}
        rate = item.get("SellRate")
        if rate in (None, "", 0):
            return None
        unit = Decimal(str(item.get("Unit") or 1))
        return Decimal(str(rate)) / unit


def _cached_customer(ledger: LedgerContext, customer: dict[str, Any]) -> str:
    for key in cache_keys(customer):
        number = ledger.services.store.get(key)
        if number:
            return str(number)
    return ""


def ledger_help() -> str:
    """How to connect a Fortnox company (shown next to the ledger settings)."""
    settings = load_ledger_settings({})
    return (
        "Register an app in the Fortnox Developer Portal with the redirect URL of this "
        "installation (…/oauth/callback), enable the scopes companyinformation, customer, "
        "article, order, invoice, payment, price, currency, bookkeeping and settings, then "
        "enter its client id and secret here and click “Connect to Fortnox”; a Fortnox user "
        "of the company approves the access. For a service account choose auth mode "
        "'service' and let a system administrator approve it once. API: "
        f"{settings.api_base_url}, authorization: {settings.auth_base_url}."
    )
