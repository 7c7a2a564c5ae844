"""The canonical Order: what every source connector normalizes to.

Conventions (the accounting rules rely on them):

* Money is ``Decimal``. Amounts are rounded to öre/cent (two decimals) except ``LineTax.amount``,
  which keeps the shop's raw precision (WooCommerce stores 6 decimals) for diagnostics.
* ``total`` fields of lines are **net** (excluding VAT) after discounts; ``total_tax`` is the
  VAT of that line as the shop charged it. ``subtotal``/``subtotal_tax`` are before discounts.
* ``vat_rate`` is a percentage (``Decimal("25")``) taken from the shop's own tax lines.
* Refund amounts are **positive** numbers: what is credited.
* Datetimes are time-zone aware (UTC unless the source says otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from ledgerbridge.money import ZERO, money_sum


class _Replaceable:
    """Mixin giving frozen dataclasses a ``replace(**changes)`` method for hook authors."""

    __slots__ = ()

    def replace(self, **changes: Any) -> Self:
        """A copy of this object with ``changes`` applied (the object itself never changes)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


class CustomerKind(StrEnum):
    """Whether the buyer is a private person or a company."""

    PRIVATE = "private"
    COMPANY = "company"


class ItemKind(StrEnum):
    """Goods or services: decides place of supply, VAT scenario and revenue account."""

    GOODS = "goods"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Address(_Replaceable):
    """A postal address; ``country`` is an ISO 3166-1 alpha-2 code in upper case."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street: str = ""
    street2: str = ""
    postcode: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""

    @property
    def person_name(self) -> str:
        """First and last name joined, or empty."""
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()


@dataclass(frozen=True, slots=True)
class Customer(_Replaceable):
    """The buyer: a private person or a company, with its tax identifiers."""

    kind: CustomerKind
    name: str
    email: str = ""
    billing: Address = field(default_factory=Address)
    shipping: Address | None = None
    vat_number: str = ""
    organisation_number: str = ""
    source_id: str = ""

    @property
    def country(self) -> str:
        """The billing country (ISO alpha-2)."""
        return self.billing.country

    @property
    def is_company(self) -> bool:
        """True for a company buyer."""
        return self.kind is CustomerKind.COMPANY


@dataclass(frozen=True, slots=True)
class TaxRate(_Replaceable):
    """One VAT rate the shop charged on this order, with the VAT it collected at that rate."""

    rate_id: str
    rate: Decimal
    tax_total: Decimal
    shipping_tax_total: Decimal = ZERO
    label: str = ""
    compound: bool = False
    country: str = ""

    @property
    def amount(self) -> Decimal:
        """All VAT collected at this rate (items, fees and shipping)."""
        return self.tax_total + self.shipping_tax_total


@dataclass(frozen=True, slots=True)
class LineTax(_Replaceable):
    """The VAT of one line at one rate, as the shop stored it (raw precision kept)."""

    rate_id: str
    amount: Decimal
    subtotal_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderLine(_Replaceable):
    """A product line. ``total`` is net after discounts; ``total_tax`` its VAT."""

    id: str
    name: str
    quantity: Decimal
    subtotal: Decimal
    subtotal_tax: Decimal
    total: Decimal
    total_tax: Decimal
    vat_rate: Decimal
    taxes: tuple[LineTax, ...] = ()
    sku: str = ""
    product_id: str = ""
    variation_id: str = ""
    kind: ItemKind = ItemKind.GOODS
    product_deleted: bool = False
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def gross(self) -> Decimal:
        """What the customer paid for this line, VAT included."""
        return self.total + self.total_tax

    @property
    def discount(self) -> Decimal:
        """Net discount given on this line (subtotal minus total)."""
        return self.subtotal - self.total


@dataclass(frozen=True, slots=True)
class ShippingLine(_Replaceable):
    """A shipping charge (net ``total`` and its VAT)."""

    id: str
    method_id: str
    method_title: str
    total: Decimal
    total_tax: Decimal
    vat_rate: Decimal
    taxes: tuple[LineTax, ...] = ()
    instance_id: str = ""
    zone: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def gross(self) -> Decimal:
        """Shipping paid, VAT included."""
        return self.total + self.total_tax


@dataclass(frozen=True, slots=True)
class FeeLine(_Replaceable):
    """A fee (invoice fee, handling); a negative fee is a discount."""

    id: str
    name: str
    total: Decimal
    total_tax: Decimal
    vat_rate: Decimal
    taxes: tuple[LineTax, ...] = ()
    taxable: bool = True
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def gross(self) -> Decimal:
        """Fee paid, VAT included (negative for a discount fee)."""
        return self.total + self.total_tax


@dataclass(frozen=True, slots=True)
class CouponLine(_Replaceable):
    """A coupon used on the order; its discount is already inside the line totals."""

    id: str
    code: str
    discount: Decimal
    discount_tax: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Payment(_Replaceable):
    """How the order was paid."""

    method: str = ""
    title: str = ""
    transaction_id: str = ""
    paid_at: datetime | None = None


class RefundLineKind(StrEnum):
    """What a refund line gives back."""

    ITEM = "item"
    SHIPPING = "shipping"
    FEE = "fee"


@dataclass(frozen=True, slots=True)
class RefundLine(_Replaceable):
    """Part of a refund tied to one line of the original order. Amounts are positive."""

    kind: RefundLineKind
    original_line_id: str
    quantity: Decimal
    total: Decimal
    total_tax: Decimal
    vat_rate: Decimal
    name: str = ""
    sku: str = ""
    taxes: tuple[LineTax, ...] = ()

    @property
    def gross(self) -> Decimal:
        """Refunded gross for this line."""
        return self.total + self.total_tax


@dataclass(frozen=True, slots=True)
class Refund(_Replaceable):
    """A refund of an order. ``amount`` is the gross amount given back (positive)."""

    id: str
    amount: Decimal
    created_at: datetime
    lines: tuple[RefundLine, ...] = ()
    reason: str = ""
    refunded_payment: bool = True

    @property
    def lines_gross(self) -> Decimal:
        """Gross of the itemised refund lines."""
        return money_sum(line.gross for line in self.lines)

    @property
    def unallocated(self) -> Decimal:
        """The part of ``amount`` not tied to any line (an amount-only refund)."""
        return self.amount - self.lines_gross


@dataclass(frozen=True, slots=True)
class Order(_Replaceable):
    """A shop order in canonical form, as every source connector delivers it."""

    source: str
    id: str
    number: str
    status: str
    currency: str
    created_at: datetime
    modified_at: datetime
    customer: Customer
    total: Decimal
    total_tax: Decimal
    prices_include_tax: bool = True
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    payment: Payment = field(default_factory=Payment)
    lines: tuple[OrderLine, ...] = ()
    shipping_lines: tuple[ShippingLine, ...] = ()
    fee_lines: tuple[FeeLine, ...] = ()
    coupon_lines: tuple[CouponLine, ...] = ()
    tax_rates: tuple[TaxRate, ...] = ()
    refunds: tuple[Refund, ...] = ()
    customer_note: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def destination_country(self) -> str:
        """Where the goods go: the shipping country, else the billing country."""
        shipping = self.customer.shipping
        if shipping is not None and shipping.country:
            return shipping.country
        return self.customer.country

    @property
    def shipping_total(self) -> Decimal:
        """Net shipping."""
        return money_sum(line.total for line in self.shipping_lines)

    @property
    def is_zero_total(self) -> bool:
        """True when nothing was charged."""
        return self.total == 0

    @property
    def refunded_total(self) -> Decimal:
        """Gross amount refunded so far."""
        return money_sum(refund.amount for refund in self.refunds)

    def line(self, line_id: str) -> OrderLine | ShippingLine | FeeLine | None:
        """The item, shipping or fee line with this id, or None."""
        for candidate in (*self.lines, *self.shipping_lines, *self.fee_lines):
            if candidate.id == line_id:
                return candidate
        return None

    def refund(self, refund_id: str) -> Refund | None:
        """The refund with this id, or None."""
        return next((refund for refund in self.refunds if refund.id == refund_id), None)
