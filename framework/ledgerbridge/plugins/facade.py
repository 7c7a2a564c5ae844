"""Typed access to the hooks: the only way the rest of ledgerbridge calls plugins.

``Hooks(pm).source(site)`` and ``Hooks(pm).target(ledger)`` send contract calls to the one
connector that owns the site or ledger; the pipeline methods call every plugin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from ledgerbridge.contexts import LedgerContext, RouteContext, SiteContext
from ledgerbridge.errors import ConfigError, ExportError
from ledgerbridge.model import (
    AccountingDocument,
    ConnectionStatus,
    DocumentRow,
    DocumentType,
    ExportResult,
    ItemKind,
    Order,
    OrderLine,
    OrderSummary,
    Product,
    ReferenceItem,
    StockLevel,
    VatScenario,
    WebhookEvent,
    WebhookStatus,
)
from ledgerbridge.plugins.manager import PluginManager
from ledgerbridge.plugins.types import ConnectorSpec, Role
from ledgerbridge.progress import ExportProgress

log = logging.getLogger(__name__)


class _Dispatch:
    """Calls contract hooks on exactly one connector's implementation."""

    def __init__(self, pm: PluginManager, spec: ConnectorSpec) -> None:
        self._pm = pm
        self.spec = spec
        self._callers: dict[str, Any] = {}

    def _call(self, hook: str, **kwargs: Any) -> Any:
        caller = self._callers.get(hook)
        if caller is None:
            implementation = self.spec.implementation
            others = [plugin for plugin in self._pm.get_plugins() if plugin is not implementation]
            caller = self._pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[hook] = caller
        return caller(**kwargs)

    def _require(self, hook: str, what: str, **kwargs: Any) -> Any:
        result = self._call(hook, **kwargs)
        if result is None:
            raise ConfigError(f"Connector {self.spec.name!r} cannot {what}.")
        return result


