"""The settings of one WooCommerce site (the site URL itself lives on the site context)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

AUTH_MODES = ("auto", "basic", "query", "oauth1")
DEFAULT_API_PATH = "/wp-json/wc/v3"


class WooCommerceSettingsSchema(Schema):
    """What a user enters to connect a store: REST API keys, webhook secret, transport options.

    ``auth_mode``: ``auto`` uses Basic auth on https and OAuth 1.0a on plain http (what
    WooCommerce accepts on each); ``query`` sends the keys as query parameters for servers that
    strip the Authorization header (https only; the keys then appear in URLs, which
    ledgerbridge masks).
    """

    consumer_key = fields.String(
        required=True,
        validate=validate.Regexp(r"^ck_\w+$", error="A consumer key starts with ck_."),
        metadata={"secret": True, "label": "Consumer key"},
    )
    consumer_secret = fields.String(
        required=True,
        validate=validate.Regexp(r"^cs_\w+$", error="A consumer secret starts with cs_."),
        metadata={"secret": True, "label": "Consumer secret"},
    )
    webhook_secret = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9_-]{16,}$",
            error="Use at least 16 letters, digits, '-' or '_' (other characters get escaped).",
        ),
        metadata={"secret": True, "label": "Webhook secret (generated when empty)"},
    )
    api_path = fields.String(
        load_default=DEFAULT_API_PATH,
        validate=validate.OneOf([DEFAULT_API_PATH, "/?rest_route=/wc/v3"]),
        metadata={"label": "REST API path (the second for stores without pretty permalinks)"},
    )
    auth_mode = fields.String(load_default="auto", validate=validate.OneOf(AUTH_MODES))
    oauth_signature_method = fields.String(
        load_default="HMAC-SHA256", validate=validate.OneOf(["HMAC-SHA256", "HMAC-SHA1"])
    )
    verify_tls = fields.Boolean(load_default=True, metadata={"label": "Verify TLS certificates"})
    timeout_seconds = fields.Float(
        load_default=60.0, validate=validate.Range(min=5, max=300), metadata={"label": "Timeout"}
    )
    connect_timeout_seconds = fields.Float(
        load_default=10.0, validate=validate.Range(min=1, max=60)
    )
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=100))


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """The loaded settings with their defaults filled in."""

    api_path: str = DEFAULT_API_PATH
    auth_mode: str = "auto"
    oauth_signature_method: str = "HMAC-SHA256"
    verify_tls: bool = True
    timeout_seconds: float = 60.0
    connect_timeout_seconds: float = 10.0
    per_page: int = 100

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SiteSettings:
        """Settings from a site's stored (non-secret) settings; unknown keys are ignored."""
        known = {name: values[name] for name in cls.__slots__ if values.get(name) is not None}
        return cls(**known)
