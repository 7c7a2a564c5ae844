"""The WooCommerce source connector: the ``ledgerbridge_source_*`` hook implementations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contexts import SiteContext
from ledgerbridge.errors import ExportError, NotFound
from ledgerbridge.model import (
    ConnectionStatus,
    Order,
    OrderSummary,
    Product,
    StockLevel,
    WebhookEvent,
    WebhookStatus,
)
from ledgerbridge_woocommerce import orders, products, webhooks, writeback
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.digest import order_digest
from ledgerbridge_woocommerce.normalize import normalize_order


class WooCommerceSource:
    """WooCommerce as a source of orders (one instance serves every WooCommerce site)."""

    def client(self, site: SiteContext) -> WooClient:
        """A REST client for ``site`` (tests and tools may use it directly)."""
        return WooClient(site)

    @hookimpl
    def ledgerbridge_source_check_connection(self, site: SiteContext) -> ConnectionStatus:
        """Read one order to prove the address and the keys work."""
        try:
            with self.client(site) as client:
                response = client.request("GET", "orders", params={"per_page": 1, "_fields": "id"})
                total = response.headers.get("x-wp-total", "?")
        except (ExportError, NotFound) as exc:
            return ConnectionStatus(ok=False, message=str(exc))
        return ConnectionStatus(
            ok=True,
            message=f"Connected to {site.url}: the store has {total} orders.",
            details={"orders": total},
        )

    @hookimpl
    def ledgerbridge_source_fetch_order(self, site: SiteContext, order_id: str) -> dict[str, Any]:
        """The raw order with its refunds under ``ledgerbridge_refunds`` and product kinds under
        ``ledgerbridge_products``."""
        with self.client(site) as client:
            return orders.fetch_order(client, order_id)

    @hookimpl
    def ledgerbridge_source_iter_orders(
        self, site: SiteContext, modified_after: datetime | None, statuses: list[str]
    ) -> Iterator[OrderSummary]:
        """Orders modified at or after ``modified_after`` (to the second), oldest first."""
        return self._iter_orders(site, modified_after, statuses)

    def _iter_orders(
        self, site: SiteContext, modified_after: datetime | None, statuses: list[str]
    ) -> Iterator[OrderSummary]:
        with self.client(site) as client:
            yield from orders.iter_orders(client, modified_after, statuses)

    @hookimpl
    def ledgerbridge_source_parse_webhook(
        self, site: SiteContext, headers: Mapping[str, str], body: bytes
    ) -> WebhookEvent:
        """Verify the signature and name the order (pure, no network)."""
        return webhooks.parse_webhook(site, headers, body)

    @hookimpl
    def ledgerbridge_source_normalize_order(self, site: SiteContext, raw: dict[str, Any]) -> Order:
        """The canonical order (pure, no network)."""
        return normalize_order(raw)

    @hookimpl
    def ledgerbridge_source_order_digest(self, site: SiteContext, raw: dict[str, Any]) -> str:
        """What in the order matters to the books, as a digest (pure, no network)."""
        return order_digest(raw)

    @hookimpl
    def ledgerbridge_source_register_webhooks(
        self, site: SiteContext, delivery_url: str
    ) -> list[WebhookStatus]:
        """Create, re-secret and re-activate the four order webhooks."""
        with self.client(site) as client:
            return webhooks.register_webhooks(client, delivery_url)

    @hookimpl
    def ledgerbridge_source_add_order_note(
        self, site: SiteContext, order_id: str, note: str, status: Mapping[str, str]
    ) -> None:
        """A private note and ``_ledgerbridge_status`` meta on the order."""
        with self.client(site) as client:
            writeback.add_order_note(client, order_id, note, status)

    @hookimpl
    def ledgerbridge_source_update_stock(self, site: SiteContext, levels: list[StockLevel]) -> int:
        """Write the stock levels that differ; the number of products changed."""
        with self.client(site) as client:
            return products.update_stock(client, levels)

    @hookimpl
    def ledgerbridge_source_iter_products(self, site: SiteContext) -> Iterator[Product]:
        """Every product and variation."""
        return self._iter_products(site)

    def _iter_products(self, site: SiteContext) -> Iterator[Product]:
        with self.client(site) as client:
            yield from products.iter_products(client)
