"""marshmallow schemas for WooCommerce's raw REST v3 payloads (orders, refunds, products, webhooks).

Tolerant where WooCommerce varies between versions (unknown keys are ignored, optional keys get
defaults, ``sku`` may be null, ``taxes[].total`` may be ``""``), strict where money and time are
concerned: amounts must be decimal strings (or integers) and become ``Decimal``; a JSON float is
refused because it has already lost precision; ``*_gmt`` dates must be WooCommerce's naive
``YYYY-MM-DDTHH:MM:SS`` and become aware UTC datetimes.

The JSON-number fields WooCommerce sends (line ``price``, coupon ``nominal_amount``) are never
used for accounting and are therefore not loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from ledgerbridge.money import MoneyError, to_decimal

GMT_FORMAT = "%Y-%m-%dT%H:%M:%S"


class WooAmount(fields.Field):
    """A WooCommerce amount string → ``Decimal``.

    ``blank_as_zero`` accepts ``""`` (and null) as zero, as WooCommerce sends for raw taxes and
    for shipping rates that did not apply.
    """

    default_error_messages = {"invalid": "Not a valid amount: {detail}"}

    def __init__(self, *, blank_as_zero: bool = False, **kwargs: Any) -> None:
        if blank_as_zero:
            kwargs.setdefault("allow_none", True)
            kwargs.setdefault("load_default", Decimal("0"))
        super().__init__(**kwargs)
        self.blank_as_zero = blank_as_zero

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        if self.blank_as_zero and (value is None or (isinstance(value, str) and not value.strip())):
            return Decimal("0")
        if type(value) is str and not self.validators:
            # The common case, without marshmallow's generic checks (a present, non-null
            # value without validators): an order has dozens of amounts.
            return self._deserialize(value, attr, data)
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, float):
            raise self.make_error(
                "invalid", detail=f"{value!r} is a JSON number; WooCommerce sends amounts as text"
            )
        try:
            return to_decimal(value, field=attr or "amount")
        except MoneyError as exc:
            raise self.make_error("invalid", detail=str(exc)) from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(value, "f")


class GmtDateTime(fields.Field):
    """A WooCommerce ``*_gmt`` timestamp (naive, UTC) → aware UTC datetime.

    An explicit ``Z`` or ``+00:00`` is accepted too (some plugins add it); any other offset is
    converted to UTC.
    """

    default_error_messages = {"invalid": "Not a WooCommerce GMT date: {value!r}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not value.strip():
            raise self.make_error("invalid", value=value)
        text = value.strip()
        try:
            if len(text) == 19 and text[10] == "T" and text[:4].isdigit():
                # fromisoformat is many times faster than strptime for this exact form.
                return datetime.fromisoformat(text).replace(tzinfo=UTC)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.make_error("invalid", value=value) from exc
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.astimezone(UTC).strftime(GMT_FORMAT)


class LenientString(fields.String):
    """A string that also takes null (→ ``""``) and numbers (→ their text), as older stores send."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        if value is None:
            return ""
        if type(value) is str and not self.validators:
            return value  # what String would return, without its generic checks
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return super().deserialize(value, attr, data, **kwargs)


def _text() -> LenientString:
    return LenientString(load_default="")


class _Tolerant(Schema):
    """Ignores keys it does not know: WooCommerce and its plugins add fields all the time."""

    class Meta:
        unknown = EXCLUDE


class MetaDataSchema(_Tolerant):
    """One ``meta_data`` entry; ``value`` may be any JSON value."""

    id = fields.Raw(load_default=None)
    key = LenientString(required=True)
    value = fields.Raw(load_default=None, allow_none=True)
    display_key = LenientString(load_default=None, allow_none=True)
    display_value = fields.Raw(load_default=None, allow_none=True)


def _meta() -> fields.List:
    return fields.List(fields.Nested(MetaDataSchema), load_default=list)


class AddressSchema(_Tolerant):
    """Billing or shipping address (``email`` only on billing, ``phone`` on shipping since 5.6)."""

    first_name = _text()
    last_name = _text()
    company = _text()
    address_1 = _text()
    address_2 = _text()
    city = _text()
    state = _text()
    postcode = _text()
    country = _text()
    email = _text()
    phone = _text()


