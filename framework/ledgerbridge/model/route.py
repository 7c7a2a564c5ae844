"""Route settings: how one site's orders are booked in one ledger.

The accounting part lives here (document type and payment account per payment method,
account overrides, shipping, discounts, automation). Target-specific settings (Fortnox flow,
ways of delivery, Bokio bank accounts...) are validated by the target connector's own
``route_schema`` and kept next to these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates

from ledgerbridge.model.document import DocumentType
from ledgerbridge.model.fields import Amount
from ledgerbridge.model.order import _Replaceable

ACCOUNT_PATTERN = r"^\d{4}$"


@dataclass(frozen=True, slots=True)
class RouteSettings(_Replaceable):
    """The accounting settings of a route; every field has a safe default."""

    export_statuses: tuple[str, ...] = ("completed",)
    default_document_type: DocumentType = DocumentType.INVOICE
    document_types: Mapping[str, DocumentType] = field(default_factory=dict)
    default_payment_account: str = "1930"
    payment_accounts: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)
    split_shipping_by_rate: bool = False
    shipping_account: str = ""
    fee_account: str = ""
    show_discounts: bool = False
    zero_total: Literal["skip", "export"] = "skip"
    daily_summary: bool = False
    bookkeep: bool = True
    send_document: bool = False
    register_payment: bool = True
    sync_stock: bool = False
    manual_rates: Mapping[str, Decimal] = field(default_factory=dict)

    def document_type_for(self, payment_method: str) -> DocumentType:
        """The document type configured for a payment method (or the default)."""
        return self.document_types.get(payment_method, self.default_document_type)

    def payment_account_for(self, payment_method: str) -> str:
        """The payment account configured for a payment method (or the default)."""
        return self.payment_accounts.get(payment_method, self.default_payment_account)


class _AccountField(fields.String):
    """A four-digit BAS account number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=_validate_account, **kwargs)


def _validate_account(value: str) -> None:
    if not (len(value) == 4 and value.isdigit()):
        raise ValidationError(f"{value!r} is not a four-digit account number.")


class RouteSettingsSchema(Schema):
    """Validates route settings from the UI, the CLI (``routes set``) and JSON files."""

    class Meta:
        unknown = EXCLUDE

    export_statuses = fields.List(fields.String(), load_default=lambda: ["completed"])
    default_document_type = fields.Enum(
        DocumentType, by_value=True, load_default=DocumentType.INVOICE
    )
    document_types = fields.Dict(
        keys=fields.String(),
        values=fields.Enum(DocumentType, by_value=True),
        load_default=dict,
    )
    default_payment_account = _AccountField(load_default="1930")
    payment_accounts = fields.Dict(keys=fields.String(), values=_AccountField(), load_default=dict)
    accounts = fields.Dict(keys=fields.String(), values=_AccountField(), load_default=dict)
    split_shipping_by_rate = fields.Boolean(load_default=False)
    shipping_account = fields.String(load_default="")
    fee_account = fields.String(load_default="")
    show_discounts = fields.Boolean(load_default=False)
    zero_total = fields.String(
        load_default="skip",
        validate=lambda value: (
            value in ("skip", "export") or _raise("zero_total must be 'skip' or 'export'.")
        ),
    )
    daily_summary = fields.Boolean(load_default=False)
    bookkeep = fields.Boolean(load_default=True)
    send_document = fields.Boolean(load_default=False)
    register_payment = fields.Boolean(load_default=True)
    sync_stock = fields.Boolean(load_default=False)
    manual_rates = fields.Dict(keys=fields.String(), values=Amount(), load_default=dict)

    @validates("shipping_account", "fee_account")
    def _optional_account(self, value: str, data_key: str, **kwargs: Any) -> None:
        if value:
            _validate_account(value)

    @validates("accounts")
    def _known_account_keys(self, value: Mapping[str, str], data_key: str, **kwargs: Any) -> None:
        # Imported here: the accounting rules import this module.
        from ledgerbridge.accounting.accounts import unknown_account_keys

        unknown = unknown_account_keys(value)
        if unknown:
            raise ValidationError(
                f"Unknown account key(s): {', '.join(unknown)} (see docs/accounting.md)."
            )

    @validates("default_document_type")
    def _not_credit(self, value: DocumentType, data_key: str, **kwargs: Any) -> None:
        if value in (DocumentType.CREDIT_NOTE, DocumentType.DAILY_SUMMARY):
            raise ValidationError("The default document type must be invoice or cash_sale.")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> RouteSettings:
        data["export_statuses"] = tuple(data["export_statuses"])
        return RouteSettings(**data)


def _raise(message: str) -> bool:
    raise ValidationError(message)


# Built once: a marshmallow schema costs more to build than to load a payload with.
_ROUTE_SETTINGS_SCHEMA = RouteSettingsSchema()


def load_route_settings(data: Mapping[str, Any] | None) -> RouteSettings:
    """Route settings from JSON data; raises ``ValidationError`` naming bad fields."""
    return _ROUTE_SETTINGS_SCHEMA.load(dict(data or {}))


def dump_route_settings(settings: RouteSettings) -> dict[str, Any]:
    """Route settings as JSON data."""
    return _ROUTE_SETTINGS_SCHEMA.dump(settings)
