"""Entry point of the Bokio connector (``bokio = "ledgerbridge_bokio.plugin"``)."""

from __future__ import annotations

from ledgerbridge import hookimpl
from ledgerbridge.plugins.types import ConnectorSpec, SandboxSpec
from ledgerbridge_bokio.client import RATE_LIMIT
from ledgerbridge_bokio.sandbox import create_app, describe
from ledgerbridge_bokio.settings import BokioLedgerSchema, BokioRouteSchema
from ledgerbridge_bokio.target import BokioTarget

HELP = (
    "Private integration (one company): in Bokio open Settings → Integrations (API tokens), "
    "create a private integration and copy its token; the company id is the UUID in the "
    "address bar after app.bokio.se/ (app.bokio.se/<company id>/...). Private integrations "
    "need the Plus, Premium or Business plan and may send 5,000 requests per company and "
    "month. Public integration (many companies): register an app in Bokio's developer portal, "
    "enter its client id and secret, then click Connect and pick the company."
)


@hookimpl
def ledgerbridge_register_connectors() -> list[ConnectorSpec]:
    """The Bokio target and its sandbox."""
    return [
        ConnectorSpec(
            name="bokio",
            role="target",
            title="Bokio",
            implementation=BokioTarget(),
            settings_schema=BokioLedgerSchema,
            route_schema=BokioRouteSchema,
            capabilities=frozenset(
                {
                    "invoice",
                    "cash_sale",
                    "daily_summary",
                    "credit_note",
                    "journal_entry",
                    "oss_journal",
                    "pdf",
                    "oauth2",
                    "customers",
                    "products",
                    "foreign_currency",
                    "monthly_request_budget",
                }
            ),
            rate_limit=RATE_LIMIT,
            sandbox=SandboxSpec(
                create_app=create_app,
                default_port=8103,
                describe=describe,
                description="Local Bokio Company API and OAuth server with knobs.",
            ),
            description="Invoices, credit notes and journal entries in Bokio (company API v1).",
            help=HELP,
        )
    ]
