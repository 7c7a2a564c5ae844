"""WooCommerce order JSON → the canonical :class:`~ledgerbridge.model.Order`.

Input: the raw order as ``GET /orders/{id}`` or an order webhook returns it. The connector's
``fetch_order`` adds two keys of its own (see :func:`normalize_order`):

* ``ledgerbridge_refunds`` (:data:`REFUNDS_KEY`): the full refund objects of
  ``GET /orders/{id}/refunds``. Without it (a webhook body, a bare REST order) the order has
  only WooCommerce's refund *summary*, which carries no lines, rates or dates: the canonical
  order then has **no refunds** and its meta says ``ledgerbridge_refunds_fetched = "no"`` and
  lists the summary ids in ``ledgerbridge_refund_ids``. The worker always refetches, so only
  previews see this.
* ``ledgerbridge_products`` (:data:`PRODUCTS_KEY`): ``{product or variation id: {"found",
  "virtual", "downloadable"}}`` from the product catalogue, for goods versus services.

Rules (reference §2.4, §7.4, §8):

* Line, shipping and fee ``total`` are net after discounts (WooCommerce stores them excluding
  tax even when prices include tax); ``total_tax`` is the per-line rounded VAT; ``taxes`` keep
  the raw 6-decimal amounts.
* ``vat_rate`` comes from the order's ``tax_lines[].rate_percent`` via the line's tax rate id.
  Stores older than WooCommerce 3.7 have no ``rate_percent``: the rate is then inferred as
  Σ raw tax / Σ net of everything taxed at that rate id, to 0.01 %.
* Goods or services: a line whose product (the variation for variable products) is
  ``virtual`` is a service; downloadable-only products still ship and stay goods. Without
  catalogue data, an order that needs no processing and has no shipping (every product
  virtual and downloadable, reference §2.4) is all services; anything else is goods.
* Refund amounts become positive (WooCommerce sends refund lines negative); each refund line
  points at the order line it refunds through ``_refunded_item_id``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from ledgerbridge.errors import DataError
from ledgerbridge.model import (
    CouponLine,
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
from ledgerbridge.money import ore
from ledgerbridge_woocommerce import customers
from ledgerbridge_woocommerce.payloads import ORDER, REFUND, validation_message

SOURCE = "woocommerce"
REFUNDS_KEY = "ledgerbridge_refunds"
PRODUCTS_KEY = "ledgerbridge_products"
RATE_PRECISION = Decimal("0.01")
HUNDRED = Decimal(100)


def normalize_order(raw: Mapping[str, Any]) -> Order:
    """The canonical order for a raw WooCommerce order (pure: no network).

    Raises :class:`~ledgerbridge.errors.DataError` naming the field for anything that cannot
    be understood (an amount that is not a number, a tax rate id missing from ``tax_lines``, a
    refund line without ``_refunded_item_id``...).
    """
    if not isinstance(raw, Mapping):
        raise DataError(f"A WooCommerce order must be a JSON object, got {type(raw).__name__}.")
    if "code" in raw and "id" not in raw:
        raise DataError(
            f"WooCommerce sent an error instead of an order ({raw.get('code')}: "
            f"{raw.get('message', '')}). Check that the webhook's user may read orders."
        )
    label = f"WooCommerce order {raw.get('id', '?')}"
    try:
        data = ORDER.load(dict(raw))
    except ValidationError as exc:
        raise DataError(validation_message(exc, label)) from exc
    label = f"WooCommerce order {data['id']}"
    rates = _tax_rates(data, label)
    rate_of = {rate.rate_id: rate for rate in rates}
    products = raw.get(PRODUCTS_KEY) or {}
    all_services = data["needs_processing"] is False and not data["shipping_lines"]
    lines = tuple(
        _order_line(item, index, rate_of, products, all_services, label)
        for index, item in enumerate(data["line_items"])
    )
    shipping = tuple(
        _shipping_line(item, index, rate_of, label)
        for index, item in enumerate(data["shipping_lines"])
    )
    fees = tuple(
        _fee_line(item, index, rate_of, label) for index, item in enumerate(data["fee_lines"])
    )
    coupons = tuple(
        CouponLine(
            id=str(item["id"]),
            code=html.unescape(item["code"]),
            discount=ore(item["discount"]),
            discount_tax=ore(item["discount_tax"]),
        )
        for item in data["coupon_lines"]
    )
    order_meta = customers.meta_values(data["meta_data"])
    customer, notes = customers.customer(
        _object(raw.get("billing")), _object(raw.get("shipping")), order_meta, data["customer_id"]
    )
    meta = _text_meta(order_meta)
    meta.update(notes)
    if data["created_via"]:
        meta["created_via"] = data["created_via"]
    if data["parent_id"]:
        meta["parent_id"] = str(data["parent_id"])
    by_id = {line.id: line for line in (*lines, *shipping, *fees)}
    detail = raw.get(REFUNDS_KEY)
    if detail is None:
        refunds: tuple[Refund, ...] = ()
        meta["ledgerbridge_refunds_fetched"] = "no"
        if data["refunds"]:
            meta["ledgerbridge_refund_ids"] = ",".join(str(r["id"]) for r in data["refunds"])
    else:
        refunds = _refunds(detail, data, rate_of, by_id, label)
        meta["ledgerbridge_refunds_fetched"] = "yes"
    return Order(
        source=SOURCE,
        id=str(data["id"]),
        number=data["number"] or str(data["id"]),
        status=data["status"],
        currency=data["currency"].upper(),
        created_at=data["date_created_gmt"],
        modified_at=data["date_modified_gmt"],
        customer=customer,
        total=ore(data["total"]),
        total_tax=ore(data["total_tax"]),
        prices_include_tax=data["prices_include_tax"],
        paid_at=data["date_paid_gmt"],
        completed_at=data["date_completed_gmt"],
        payment=Payment(
            method=data["payment_method"],
            title=html.unescape(data["payment_method_title"]),
            transaction_id=data["transaction_id"],
            paid_at=data["date_paid_gmt"],
        ),
        lines=lines,
        shipping_lines=shipping,
        fee_lines=fees,
        coupon_lines=coupons,
        tax_rates=rates,
        refunds=refunds,
        customer_note=data["customer_note"],
        meta=meta,
    )


def _object(value: Any) -> Mapping[str, Any]:
    """A JSON object, or empty for PHP's ``[]`` and other non-objects."""
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------------------------------------
# Tax rates
# ---------------------------------------------------------------------------------------------