class TaxSchema(_Tolerant):
    """One raw (unrounded) tax amount of a line, per rate id."""

    id = fields.Integer(required=True, strict=False)
    total = WooAmount(blank_as_zero=True)
    subtotal = WooAmount(blank_as_zero=True)


class LineItemSchema(_Tolerant):
    """A product line of an order or a refund (refund lines are negative)."""

    id = fields.Integer(required=True)
    name = _text()
    product_id = fields.Integer(load_default=0, allow_none=True)
    variation_id = fields.Integer(load_default=0, allow_none=True)
    quantity = WooAmount(required=True)
    tax_class = _text()
    subtotal = WooAmount(required=True)
    subtotal_tax = WooAmount(blank_as_zero=True)
    total = WooAmount(required=True)
    total_tax = WooAmount(blank_as_zero=True)
    taxes = fields.List(fields.Nested(TaxSchema), load_default=list)
    meta_data = _meta()
    sku = fields.String(load_default=None, allow_none=True)
    parent_name = fields.String(load_default=None, allow_none=True)


class TaxLineSchema(_Tolerant):
    """One tax rate used on the order, with what it collected on items+fees and on shipping."""

    id = fields.Integer(load_default=0)
    rate_code = _text()
    rate_id = fields.Integer(required=True, strict=False)
    label = _text()
    compound = fields.Boolean(load_default=False)
    tax_total = WooAmount(blank_as_zero=True)
    shipping_tax_total = WooAmount(blank_as_zero=True)
    rate_percent = WooAmount(load_default=None, allow_none=True)

    @pre_load
    def _rate_percent_as_text(self, data: Any, **kwargs: Any) -> Any:
        # rate_percent is a JSON number (25, 12, 4.5): exact in decimal text, so read its repr.
        if isinstance(data, dict) and isinstance(data.get("rate_percent"), float):
            data = {**data, "rate_percent": repr(data["rate_percent"])}
        return data


class ShippingLineSchema(_Tolerant):
    """A shipping line (``total`` may be ``""`` when the rate did not apply)."""

    id = fields.Integer(required=True)
    method_title = _text()
    method_id = _text()
    instance_id = _text()
    total = WooAmount(blank_as_zero=True)
    total_tax = WooAmount(blank_as_zero=True)
    taxes = fields.List(fields.Nested(TaxSchema), load_default=list)
    meta_data = _meta()


class FeeLineSchema(_Tolerant):
    """A fee line; negative fees are discounts."""

    id = fields.Integer(required=True)
    name = _text()
    tax_class = _text()
    tax_status = LenientString(load_default="taxable")
    amount = WooAmount(blank_as_zero=True)
    total = WooAmount(required=True)
    total_tax = WooAmount(blank_as_zero=True)
    taxes = fields.List(fields.Nested(TaxSchema), load_default=list)
    meta_data = _meta()


class CouponLineSchema(_Tolerant):
    """A coupon used on the order (``discount`` is raw and excludes tax)."""

    id = fields.Integer(required=True)
    code = _text()
    discount = WooAmount(blank_as_zero=True)
    discount_tax = WooAmount(blank_as_zero=True)
    discount_type = _text()
    meta_data = _meta()


