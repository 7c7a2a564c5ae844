"""Entry point of the WooCommerce connector (group ``ledgerbridge``, name ``woocommerce``)."""

from __future__ import annotations

from ledgerbridge import hookimpl
from ledgerbridge.plugins.types import ConnectorSpec
from ledgerbridge_woocommerce.connector import WooCommerceSource
from ledgerbridge_woocommerce.sandbox import SANDBOX
from ledgerbridge_woocommerce.settings import WooCommerceSettingsSchema

CAPABILITIES = frozenset(
    {
        "webhooks",
        "polling",
        "refunds",
        "order_notes",
        "stock_updates",
        "products",
        "multi_currency",
    }
)


@hookimpl
def ledgerbridge_register_connectors() -> list[ConnectorSpec]:
    """The WooCommerce source and its sandbox."""
    return [
        ConnectorSpec(
            name="woocommerce",
            role="source",
            title="WooCommerce",
            implementation=WooCommerceSource(),
            settings_schema=WooCommerceSettingsSchema,
            capabilities=CAPABILITIES,
            sandbox=SANDBOX,
            description="Orders, refunds and products from a WooCommerce store (REST API v3).",
            help=(
                "Create a REST API key with Read/Write permission in WooCommerce → Settings → "
                "Advanced → REST API and paste both values. Leave the webhook secret empty: "
                "ledgerbridge generates it when it registers the webhooks."
            ),
        )
    ]