class SourceCalls(_Dispatch):
    """The source contract, bound to one site."""

    def __init__(self, pm: PluginManager, spec: ConnectorSpec, site: SiteContext) -> None:
        super().__init__(pm, spec)
        self.site = site

    def check_connection(self) -> ConnectionStatus:
        """Test the shop connection."""
        return self._require(
            "ledgerbridge_source_check_connection", "check a connection", site=self.site
        )

    def fetch_order(self, order_id: str) -> dict[str, Any]:
        """The current raw order."""
        return self._require(
            "ledgerbridge_source_fetch_order", "fetch orders", site=self.site, order_id=order_id
        )

    def iter_orders(
        self, modified_after: datetime | None, statuses: list[str]
    ) -> Iterator[OrderSummary]:
        """Stream orders modified after a point in time."""
        return self._require(
            "ledgerbridge_source_iter_orders",
            "list orders",
            site=self.site,
            modified_after=modified_after,
            statuses=statuses,
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify and parse a webhook delivery."""
        return self._require(
            "ledgerbridge_source_parse_webhook",
            "receive webhooks",
            site=self.site,
            headers=headers,
            body=body,
        )

    def normalize_order(self, raw: dict[str, Any]) -> Order:
        """The canonical order of a raw one."""
        return self._require(
            "ledgerbridge_source_normalize_order", "normalize orders", site=self.site, raw=raw
        )

    def order_digest(self, raw: dict[str, Any]) -> str:
        """The digest of what in a raw order matters to the books; "" if the source has none."""
        return self._call("ledgerbridge_source_order_digest", site=self.site, raw=raw) or ""

    def register_webhooks(self, delivery_url: str) -> list[WebhookStatus]:
        """Ensure the order webhooks exist and are active."""
        return self._require(
            "ledgerbridge_source_register_webhooks",
            "register webhooks",
            site=self.site,
            delivery_url=delivery_url,
        )

    def add_order_note(self, order_id: str, note: str, status: Mapping[str, str]) -> None:
        """Write a note and status meta back to the order."""
        self._call(
            "ledgerbridge_source_add_order_note",
            site=self.site,
            order_id=order_id,
            note=note,
            status=status,
        )

    def update_stock(self, levels: list[StockLevel]) -> int:
        """Set stock levels; the number of products changed."""
        return self._require(
            "ledgerbridge_source_update_stock", "update stock", site=self.site, levels=levels
        )

    def iter_products(self) -> Iterator[Product]:
        """Stream the shop's products."""
        return self._require("ledgerbridge_source_iter_products", "list products", site=self.site)


class TargetCalls(_Dispatch):
    """The target contract, bound to one ledger."""

    def __init__(self, pm: PluginManager, spec: ConnectorSpec, ledger: LedgerContext) -> None:
        super().__init__(pm, spec)
        self.ledger = ledger

    def check_connection(self) -> ConnectionStatus:
        """Test the ledger connection."""
        return self._require(
            "ledgerbridge_target_check_connection", "check a connection", ledger=self.ledger
        )

    def authorize_url(self, redirect_uri: str, state: str) -> str | None:
        """Where to send the user for OAuth2, or None."""
        return self._call(
            "ledgerbridge_target_authorize_url",
            ledger=self.ledger,
            redirect_uri=redirect_uri,
            state=state,
        )

    def finish_authorization(
        self, redirect_uri: str, params: Mapping[str, str]
    ) -> ConnectionStatus:
        """Complete OAuth2 from the callback parameters."""
        return self._require(
            "ledgerbridge_target_finish_authorization",
            "authorize with OAuth2",
            ledger=self.ledger,
            redirect_uri=redirect_uri,
            params=params,
        )

    def reference_data(self, kind: str) -> list[ReferenceItem]:
        """Reference data of ``kind`` (empty when the target has none)."""
        return self._call("ledgerbridge_target_reference_data", ledger=self.ledger, kind=kind) or []

    def find_document(self, document: AccountingDocument) -> ExportResult | None:
        """The document already created for this reference, if any."""
        return self._call(
            "ledgerbridge_target_find_document", ledger=self.ledger, document=document
        )

    def export_document(
        self, route: RouteContext, document: AccountingDocument, progress: ExportProgress
    ) -> ExportResult:
        """Create the document in the ledger."""
        return self._require(
            "ledgerbridge_target_export_document",
            "export documents",
            ledger=self.ledger,
            route=route,
            document=document,
            progress=progress,
        )

    def export_credit_note(
        self,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """Create a credit note against ``original``."""
        return self._require(
            "ledgerbridge_target_export_credit_note",
            "export credit notes",
            ledger=self.ledger,
            route=route,
            document=document,
            original=original,
            progress=progress,
        )

    def build_payloads(self, route: RouteContext, document: AccountingDocument) -> dict[str, Any]:
        """The payloads the target would send for ``document`` (nothing is sent)."""
        return self._require(
            "ledgerbridge_target_build_payloads",
            "preview payloads",
            ledger=self.ledger,
            route=route,
            document=document,
        )

    def fetch_pdf(self, result: ExportResult) -> bytes | None:
        """The document's PDF, or None."""
        return self._call("ledgerbridge_target_fetch_pdf", ledger=self.ledger, result=result)

    def sync_product(self, route: RouteContext, product: Product) -> str:
        """Create or update an article; its number."""
        return self._require(
            "ledgerbridge_target_sync_product",
            "sync products",
            ledger=self.ledger,
            route=route,
            product=product,
        )

    def stock_levels(self, skus: list[str] | None) -> list[StockLevel]:
        """Stock per article."""
        return self._require(
            "ledgerbridge_target_stock_levels", "read stock levels", ledger=self.ledger, skus=skus
        )

    def currency_rate(self, currency: str, on_date: date) -> Decimal | None:
        """SEK per unit from the target's currency table, or None."""
        return self._call(
            "ledgerbridge_target_currency_rate",
            ledger=self.ledger,
            currency=currency,
            on_date=on_date,
        )


class RouteFilters:
    """:class:`~ledgerbridge.contexts.PayloadFilters` backed by the plugins' hooks."""

    def __init__(self, hooks: Hooks, route: RouteContext) -> None:
        self._hooks = hooks
        self._route = route

    def customer(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        return self._hooks.customer_payload(payload, document, self._route)

    def document(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        return self._hooks.document_payload(payload, document, self._route)

    def row(
        self, payload: dict[str, Any], row: DocumentRow, document: AccountingDocument
    ) -> dict[str, Any]:
        return self._hooks.row_payload(payload, row, document, self._route)

    def extension(self, hook: str, **kwargs: Any) -> Any:
        caller = getattr(self._hooks.pm.hook, hook, None)
        if caller is None:
            return None
        return caller(**kwargs)


class Hooks:
    """The typed facade over ``pm.hook``."""

    def __init__(self, pm: PluginManager) -> None:
        self.pm = pm

    @property
    def connectors(self) -> Mapping[str, ConnectorSpec]:
        """Every available connector by name."""
        return self.pm.connectors

    def connector(self, name: str, role: Role) -> ConnectorSpec:
        """The connector ``name`` of ``role``; ConfigError (naming the fix) when unavailable."""
        spec = self.pm.connectors.get(name)
        if spec is None:
            if name in self.pm.conflicts:
                owners = " and ".join(self.pm.conflicts[name])
                raise ConfigError(
                    f"Connector {name!r} is claimed by {owners}; uninstall one of them."
                )
            raise ConfigError(
                f"No {role} connector named {name!r} is installed (pip install the package "
                "that provides it, and check `ledgerbridge plugins`)."
            )
        if spec.role != role:
            raise ConfigError(f"Connector {name!r} is a {spec.role}, not a {role}.")
        return spec

    def with_filters(self, route: RouteContext) -> RouteContext:
        """``route`` with its payload filters wired to the plugins' hooks."""
        from dataclasses import replace

        return replace(route, filters=RouteFilters(self, route))

    def source(self, site: SiteContext) -> SourceCalls:
        """The source contract for ``site``."""
        return SourceCalls(self.pm, self.connector(site.connector, "source"), site)

    def target(self, ledger: LedgerContext) -> TargetCalls:
        """The target contract for ``ledger``."""
        return TargetCalls(self.pm, self.connector(ledger.connector, "target"), ledger)

    @cached_property
    def _hook(self) -> Any:
        return self.pm.hook

    # -- pipeline ---------------------------------------------------------------------------

    def order_received(self, site: SiteContext, order: Order) -> Order:
        """The order after every plugin's filter."""
        return self._hook.ledgerbridge_order_received(site=site, order=order)

    def classify_line(self, order: Order, line: OrderLine, default: ItemKind) -> ItemKind:
        """Goods or services for a line."""
        hook = self._hook.ledgerbridge_classify_line
        if not hook.get_hookimpls():
            return default
        chosen = hook(order=order, line=line, default=default)
        return ItemKind(chosen) if chosen is not None else default

    def choose_document_type(
        self, order: Order, route: RouteContext, default: DocumentType
    ) -> DocumentType:
        """The document type for an order."""
        chosen = self._hook.ledgerbridge_choose_document_type(
            order=order, route=route, default=default
        )
        return DocumentType(chosen) if chosen is not None else default

    def choose_vat_scenario(
        self, order: Order, route: RouteContext, default: VatScenario
    ) -> VatScenario:
        """The VAT scenario for an order."""
        chosen = self._hook.ledgerbridge_choose_vat_scenario(
            order=order, route=route, default=default
        )
        return VatScenario(chosen) if chosen is not None else default

    def choose_account(
        self,
        purpose: str,
        order: Order,
        route: RouteContext,
        default: str,
        line: OrderLine | None = None,
    ) -> str:
        """The account for ``purpose``."""
        hook = self._hook.ledgerbridge_choose_account
        if not hook.get_hookimpls():
            return default  # called for every row of every document: skip pluggy when idle
        chosen = hook(purpose=purpose, order=order, route=route, line=line, default=default)
        return str(chosen) if chosen is not None else default

    def validate_vat_number(self, vat_number: str, country: str) -> bool | None:
        """Online validity of a VAT number, or None when no plugin can tell."""
        return self._hook.ledgerbridge_validate_vat_number(vat_number=vat_number, country=country)

    def currency_rate(self, currency: str, on_date: date, route: RouteContext) -> Decimal | None:
        """SEK per unit: plugins, then the route's manual rate, then the target's table."""
        rate = self._hook.ledgerbridge_currency_rate(
            currency=currency, on_date=on_date, route=route
        )
        if rate is None and route.ledger.connector in self.pm.connectors:
            rate = self.target(route.ledger).currency_rate(currency, on_date)
        return Decimal(rate) if rate is not None else None

    def document_built(
        self, document: AccountingDocument, order: Order, route: RouteContext
    ) -> AccountingDocument:
        """The document after every plugin's filter."""
        return self._hook.ledgerbridge_document_built(document=document, order=order, route=route)

    def customer_payload(
        self, payload: dict[str, Any], document: AccountingDocument, route: RouteContext
    ) -> dict[str, Any]:
        """The customer payload after every plugin's filter."""
        return self._hook.ledgerbridge_customer_payload(
            payload=payload, document=document, route=route
        )

    def document_payload(
        self, payload: dict[str, Any], document: AccountingDocument, route: RouteContext
    ) -> dict[str, Any]:
        """The document payload after every plugin's filter."""
        return self._hook.ledgerbridge_document_payload(
            payload=payload, document=document, route=route
        )

    def row_payload(
        self,
        payload: dict[str, Any],
        row: DocumentRow,
        document: AccountingDocument,
        route: RouteContext,
    ) -> dict[str, Any]:
        """A row payload after every plugin's filter."""
        return self._hook.ledgerbridge_row_payload(
            payload=payload, row=row, document=document, route=route
        )

    def after_export(
        self, route: RouteContext, document: AccountingDocument, result: ExportResult
    ) -> None:
        """Tell every plugin a document was created."""
        self._notify("ledgerbridge_after_export", route=route, document=document, result=result)

    def export_failed(self, route: RouteContext, reference: str, error: ExportError) -> None:
        """Tell every plugin an export failed for good."""
        self._notify(
            "ledgerbridge_export_failed",
            route=route,
            reference=reference,
            error=error,
            failure_class=error.failure_class,
        )

    def quota_notice(self, ledger: LedgerContext, used: int, limit: int, level: str) -> None:
        """Tell every plugin a quota threshold was crossed."""
        self._notify(
            "ledgerbridge_quota_notice", ledger=ledger, used=used, limit=limit, level=level
        )

    def _notify(self, hook: str, **kwargs: Any) -> None:
        # Each implementation runs on its own so one failing notifier cannot silence the rest
        # or fail the export that triggered it.
        for impl in getattr(self._hook, hook).get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                continue
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception:
                log.exception("Plugin %r failed in %s; ignored.", impl.plugin_name, hook)