class RefundSummarySchema(_Tolerant):
    """The refund summary inside an order (``total`` negative; old docs say ``refund``)."""

    id = fields.Integer(required=True)
    reason = _text()
    total = WooAmount(required=True)

    @pre_load
    def _old_reason_key(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "reason" not in data and "refund" in data:
            data = {**data, "reason": data["refund"]}
        return data


class OrderSchema(_Tolerant):
    """A WooCommerce order as ``GET /orders/{id}`` and the order webhooks deliver it."""

    id = fields.Integer(required=True)
    parent_id = fields.Integer(load_default=0)
    number = _text()
    status = fields.String(required=True)
    currency = fields.String(required=True)
    version = _text()
    prices_include_tax = fields.Boolean(load_default=False)
    date_created_gmt = GmtDateTime(required=True)
    date_modified_gmt = GmtDateTime(required=True)
    date_paid_gmt = GmtDateTime(load_default=None, allow_none=True)
    date_completed_gmt = GmtDateTime(load_default=None, allow_none=True)
    discount_total = WooAmount(blank_as_zero=True)
    discount_tax = WooAmount(blank_as_zero=True)
    shipping_total = WooAmount(blank_as_zero=True)
    shipping_tax = WooAmount(blank_as_zero=True)
    cart_tax = WooAmount(blank_as_zero=True)
    total = WooAmount(required=True)
    total_tax = WooAmount(blank_as_zero=True)
    customer_id = fields.Integer(load_default=0)
    billing = fields.Nested(AddressSchema, load_default=dict)
    shipping = fields.Nested(AddressSchema, load_default=dict)
    payment_method = _text()
    payment_method_title = _text()
    transaction_id = _text()
    created_via = _text()
    customer_note = _text()
    needs_processing = fields.Boolean(load_default=None, allow_none=True)
    meta_data = _meta()
    line_items = fields.List(fields.Nested(LineItemSchema), load_default=list)
    tax_lines = fields.List(fields.Nested(TaxLineSchema), load_default=list)
    shipping_lines = fields.List(fields.Nested(ShippingLineSchema), load_default=list)
    fee_lines = fields.List(fields.Nested(FeeLineSchema), load_default=list)
    coupon_lines = fields.List(fields.Nested(CouponLineSchema), load_default=list)
    refunds = fields.List(fields.Nested(RefundSummarySchema), load_default=list)

    @pre_load
    def _null_addresses(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            fixes = {key: {} for key in ("billing", "shipping") if data.get(key) in (None, [])}
            if fixes:
                data = {**data, **fixes}
        return data


class RefundSchema(_Tolerant):
    """A refund (``GET /orders/{id}/refunds``): ``amount`` positive, line values negative."""

    id = fields.Integer(required=True)
    parent_id = fields.Integer(load_default=None, allow_none=True)
    date_created_gmt = GmtDateTime(required=True)
    amount = WooAmount(required=True)
    reason = _text()
    refunded_by = fields.Integer(load_default=0, allow_none=True)
    refunded_payment = fields.Boolean(load_default=False)
    meta_data = _meta()
    line_items = fields.List(fields.Nested(LineItemSchema), load_default=list)
    shipping_lines = fields.List(fields.Nested(ShippingLineSchema), load_default=list)
    fee_lines = fields.List(fields.Nested(FeeLineSchema), load_default=list)
    tax_lines = fields.List(fields.Nested(TaxLineSchema), load_default=list)


class ProductSchema(_Tolerant):
    """A product or variation: what goods/services classification and stock need."""

    id = fields.Integer(required=True)
    parent_id = fields.Integer(load_default=0)
    name = _text()
    type = LenientString(load_default="variation")
    status = _text()
    sku = LenientString(load_default="")
    price = WooAmount(blank_as_zero=True)
    regular_price = WooAmount(blank_as_zero=True)
    virtual = fields.Boolean(load_default=False)
    downloadable = fields.Boolean(load_default=False)
    tax_status = LenientString(load_default="taxable")
    tax_class = _text()
    manage_stock = fields.Raw(load_default=False)
    stock_quantity = fields.Raw(load_default=None, allow_none=True)
    weight = _text()
    variations = fields.List(fields.Integer(), load_default=list)
    date_modified_gmt = GmtDateTime(load_default=None, allow_none=True)
    meta_data = _meta()


class WebhookSchema(_Tolerant):
    """A webhook resource (``GET /webhooks``): the secret is never returned."""

    id = fields.Integer(required=True)
    name = _text()
    status = fields.String(required=True)
    topic = fields.String(required=True)
    delivery_url = _text()


class OrderSummarySchema(_Tolerant):
    """The cheap listing form (``_fields=id,number,status,date_modified_gmt``)."""

    id = fields.Integer(required=True)
    number = _text()
    status = fields.String(required=True)
    date_modified_gmt = GmtDateTime(required=True)


def validation_message(error: ValidationError, what: str) -> str:
    """A one-line message naming every bad field (``line_items.0.total: Not a valid amount``)."""
    parts: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and node and all(isinstance(item, str) for item in node):
            parts.append(f"{path}: {' '.join(node)}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}.{index}" if path else str(index))
        else:
            parts.append(f"{path}: {node}")

    walk(error.messages, "")
    return f"{what} has fields ledgerbridge cannot read: " + "; ".join(parts[:8])


ORDER = OrderSchema()
REFUND = RefundSchema()
PRODUCT = ProductSchema()
WEBHOOK = WebhookSchema()
ORDER_SUMMARY = OrderSummarySchema()
