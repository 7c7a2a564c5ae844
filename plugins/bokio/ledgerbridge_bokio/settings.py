"""The Bokio ledger settings (how to reach one company) and route settings (how to book in it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import ConfigError

BOKIO_API_URL = "https://api.bokio.se/v1"
PRIVATE = "private"
PUBLIC = "public"
PRIVATE_MONTHLY_BUDGET = 5000
DEFAULT_JOURNAL_TITLE = "{kind} {order_number}"


def _account(value: str) -> None:
    if not (len(value) == 4 and value.isdigit()):
        raise ValidationError(f"{value!r} is not a four-digit account number.")


def _uuid(value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError as exc:
        raise ValidationError(
            "The company id is the UUID in the Bokio address bar: app.bokio.se/<company id>/..."
        ) from exc


class BokioLedgerSchema(Schema):
    """How ledgerbridge reaches one Bokio company (private or public integration)."""

    class Meta:
        unknown = EXCLUDE

    integration = fields.String(
        load_default=PRIVATE,
        validate=validate.OneOf([PRIVATE, PUBLIC]),
        metadata={
            "label": "Integration type",
            "help": "private: one company, a token you create in Bokio; "
            "public: OAuth2 with your Bokio developer-portal app.",
        },
    )
    company_id = fields.String(
        load_default="",
        metadata={
            "label": "Company id",
            "help": "The UUID in the Bokio address bar: app.bokio.se/<company id>/... "
            "(filled in by the authorization for public integrations).",
        },
    )
    token = fields.String(
        load_default="",
        metadata={
            "secret": True,
            "label": "Integration token",
            "help": "Bokio → Settings → Integrations (API tokens) → create a private integration.",
        },
    )
    client_id = fields.String(load_default="", metadata={"label": "OAuth client id"})
    client_secret = fields.String(
        load_default="", metadata={"secret": True, "label": "OAuth client secret"}
    )
    api_url = fields.Url(
        load_default=BOKIO_API_URL,
        require_tld=False,
        metadata={"label": "API base URL", "help": "Change only for the sandbox."},
    )
    monthly_budget = fields.Integer(
        load_default=PRIVATE_MONTHLY_BUDGET,
        validate=validate.Range(min=1),
        metadata={"label": "Monthly request budget (private integrations)"},
    )
    budget_warning_percent = fields.Integer(
        load_default=80, validate=validate.Range(min=1, max=100)
    )
    timeout_seconds = fields.Float(load_default=30.0, validate=validate.Range(min=0.1, max=300))

    @validates_schema
    def _complete(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("company_id"):
            _uuid(data["company_id"])
        if data.get("integration", PRIVATE) == PRIVATE and not data.get("company_id"):
            raise ValidationError(
                "A private integration needs the company id (the UUID in the Bokio address "
                "bar: app.bokio.se/<company id>/...).",
                "company_id",
            )
        if data.get("integration") == PUBLIC and not data.get("client_id"):
            raise ValidationError(
                "A public integration needs the client id of your Bokio developer-portal app.",
                "client_id",
            )


class BokioRouteSchema(Schema):
    """Bokio-specific route settings: the invoice flow, bank accounts, journal titles, rounding."""

    class Meta:
        unknown = EXCLUDE

    publish = fields.Boolean(
        load_default=True, metadata={"help": "Publish invoices (assigns the invoice number)."}
    )
    bank_accounts = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=_account),
        load_default=dict,
        metadata={
            "help": "Bokio payment account per payment method (e.g. stripe → 1580); "
            "unset methods use the route's payment account."
        },
    )
    journal_title = fields.String(
        load_default=DEFAULT_JOURNAL_TITLE,
        validate=validate.Length(min=1, max=120),
        metadata={"help": "Title of journal entries; {order_number}, {date}, {kind} allowed."},
    )
    rounding_line = fields.Boolean(
        load_default=True,
        metadata={
            "help": "Absorb Bokio's öre differences with an explicit rounding line "
            "(otherwise such invoices wait for review)."
        },
    )
    rounding_account = fields.String(load_default="3740", validate=_account)
    customer_payment_terms = fields.String(load_default="", validate=validate.Length(max=50))

    @validates_schema
    def _title(self, data: dict[str, Any], **kwargs: Any) -> None:
        title = data.get("journal_title", DEFAULT_JOURNAL_TITLE)
        try:
            title.format(order_number="1", date="2026-01-01", kind="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError(
                "Use only {order_number}, {date} and {kind} in the journal title.",
                "journal_title",
            ) from exc


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """The validated settings of one Bokio ledger."""

    integration: str
    company_id: str
    api_url: str
    monthly_budget: int
    budget_warning_percent: int
    timeout_seconds: float
    client_id: str = ""

    @property
    def is_private(self) -> bool:
        """True for a private integration (the monthly request budget applies)."""
        return self.integration == PRIVATE


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """The validated Bokio settings of one route."""

    publish: bool = True
    bank_accounts: Mapping[str, str] = field(default_factory=dict)
    journal_title: str = DEFAULT_JOURNAL_TITLE
    rounding_line: bool = True
    rounding_account: str = "3740"
    customer_payment_terms: str = ""


# Built once: a marshmallow schema costs more to build than to load a payload with.
_BOKIO_LEDGER_SCHEMA = BokioLedgerSchema()
_BOKIO_ROUTE_SCHEMA = BokioRouteSchema()


def ledger_config(ledger: LedgerContext) -> LedgerConfig:
    """The ledger's settings, validated; ``ConfigError`` naming the fields that are wrong."""
    try:
        data = _BOKIO_LEDGER_SCHEMA.load(dict(ledger.settings))
    except ValidationError as exc:
        raise ConfigError(f"The Bokio settings are incomplete: {_messages(exc)}") from exc
    company = data["company_id"] or (ledger.secrets.get("company_id") or "")
    return LedgerConfig(
        integration=data["integration"],
        company_id=company,
        api_url=data["api_url"].rstrip("/"),
        monthly_budget=data["monthly_budget"],
        budget_warning_percent=data["budget_warning_percent"],
        timeout_seconds=data["timeout_seconds"],
        client_id=data["client_id"],
    )


def route_config(route: RouteContext) -> RouteConfig:
    """The route's Bokio settings, validated."""
    try:
        data = _BOKIO_ROUTE_SCHEMA.load(dict(route.target_settings))
    except ValidationError as exc:
        raise ConfigError(f"The Bokio route settings are invalid: {_messages(exc)}") from exc
    return RouteConfig(**data)


def secret_setting(ledger: LedgerContext, name: str) -> str:
    """A secret setting, from the ledger's secrets (where the host keeps them) or settings."""
    return ledger.secrets.get(name) or str(ledger.settings.get(name) or "")


def _messages(error: ValidationError) -> str:
    messages = error.messages
    if isinstance(messages, dict):
        return "; ".join(
            f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in messages.items()
        )
    return " ".join(map(str, messages))
