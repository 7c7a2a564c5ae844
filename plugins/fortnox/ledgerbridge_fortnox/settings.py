"""Fortnox settings: one ledger (a Fortnox company) and one route (how a shop books into it).

Both are marshmallow schemas (they also drive the settings forms of the web UI) that load into
frozen dataclasses, so the rest of the connector never reads untyped dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from ledgerbridge.errors import ConfigError
from ledgerbridge.services import RateLimit

API_BASE_URL = "https://api.fortnox.se"
AUTH_BASE_URL = "https://apps.fortnox.se/oauth-v1"

#: Fortnox allows 25 requests per 5 seconds per access token (a sliding window).
FORTNOX_RATE_LIMIT = RateLimit(25, 5.0)


#: Every scope the connector uses (see docs/connectors/fortnox.md for why each is needed).
SCOPES = (
    "companyinformation",
    "customer",
    "article",
    "order",
    "invoice",
    "payment",
    "price",
    "currency",
    "bookkeeping",
    "settings",
)

AuthMode = Literal["oauth", "service"]
Flow = Literal["invoice", "order_invoice"]


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """How to reach one Fortnox company."""

    auth_mode: AuthMode = "oauth"
    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""
    api_base_url: str = API_BASE_URL
    auth_base_url: str = AUTH_BASE_URL
    rate_limit_margin: int = 1
    timeout_seconds: float = 30.0

    def rate_limit(self) -> RateLimit:
        """The shared throttle: Fortnox's 25 per 5 s minus the safety margin.

        Fortnox counts a request in its sliding window when it arrives; clients that count
        departures and send exactly 5 per second still get 429, because the network delays
        some requests more than others. So each request counts from its answer (the latest
        moment it can have arrived), which no delay can defeat, and is held until then for
        at most the request timeout. ``rate_limit_margin`` (default one request per 5 s)
        is kept for what we cannot see: how Fortnox's own clock and window round.
        """
        requests = max(1, FORTNOX_RATE_LIMIT.requests - self.rate_limit_margin)
        return RateLimit(
            requests, FORTNOX_RATE_LIMIT.per_seconds, settle_within=self.timeout_seconds
        )


class LedgerSettingsSchema(Schema):
    """The settings of a Fortnox ledger; secrets are stored encrypted and never shown again."""

    class Meta:
        unknown = EXCLUDE

    auth_mode = fields.String(
        load_default="oauth",
        validate=validate.OneOf(["oauth", "service"]),
        metadata={
            "label": "Authorization",
            "help": "oauth: a user connects; service: a service account",
        },
    )
    client_id = fields.String(
        load_default="",
        metadata={"label": "Client ID", "help": "From the Fortnox Developer Portal"},
    )
    client_secret = fields.String(
        load_default="", metadata={"secret": True, "label": "Client secret"}
    )
    tenant_id = fields.String(
        load_default="",
        validate=validate.Regexp(r"^\d*$", error="The tenant id is the company's database number."),
        metadata={"label": "Tenant id", "help": "Service accounts only: the DatabaseNumber"},
    )
    api_base_url = fields.Url(
        load_default=API_BASE_URL, require_tld=False, metadata={"label": "API base URL"}
    )
    auth_base_url = fields.Url(
        load_default=AUTH_BASE_URL, require_tld=False, metadata={"label": "OAuth base URL"}
    )
    rate_limit_margin = fields.Integer(
        load_default=1,
        validate=validate.Range(min=0, max=20),
        metadata={"label": "Rate-limit margin", "help": "Requests per 5 s kept unused"},
    )
    timeout_seconds = fields.Float(load_default=30.0, validate=validate.Range(min=1, max=300))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> LedgerSettings:
        for key in ("api_base_url", "auth_base_url"):
            data[key] = data[key].rstrip("/")
        return LedgerSettings(**data)


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """How documents of one route are created in Fortnox (next to the accounting settings)."""

    flow: Flow = "invoice"
    voucher_series: str = "A"
    ways_of_delivery: Mapping[str, str] = field(default_factory=dict)
    terms_of_payment: str = ""
    modes_of_payment: Mapping[str, str] = field(default_factory=dict)
    update_existing_customers: bool = True
    use_articles: bool = False
    price_list: str = "A"
    email_invoice: bool | None = None
    document_number_prefix: str = ""
    shipping_as_freight: bool = False
    fee_as_administration_fee: bool = False
    language: Literal["SV", "EN", ""] = ""
    our_reference: str = ""

    def way_of_delivery_for(self, method: str, zone: str) -> str:
        """The Fortnox way-of-delivery code for a shipping method (then its zone), or ''."""
        for key in (method, f"zone:{zone}" if zone else "", zone):
            if key and key in self.ways_of_delivery:
                return self.ways_of_delivery[key]
        return ""


class RouteOptionsSchema(Schema):
    """The Fortnox part of a route's settings."""

    class Meta:
        unknown = EXCLUDE

    flow = fields.String(
        load_default="invoice",
        validate=validate.OneOf(["invoice", "order_invoice"]),
        metadata={"help": "invoice: create the invoice; order_invoice: an order, then its invoice"},
    )
    voucher_series = fields.String(
        load_default="A",
        validate=validate.Regexp(r"^[A-Z0-9]{1,10}$", error="A voucher series is 1-10 letters."),
    )
    ways_of_delivery = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(min=1, max=50)),
        load_default=dict,
        metadata={"help": "shipping method id (or zone:NAME) -> Fortnox way of delivery code"},
    )
    terms_of_payment = fields.String(load_default="", validate=validate.Length(max=25))
    modes_of_payment = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(min=1, max=50)),
        load_default=dict,
        metadata={"help": "payment method id -> Fortnox mode of payment code"},
    )
    update_existing_customers = fields.Boolean(load_default=True)
    use_articles = fields.Boolean(load_default=False)
    price_list = fields.String(load_default="A", validate=validate.Length(min=1, max=100))
    email_invoice = fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={"help": "e-mail invoices; unset follows the route's send_document"},
    )
    document_number_prefix = fields.String(
        load_default="",
        validate=validate.Regexp(r"^\d{0,6}$", error="Fortnox document numbers are numeric."),
        metadata={"help": "digits put before the shop's order number as the document number"},
    )
    shipping_as_freight = fields.Boolean(load_default=False)
    fee_as_administration_fee = fields.Boolean(load_default=False)
    language = fields.String(load_default="", validate=validate.OneOf(["", "SV", "EN"]))
    our_reference = fields.String(load_default="", validate=validate.Length(max=50))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> RouteOptions:
        return RouteOptions(**data)


# Built once: a marshmallow schema costs more to build than to load a payload with.
_LEDGER_SETTINGS_SCHEMA = LedgerSettingsSchema()
_ROUTE_OPTIONS_SCHEMA = RouteOptionsSchema()


def load_ledger_settings(data: Mapping[str, Any]) -> LedgerSettings:
    """Ledger settings from stored data; ConfigError naming the bad fields."""
    try:
        return _LEDGER_SETTINGS_SCHEMA.load(dict(data or {}))
    except ValidationError as exc:
        raise ConfigError(f"The Fortnox ledger settings are invalid: {exc.messages}") from exc


def load_route_options(data: Mapping[str, Any]) -> RouteOptions:
    """Route options from stored data; ConfigError naming the bad fields."""
    try:
        return _ROUTE_OPTIONS_SCHEMA.load(dict(data or {}))
    except ValidationError as exc:
        raise ConfigError(f"The Fortnox route settings are invalid: {exc.messages}") from exc
