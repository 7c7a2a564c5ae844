"""Order arithmetic the way WooCommerce does it for a shop that enters prices including VAT.

Per-line rounding (``woocommerce_tax_round_at_subtotal = no``, the default): each line's tax is
computed from its gross price, kept raw with 6 decimals in ``taxes[]``, and rounded to öre for
``total_tax``; net line amounts are gross minus raw tax, rounded. The order then satisfies the
identities of reference §2.4 exactly:

* ``total = Σ line.total + Σ fee.total + shipping_total + cart_tax + shipping_tax``
* ``cart_tax = Σ tax_lines.tax_total``, ``shipping_tax = Σ tax_lines.shipping_tax_total``
* ``tax_total`` of a rate = Σ of the rounded per-line taxes at that rate
* ``discount_total = Σ (line.subtotal − line.total)``

Customers with no matching rate (outside the EU) or VAT-exempt (EU companies with a VAT
number) pay the catalogue price without the Swedish VAT, as WooCommerce's default
``woocommerce_adjust_non_base_location_prices`` does. Shipping is taxed at the standard rate
when any line is standard-rated, else at the rate of the first taxed line (WooCommerce's
"shipping tax class based on cart items").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge_woocommerce.sandbox.catalogue import (
    SEK_PER_EUR,
    Coupon,
    ProductRecord,
    ShippingMethod,
    TaxRateRow,
)

CENT = Decimal("0.01")
RAW = Decimal("0.000001")
HUNDRED = Decimal(100)


class PricingError(ValueError):
    """An order that cannot be priced (the API answers 400 with this message)."""


def money(value: Decimal) -> str:
    """A dp-formatted amount (``"90.00"``)."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def raw(value: Decimal) -> str:
    """A raw, unformatted amount as WooCommerce stores it (``"25.746429"``, ``"9.8"``, ``"0"``)."""
    text = format(value.quantize(RAW, rounding=ROUND_HALF_UP).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def round2(value: Decimal) -> Decimal:
    """Half-up to öre/cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def convert(amount_sek: Decimal, currency: str) -> Decimal:
    """A SEK catalogue amount in the order currency (the multi-currency plugin's rate)."""
    if currency == "SEK":
        return amount_sek
    if currency == "EUR":
        return round2(amount_sek / SEK_PER_EUR)
    raise PricingError(f"The sandbox shop does not sell in {currency}.")


@dataclass(frozen=True, slots=True)
class FeeRequest:
    """A fee to add: ``amount`` excludes VAT; negative amounts are discounts."""

    name: str
    amount: Decimal
    taxable: bool = True


@dataclass
class _Line:
    product: ProductRecord
    quantity: int
    gross_subtotal: Decimal
    gross_total: Decimal
    rate: TaxRateRow | None
    base_rate: Decimal


def _rate_for(
    rates: Sequence[TaxRateRow], country: str, tax_class: str, on: date
) -> TaxRateRow | None:
    return next((row for row in rates if row.applies(country, tax_class, on)), None)


def _apply_coupons(lines: list[_Line], coupons: Sequence[Coupon], currency: str) -> None:
    for coupon in coupons:
        if coupon.discount_type == "percent":
            for line in lines:
                line.gross_total = round2(line.gross_total * (HUNDRED - coupon.amount) / HUNDRED)
        elif coupon.discount_type == "fixed_cart":
            amount = convert(coupon.amount, currency)
            base = sum((line.gross_total for line in lines), Decimal(0))
            if base <= 0:
                continue
            amount = min(amount, base)
            left = amount
            for index, line in enumerate(lines):
                share = (
                    left if index == len(lines) - 1 else round2(amount * line.gross_total / base)
                )
                share = min(share, line.gross_total)
                line.gross_total -= share
                left -= share
        else:
            raise PricingError(f"Unknown coupon type {coupon.discount_type}.")


def price_order(
    *,
    items: Sequence[tuple[ProductRecord, int]],
    shipping: ShippingMethod | None,
    fees: Sequence[FeeRequest],
    coupons: Sequence[Coupon],
    country: str,
    vat_exempt: bool,
    on: date,
    currency: str,
    rates: Sequence[TaxRateRow],
    next_id: Callable[[], int],
) -> dict[str, Any]:
    """The money part of an order: line, tax, shipping, fee and coupon lines and the totals."""
    if not items:
        raise PricingError("An order needs at least one line item.")
    lines: list[_Line] = []
    for product, quantity in items:
        if quantity < 1:
            raise PricingError("Line item quantities must be at least 1.")
        gross = convert(product.price, currency) * quantity
        rate = None if vat_exempt else _rate_for(rates, country, product.tax_class, on)
        swedish = _rate_for(rates, "SE", product.tax_class, on)
        lines.append(
            _Line(product, quantity, gross, gross, rate, swedish.rate if swedish else Decimal(0))
        )
    _apply_coupons(lines, coupons, currency)

    rounded_tax: dict[int, Decimal] = {}
    rounded_shipping_tax: dict[int, Decimal] = {}
    used_rates: dict[int, TaxRateRow] = {}
    line_items: list[dict[str, Any]] = []
    for line in lines:
        if line.rate is not None:
            rate = line.rate.rate
            tax_sub = (line.gross_subtotal * rate / (HUNDRED + rate)).quantize(RAW)
            tax_tot = (line.gross_total * rate / (HUNDRED + rate)).quantize(RAW)
        else:
            tax_sub = tax_tot = Decimal(0)
        if line.rate is None and line.base_rate:
            # No VAT for this buyer: the price without the Swedish VAT.
            factor = HUNDRED / (HUNDRED + line.base_rate)
            net_sub = (line.gross_subtotal * factor).quantize(RAW)
            net_tot = (line.gross_total * factor).quantize(RAW)
        else:
            net_sub = line.gross_subtotal - tax_sub
            net_tot = line.gross_total - tax_tot
        taxes = []
        if line.rate is not None:
            used_rates[line.rate.id] = line.rate
            rounded_tax[line.rate.id] = rounded_tax.get(line.rate.id, Decimal(0)) + round2(tax_tot)
            taxes.append({"id": line.rate.id, "total": raw(tax_tot), "subtotal": raw(tax_sub)})
        total = round2(net_tot)
        line_items.append(
            {
                "id": next_id(),
                "name": line.product.name,
                "product_id": line.product.parent_id or line.product.id,
                "variation_id": line.product.id if line.product.parent_id else 0,
                "quantity": line.quantity,
                "tax_class": line.product.tax_class,
                "subtotal": money(net_sub),
                "subtotal_tax": money(tax_sub),
                "total": money(total),
                "total_tax": money(tax_tot),
                "taxes": taxes,
                "meta_data": [],
                "price": float(net_tot / line.quantity),
            }
        )

    shipping_lines: list[dict[str, Any]] = []
    if shipping is not None:
        cost = convert(shipping.cost, currency)
        taxed = [line for line in lines if line.rate is not None and line.rate.rate > 0]
        standard = next((line.rate for line in taxed if line.rate.tax_class == ""), None)
        rate_row = standard or (taxed[0].rate if taxed else None)
        taxes = []
        tax = Decimal(0)
        if rate_row is not None and cost:
            tax = (cost * rate_row.rate / HUNDRED).quantize(RAW)
            used_rates[rate_row.id] = rate_row
            rounded_shipping_tax[rate_row.id] = rounded_shipping_tax.get(
                rate_row.id, Decimal(0)
            ) + round2(tax)
            taxes.append({"id": rate_row.id, "total": raw(tax), "subtotal": ""})
        items_text = ", ".join(f"{line.product.name} &times; {line.quantity}" for line in lines)
        shipping_lines.append(
            {
                "id": next_id(),
                "method_title": shipping.title,
                "method_id": shipping.method_id,
                "instance_id": shipping.instance_id,
                "total": money(cost),
                "total_tax": money(tax),
                "taxes": taxes,
                "meta_data": [
                    {
                        "id": next_id(),
                        "key": "Items",
                        "value": items_text,
                        "display_key": "Items",
                        "display_value": items_text,
                    }
                ],
            }
        )

    fee_lines: list[dict[str, Any]] = []
    for fee in fees:
        rate_row = None if vat_exempt or not fee.taxable else _rate_for(rates, country, "", on)
        taxes = []
        tax = Decimal(0)
        if rate_row is not None:
            tax = (fee.amount * rate_row.rate / HUNDRED).quantize(RAW)
            used_rates[rate_row.id] = rate_row
            rounded_tax[rate_row.id] = rounded_tax.get(rate_row.id, Decimal(0)) + round2(tax)
            taxes.append({"id": rate_row.id, "total": raw(tax), "subtotal": ""})
        fee_lines.append(
            {
                "id": next_id(),
                "name": fee.name,
                "tax_class": "",
                "tax_status": "taxable" if fee.taxable else "none",
                "amount": raw(fee.amount),
                "total": money(fee.amount),
                "total_tax": money(tax),
                "taxes": taxes,
                "meta_data": [],
            }
        )

    discount_total = sum(
        (Decimal(item["subtotal"]) - Decimal(item["total"]) for item in line_items), Decimal(0)
    )
    discount_tax = sum(
        (Decimal(item["subtotal_tax"]) - Decimal(item["total_tax"]) for item in line_items),
        Decimal(0),
    )
    coupon_lines = []
    for index, coupon in enumerate(coupons):
        share = Decimal(1) if index == 0 else Decimal(0)  # the first coupon carries the sums
        coupon_info = f'[{coupon.id},"{coupon.code}","{coupon.discount_type}",{coupon.amount}]'
        coupon_lines.append(
            {
                "id": next_id(),
                "code": coupon.code,
                "discount": raw(discount_total * share),
                "discount_tax": raw(discount_tax * share),
                "meta_data": [
                    {
                        "id": next_id(),
                        "key": "coupon_info",
                        "value": coupon_info,
                        "display_key": "coupon_info",
                        "display_value": coupon_info,
                    }
                ],
                "discount_type": coupon.discount_type,
                "nominal_amount": float(coupon.amount),
                "free_shipping": False,
            }
        )

    tax_lines = []
    for rate_id in sorted(used_rates):
        row = used_rates[rate_id]
        tax_lines.append(
            {
                "id": next_id(),
                "rate_code": f"{row.country}-{row.name.upper()}-1",
                "rate_id": row.id,
                "label": row.name,
                "compound": False,
                "tax_total": money(rounded_tax.get(rate_id, Decimal(0))),
                "shipping_tax_total": money(rounded_shipping_tax.get(rate_id, Decimal(0))),
                "rate_percent": int(row.rate)
                if row.rate == row.rate.to_integral()
                else float(row.rate),
                "meta_data": [],
            }
        )

    cart_tax = sum(rounded_tax.values(), Decimal(0))
    shipping_tax = sum(rounded_shipping_tax.values(), Decimal(0))
    shipping_total = sum((Decimal(line["total"]) for line in shipping_lines), Decimal(0))
    items_total = sum((Decimal(item["total"]) for item in line_items), Decimal(0))
    fees_total = sum((Decimal(fee["total"]) for fee in fee_lines), Decimal(0))
    total = items_total + fees_total + shipping_total + cart_tax + shipping_tax
    if total < 0:
        raise PricingError("The order total would be negative.")
    return {
        "discount_total": money(discount_total),
        "discount_tax": money(discount_tax),
        "shipping_total": money(shipping_total),
        "shipping_tax": money(shipping_tax),
        "cart_tax": money(cart_tax),
        "total": money(total),
        "total_tax": money(cart_tax + shipping_tax),
        "line_items": line_items,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "coupon_lines": coupon_lines,
    }