def _taxed_lines(data: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from data["line_items"]
    yield from data["fee_lines"]
    yield from data["shipping_lines"]


def _inferred_rate(rate_id: int, data: Mapping[str, Any]) -> Decimal | None:
    tax = Decimal(0)
    net = Decimal(0)
    for line in _taxed_lines(data):
        amounts = [entry["total"] for entry in line["taxes"] if entry["id"] == rate_id]
        if amounts:
            tax += sum(amounts, Decimal(0))
            net += line["total"]
    if net == 0:
        return None if tax else Decimal(0)
    return _percent((tax / net * HUNDRED).quantize(RATE_PRECISION))


def _percent(value: Decimal) -> Decimal:
    """``25`` rather than ``25.00`` or ``2.5E+1``: adding zero resets normalize's exponent."""
    return value.normalize() + 0


def _tax_rates(data: Mapping[str, Any], label: str) -> tuple[TaxRate, ...]:
    rates: list[TaxRate] = []
    for index, line in enumerate(data["tax_lines"]):
        percent = line["rate_percent"]
        if percent is None:
            percent = _inferred_rate(line["rate_id"], data)
            if percent is None:
                raise DataError(
                    f"{label}: tax_lines.{index} has no rate_percent and no taxed net amount "
                    "to infer it from."
                )
        code = line["rate_code"]
        country = code.split("-", 1)[0] if len(code.split("-", 1)[0]) == 2 else ""
        rates.append(
            TaxRate(
                rate_id=str(line["rate_id"]),
                rate=_percent(Decimal(percent)),
                tax_total=ore(line["tax_total"]),
                shipping_tax_total=ore(line["shipping_tax_total"]),
                label=html.unescape(line["label"]),
                compound=line["compound"],
                country=country.upper(),
            )
        )
    return tuple(rates)


def _line_taxes(taxes: list[Mapping[str, Any]], sign: int = 1) -> tuple[LineTax, ...]:
    return tuple(
        LineTax(
            rate_id=str(entry["id"]),
            amount=entry["total"] * sign,
            subtotal_amount=entry["subtotal"] * sign,
        )
        for entry in taxes
    )


def _vat_rate(
    taxes: list[Mapping[str, Any]],
    net: Decimal,
    rate_of: Mapping[str, TaxRate],
    field: str,
) -> Decimal:
    """The percentage charged on one line, from the rates its taxes point at."""
    charged = [entry for entry in taxes if entry["total"] != 0 or entry["subtotal"] != 0]
    if not charged and net != 0:
        return Decimal(0)
    ids = list(dict.fromkeys(str(entry["id"]) for entry in (charged or taxes)))
    if not ids:
        return Decimal(0)
    unknown = [rate_id for rate_id in ids if rate_id not in rate_of]
    if unknown:
        raise DataError(
            f"{field}.taxes: tax rate id {unknown[0]} is not among the order's tax_lines."
        )
    chosen = [rate_of[rate_id] for rate_id in ids]
    if len(chosen) > 1 and any(rate.compound for rate in chosen):
        raise DataError(
            f"{field}.taxes: compound taxes ({', '.join(r.label for r in chosen)}) cannot be "
            "expressed as one VAT rate."
        )
    return sum((rate.rate for rate in chosen), Decimal(0))


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------


def _visible_meta(meta_data: list[Mapping[str, Any]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for entry in meta_data:
        key = entry["key"]
        if key.startswith("_"):
            continue
        value = entry.get("display_value")
        if value is None:
            value = entry.get("value")
        result[html.unescape(str(entry.get("display_key") or key))] = _as_text(value)
    return result


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return html.unescape(value)
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _text_meta(meta: Mapping[str, Any]) -> dict[str, str]:
    return {key: _as_text(value) for key, value in meta.items()}


def _item_kind(
    item: Mapping[str, Any], products: Mapping[str, Any], all_services: bool
) -> tuple[ItemKind, bool]:
    """Goods or service, and whether the product is gone from the catalogue."""
    product_key = str(item["variation_id"] or item["product_id"] or "")
    info = products.get(product_key) if product_key else None
    deleted = bool(item["product_id"]) and (
        item["sku"] is None or (isinstance(info, Mapping) and info.get("found") is False)
    )
    if isinstance(info, Mapping) and info.get("found", True):
        return (ItemKind.SERVICE if info.get("virtual") else ItemKind.GOODS), deleted
    return (ItemKind.SERVICE if all_services else ItemKind.GOODS), deleted


def _order_line(
    item: Mapping[str, Any],
    index: int,
    rate_of: Mapping[str, TaxRate],
    products: Mapping[str, Any],
    all_services: bool,
    label: str,
) -> OrderLine:
    kind, deleted = _item_kind(item, products, all_services)
    return OrderLine(
        id=str(item["id"]),
        name=html.unescape(item["name"]),
        quantity=item["quantity"],
        subtotal=ore(item["subtotal"]),
        subtotal_tax=ore(item["subtotal_tax"]),
        total=ore(item["total"]),
        total_tax=ore(item["total_tax"]),
        vat_rate=_vat_rate(item["taxes"], item["total"], rate_of, f"{label}: line_items.{index}"),
        taxes=_line_taxes(item["taxes"]),
        sku=item["sku"] or "",
        product_id=str(item["product_id"] or ""),
        variation_id=str(item["variation_id"] or ""),
        kind=kind,
        product_deleted=deleted,
        meta=_visible_meta(item["meta_data"]),
    )


def _shipping_line(
    item: Mapping[str, Any], index: int, rate_of: Mapping[str, TaxRate], label: str
) -> ShippingLine:
    return ShippingLine(
        id=str(item["id"]),
        method_id=item["method_id"],
        method_title=html.unescape(item["method_title"]),
        total=ore(item["total"]),
        total_tax=ore(item["total_tax"]),
        vat_rate=_vat_rate(
            item["taxes"], item["total"], rate_of, f"{label}: shipping_lines.{index}"
        ),
        taxes=_line_taxes(item["taxes"]),
        instance_id=item["instance_id"],
        meta=_visible_meta(item["meta_data"]),
    )


def _fee_line(
    item: Mapping[str, Any], index: int, rate_of: Mapping[str, TaxRate], label: str
) -> FeeLine:
    return FeeLine(
        id=str(item["id"]),
        name=html.unescape(item["name"]),
        total=ore(item["total"]),
        total_tax=ore(item["total_tax"]),
        vat_rate=_vat_rate(item["taxes"], item["total"], rate_of, f"{label}: fee_lines.{index}"),
        taxes=_line_taxes(item["taxes"]),
        taxable=item["tax_status"] != "none",
        meta=_visible_meta(item["meta_data"]),
    )


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------


def _refunds(
    detail: Any,
    data: Mapping[str, Any],
    rate_of: Mapping[str, TaxRate],
    by_id: Mapping[str, OrderLine | ShippingLine | FeeLine],
    label: str,
) -> tuple[Refund, ...]:
    if not isinstance(detail, list):
        raise DataError(f"{label}: {REFUNDS_KEY} must be the list of refunds.")
    refunds: list[Refund] = []
    for position, raw_refund in enumerate(detail):
        refund_label = f"{label}: refund {position}"
        try:
            refund = REFUND.load(dict(raw_refund))
        except (ValidationError, TypeError, ValueError) as exc:
            message = (
                validation_message(exc, refund_label)
                if isinstance(exc, ValidationError)
                else f"{refund_label} is not a JSON object."
            )
            raise DataError(message) from exc
        refund_label = f"{label}: refund {refund['id']}"
        merged_rates = dict(rate_of)
        for rate in _tax_rates({**refund, "shipping_lines": [], "fee_lines": []}, refund_label):
            merged_rates.setdefault(rate.rate_id, rate)
        lines = [
            line
            for kind, key in (
                (RefundLineKind.ITEM, "line_items"),
                (RefundLineKind.SHIPPING, "shipping_lines"),
                (RefundLineKind.FEE, "fee_lines"),
            )
            for index, item in enumerate(refund[key])
            if (
                line := _refund_line(
                    kind, item, merged_rates, by_id, f"{refund_label}: {key}.{index}"
                )
            )
            is not None
        ]
        refunds.append(
            Refund(
                id=str(refund["id"]),
                amount=ore(refund["amount"]),
                created_at=refund["date_created_gmt"],
                lines=tuple(lines),
                reason=refund["reason"],
                refunded_payment=refund["refunded_payment"],
            )
        )
    fetched = {refund.id for refund in refunds}
    missing = [
        str(summary["id"]) for summary in data["refunds"] if str(summary["id"]) not in fetched
    ]
    if missing:
        raise DataError(
            f"{label}: refund {missing[0]} is listed on the order but was not fetched with it; "
            "fetch the order again."
        )
    return tuple(sorted(refunds, key=lambda refund: (refund.created_at, int(refund.id))))


def _refund_line(
    kind: RefundLineKind,
    item: Mapping[str, Any],
    rate_of: Mapping[str, TaxRate],
    by_id: Mapping[str, OrderLine | ShippingLine | FeeLine],
    field: str,
) -> RefundLine | None:
    quantity = abs(item.get("quantity", Decimal(0)))
    total = -ore(item["total"])
    total_tax = -ore(item["total_tax"])
    if quantity == 0 and total == 0 and total_tax == 0:
        return None
    original_id = ""
    for entry in item["meta_data"]:
        if entry["key"] == "_refunded_item_id":
            original_id = str(entry.get("value") or "").strip()
    if not original_id:
        raise DataError(f"{field}: the refund line has no _refunded_item_id.")
    original = by_id.get(original_id)
    charged = any(entry["total"] != 0 for entry in item["taxes"])
    if charged or original is None:
        rate = _vat_rate(item["taxes"], -item["total"], rate_of, field)
    else:
        # Credit notes reuse the rate of the original sale, even when no VAT was refunded.
        rate = original.vat_rate
    name = html.unescape(item.get("name") or "") or (
        getattr(original, "name", "") or getattr(original, "method_title", "")
    )
    return RefundLine(
        kind=kind,
        original_line_id=original_id,
        quantity=quantity,
        total=total,
        total_tax=total_tax,
        vat_rate=rate,
        name=name,
        sku=item.get("sku") or "",
        taxes=_line_taxes(item["taxes"], sign=-1),
    )
