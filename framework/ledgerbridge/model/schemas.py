"""marshmallow schemas for the canonical model.

They serialize orders and documents for queue payloads, preview output and the audit trail, and
load them back with field-level errors for anything malformed. ``load`` returns the frozen
dataclasses from :mod:`ledgerbridge.model`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load

from ledgerbridge.model.document import (
    AccountingDocument,
    CreditReference,
    DocumentRow,
    DocumentType,
    JournalLine,
    RowKind,
    VatLine,
    VatScenario,
)
from ledgerbridge.model.fields import Amount, AwareDateTime, Money, Rate, StringMap
from ledgerbridge.model.order import (
    Address,
    CouponLine,
    Customer,
    CustomerKind,
    FeeLine,
    ItemKind,
    LineTax,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundLine,
    RefundLineKind,
    ShippingLine,
    TaxRate,
)
from ledgerbridge.model.results import ExportResult, Totals

_TUPLE_FIELDS = (
    "taxes",
    "lines",
    "shipping_lines",
    "fee_lines",
    "coupon_lines",
    "tax_rates",
    "refunds",
    "rows",
    "vat",
    "journal",
    "texts",
    "warnings",
    "source_ids",
    "attachments",
)


class _ModelSchema(Schema):
    """Loads into the dataclass named by ``model``; sequences become tuples."""

    model: type

    class Meta:
        unknown = EXCLUDE

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Any:
        for name in _TUPLE_FIELDS:
            if name in data and isinstance(data[name], list):
                data[name] = tuple(data[name])
        return self.model(**data)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(load_default="", **kwargs)


class AddressSchema(_ModelSchema):
    model = Address
    first_name = _text()
    last_name = _text()
    company = _text()
    street = _text()
    street2 = _text()
    postcode = _text()
    city = _text()
    state = _text()
    country = _text()
    email = _text()
    phone = _text()


class CustomerSchema(_ModelSchema):
    model = Customer
    kind = fields.Enum(CustomerKind, by_value=True, required=True)
    name = fields.String(required=True)
    email = _text()
    billing = fields.Nested(AddressSchema, required=True)
    shipping = fields.Nested(AddressSchema, allow_none=True, load_default=None)
    vat_number = _text()
    organisation_number = _text()
    source_id = _text()


class LineTaxSchema(_ModelSchema):
    model = LineTax
    rate_id = fields.String(required=True)
    amount = Amount(required=True)
    subtotal_amount = Amount(allow_none=True, load_default=None)


class TaxRateSchema(_ModelSchema):
    model = TaxRate
    rate_id = fields.String(required=True)
    rate = Rate(required=True)
    tax_total = Money(required=True)
    shipping_tax_total = Money(required=True)
    label = _text()
    compound = fields.Boolean(load_default=False)
    country = _text()


class OrderLineSchema(_ModelSchema):
    model = OrderLine
    id = fields.String(required=True)
    name = fields.String(required=True)
    quantity = Amount(required=True)
    subtotal = Money(required=True)
    subtotal_tax = Money(required=True)
    total = Money(required=True)
    total_tax = Money(required=True)
    vat_rate = Rate(required=True)
    taxes = fields.List(fields.Nested(LineTaxSchema), load_default=list)
    sku = _text()
    product_id = _text()
    variation_id = _text()
    kind = fields.Enum(ItemKind, by_value=True, load_default=ItemKind.GOODS)
    product_deleted = fields.Boolean(load_default=False)
    meta = StringMap(load_default=dict)


class ShippingLineSchema(_ModelSchema):
    model = ShippingLine
    id = fields.String(required=True)
    method_id = _text()
    method_title = _text()
    total = Money(required=True)
    total_tax = Money(required=True)
    vat_rate = Rate(required=True)
    taxes = fields.List(fields.Nested(LineTaxSchema), load_default=list)
    instance_id = _text()
    zone = _text()
    meta = StringMap(load_default=dict)


class FeeLineSchema(_ModelSchema):
    model = FeeLine
    id = fields.String(required=True)
    name = _text()
    total = Money(required=True)
    total_tax = Money(required=True)
    vat_rate = Rate(required=True)
    taxes = fields.List(fields.Nested(LineTaxSchema), load_default=list)
    taxable = fields.Boolean(load_default=True)
    meta = StringMap(load_default=dict)


class CouponLineSchema(_ModelSchema):
    model = CouponLine
    id = fields.String(required=True)
    code = _text()
    discount = Money(required=True)
    discount_tax = Money(required=True)


class PaymentSchema(_ModelSchema):
    model = Payment
    method = _text()
    title = _text()
    transaction_id = _text()
    paid_at = AwareDateTime(allow_none=True, load_default=None)


class RefundLineSchema(_ModelSchema):
    model = RefundLine
    kind = fields.Enum(RefundLineKind, by_value=True, required=True)
    original_line_id = fields.String(required=True)
    quantity = Amount(required=True)
    total = Money(required=True)
    total_tax = Money(required=True)
    vat_rate = Rate(required=True)
    name = _text()
    sku = _text()
    taxes = fields.List(fields.Nested(LineTaxSchema), load_default=list)


class RefundSchema(_ModelSchema):
    model = Refund
    id = fields.String(required=True)
    amount = Money(required=True)
    created_at = AwareDateTime(required=True)
    lines = fields.List(fields.Nested(RefundLineSchema), load_default=list)
    reason = _text()
    refunded_payment = fields.Boolean(load_default=True)


class OrderSchema(_ModelSchema):
    """The canonical order; ``OrderSchema().load(data)`` returns an :class:`Order`."""

    model = Order
    source = fields.String(required=True)
    id = fields.String(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)
    created_at = AwareDateTime(required=True)
    modified_at = AwareDateTime(required=True)
    customer = fields.Nested(CustomerSchema, required=True)
    total = Money(required=True)
    total_tax = Money(required=True)
    prices_include_tax = fields.Boolean(load_default=True)
    paid_at = AwareDateTime(allow_none=True, load_default=None)
    completed_at = AwareDateTime(allow_none=True, load_default=None)
    payment = fields.Nested(PaymentSchema, load_default=Payment)
    lines = fields.List(fields.Nested(OrderLineSchema), load_default=list)
    shipping_lines = fields.List(fields.Nested(ShippingLineSchema), load_default=list)
    fee_lines = fields.List(fields.Nested(FeeLineSchema), load_default=list)
    coupon_lines = fields.List(fields.Nested(CouponLineSchema), load_default=list)
    tax_rates = fields.List(fields.Nested(TaxRateSchema), load_default=list)
    refunds = fields.List(fields.Nested(RefundSchema), load_default=list)
    customer_note = _text()
    meta = StringMap(load_default=dict)


class DocumentRowSchema(_ModelSchema):
    model = DocumentRow
    kind = fields.Enum(RowKind, by_value=True, required=True)
    description = fields.String(required=True)
    account = fields.String(required=True)
    quantity = Amount(required=True)
    net = Money(required=True)
    vat_rate = Rate(required=True)
    vat_amount = Money(required=True)
    item_kind = fields.Enum(ItemKind, by_value=True, load_default=ItemKind.GOODS)
    vat_account = _text()
    sku = _text()
    source_line_id = _text()


class VatLineSchema(_ModelSchema):
    model = VatLine
    rate = Rate(required=True)
    base = Money(required=True)
    amount = Money(required=True)
    account = _text()


class JournalLineSchema(_ModelSchema):
    model = JournalLine
    account = fields.String(required=True)
    debit = Money(required=True)
    credit = Money(required=True)
    description = _text()


class CreditReferenceSchema(_ModelSchema):
    model = CreditReference
    original_reference = fields.String(required=True)
    refund_id = fields.String(required=True)
    full = fields.Boolean(load_default=False)
    reason = _text()


class AccountingDocumentSchema(_ModelSchema):
    """The accounting document; ``load`` returns an :class:`AccountingDocument`."""

    model = AccountingDocument
    document_type = fields.Enum(DocumentType, by_value=True, required=True)
    scenario = fields.Enum(VatScenario, by_value=True, required=True)
    reference = fields.String(required=True)
    order_id = _text()
    order_number = _text()
    date = fields.Date(required=True)
    currency = fields.String(required=True)
    customer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)
    rows = fields.List(fields.Nested(DocumentRowSchema), required=True)
    vat = fields.List(fields.Nested(VatLineSchema), required=True)
    journal = fields.List(fields.Nested(JournalLineSchema), required=True)
    total = Money(required=True)
    sek_rate = Amount(load_default=None)
    payment_method = _text()
    payment_title = _text()
    payment_account = _text()
    receivable_account = fields.String(load_default="1510")
    country = _text()
    texts = fields.List(fields.String(), load_default=list)
    warnings = fields.List(fields.String(), load_default=list)
    credit = fields.Nested(CreditReferenceSchema, allow_none=True, load_default=None)
    source_ids = fields.List(fields.String(), load_default=list)
    meta = StringMap(load_default=dict)
    attachments = fields.List(fields.String(), load_default=list)

    @post_load
    def _default_rate(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("sek_rate") is None:
            data.pop("sek_rate", None)
        return data


class TotalsSchema(_ModelSchema):
    model = Totals
    total = Money(required=True)
    vat = Money(required=True)
    currency = fields.String(load_default="SEK")


class ExportResultSchema(_ModelSchema):
    """What a target created; stored on the binding and the export."""

    model = ExportResult
    target_id = fields.String(required=True)
    document_kind = fields.String(required=True)
    url = _text()
    totals = fields.Nested(TotalsSchema, allow_none=True, load_default=None)
    review = _text()
    details = StringMap(load_default=dict)


# Built once: a marshmallow schema costs more to build than to load a payload with.
_ORDER_SCHEMA = OrderSchema()
_ACCOUNTING_DOCUMENT_SCHEMA = AccountingDocumentSchema()
_EXPORT_RESULT_SCHEMA = ExportResultSchema()


def dump_order(order: Order) -> dict[str, Any]:
    """An order as JSON-ready data."""
    return _ORDER_SCHEMA.dump(order)


def load_order(data: dict[str, Any]) -> Order:
    """An order from JSON data; raises ``marshmallow.ValidationError`` naming bad fields."""
    return _ORDER_SCHEMA.load(data)


def dump_document(document: AccountingDocument) -> dict[str, Any]:
    """A document as JSON-ready data."""
    return _ACCOUNTING_DOCUMENT_SCHEMA.dump(document)


def load_document(data: dict[str, Any]) -> AccountingDocument:
    """A document from JSON data; raises ``marshmallow.ValidationError`` naming bad fields."""
    return _ACCOUNTING_DOCUMENT_SCHEMA.load(data)


def dump_result(result: ExportResult) -> dict[str, Any]:
    """An export result as JSON-ready data."""
    return _EXPORT_RESULT_SCHEMA.dump(result)


def load_result(data: dict[str, Any]) -> ExportResult:
    """An export result from JSON data."""
    return _EXPORT_RESULT_SCHEMA.load(data)
