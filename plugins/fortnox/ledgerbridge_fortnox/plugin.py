"""Entry point of the Fortnox connector (``ledgerbridge`` entry-point group, name ``fortnox``)."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.plugins.types import ConnectorSpec, SandboxSpec
from ledgerbridge_fortnox import hookdefaults, hookspecs
from ledgerbridge_fortnox.settings import (
    FORTNOX_RATE_LIMIT,
    LedgerSettingsSchema,
    RouteOptionsSchema,
)
from ledgerbridge_fortnox.target import FortnoxTarget, ledger_help

CAPABILITIES = frozenset(
    {
        "oauth2",
        "service_account",
        "invoice",
        "order_invoice",
        "cash_sale_voucher",
        "daily_summary_voucher",
        "credit_full",
        "credit_partial",
        "bookkeep",
        "email",
        "payment",
        "pdf",
        "articles",
        "stock",
        "currency_rates",
        "reference_data",
        "preview",
    }
)

DEFAULTS_PLUGIN = "fortnox-hook-defaults"


def _create_sandbox(options: Any) -> Any:
    from ledgerbridge_fortnox.sandbox.app import create_app

    return create_app(options)


def _describe_sandbox(app: Any, base_url: str) -> list[str]:
    from ledgerbridge_fortnox.sandbox.app import describe

    return describe(app, base_url)


@hookimpl
def ledgerbridge_register_connectors() -> list[ConnectorSpec]:
    """The Fortnox target connector and its sandbox."""
    return [
        ConnectorSpec(
            name="fortnox",
            role="target",
            title="Fortnox",
            implementation=FortnoxTarget(),
            settings_schema=LedgerSettingsSchema,
            route_schema=RouteOptionsSchema,
            capabilities=CAPABILITIES,
            rate_limit=FORTNOX_RATE_LIMIT,
            sandbox=SandboxSpec(
                create_app=_create_sandbox,
                default_port=8102,
                describe=_describe_sandbox,
                description="Fortnox API v3 and OAuth2 fake with state per tenant",
            ),
            description="Invoices, orders, vouchers, credit invoices and payments in Fortnox.",
            help=ledger_help(),
        )
    ]


@hookimpl
def ledgerbridge_add_hookspecs(pluginmanager: Any) -> None:
    """Publish ``ledgerbridge_fortnox_invoice_row`` and its pass-through implementation."""
    pluginmanager.add_hookspecs(hookspecs)
    if pluginmanager.get_plugin(DEFAULTS_PLUGIN) is None:
        pluginmanager.register(hookdefaults, name=DEFAULTS_PLUGIN)
