"""Resources as WooCommerce serializes them: key order, date formats, ``_links`` and PHP JSON.

``php_json`` encodes like ``wp_json_encode`` with default flags: compact, ``/`` escaped as
``\\/``, non-ASCII as ``\\uXXXX``, floats in shortest form (reference §5.2, appendix A.4).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge_woocommerce.sandbox.catalogue import ProductRecord
from ledgerbridge_woocommerce.sandbox.pricing import raw
from ledgerbridge_woocommerce.sandbox.state import (
    SITE_TZ,
    OrderRecord,
    Shop,
    WebhookRecord,
)

CURRENCY_SYMBOLS = {"SEK": "kr", "EUR": "€", "USD": "$", "NOK": "kr"}


def php_json(value: Any) -> str:
    """JSON text as WordPress sends it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def local(moment: datetime | None) -> str | None:
    """Site-local time, no offset (``date_*``)."""
    return None if moment is None else moment.astimezone(SITE_TZ).strftime("%Y-%m-%dT%H:%M:%S")


def gmt(moment: datetime | None) -> str | None:
    """UTC, no ``Z`` (``date_*_gmt``)."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S")


def _links(base: str, path: str, **extra: str) -> dict[str, list[dict[str, str]]]:
    collection = path.rsplit("/", 1)[0]
    links = {
        "self": [{"href": f"{base}/wp-json/wc/v3/{path}"}],
        "collection": [{"href": f"{base}/wp-json/wc/v3/{collection}"}],
    }
    for name, target in extra.items():
        links[name] = [{"href": f"{base}/wp-json/wc/v3/{target}"}]
    return links


def _line_item(shop: Shop, item: dict[str, Any], base: str) -> dict[str, Any]:
    wanted = item["variation_id"] or item["product_id"]
    product = shop.products.get(wanted)
    parent = shop.products.get(item["product_id"]) if item["variation_id"] else None
    ordered = {key: item[key] for key in _LINE_ITEM_KEYS if key in item}
    ordered["sku"] = product.sku if product is not None else None
    ordered["price"] = item.get("price", 0)
    ordered["image"] = {"id": "", "src": ""} if product is not None else {"id": 0, "src": ""}
    ordered["parent_name"] = parent.name if parent is not None else None
    return ordered


_LINE_ITEM_KEYS = (
    "id",
    "name",
    "product_id",
    "variation_id",
    "quantity",
    "tax_class",
    "subtotal",
    "subtotal_tax",
    "total",
    "total_tax",
    "taxes",
    "meta_data",
)
_HEAD_KEYS = (
    "id",
    "parent_id",
    "status",
    "currency",
    "version",
    "prices_include_tax",
)
_MONEY_KEYS = (
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total",
    "total_tax",
    "customer_id",
    "order_key",
    "billing",
    "shipping",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "customer_ip_address",
    "customer_user_agent",
    "created_via",
    "customer_note",
)


def _needs_processing(shop: Shop, record: OrderRecord) -> bool:
    for item in record.data["line_items"]:
        product = shop.products.get(item["variation_id"] or item["product_id"])
        if product is not None and not (product.virtual and product.downloadable):
            return True
    return False


def order(shop: Shop, record: OrderRecord, base: str) -> dict[str, Any]:
    """``GET /orders/{id}``: every field in WooCommerce's order (reference §2.4)."""
    data = record.data
    body: dict[str, Any] = {key: data[key] for key in _HEAD_KEYS}
    body["date_created"] = local(record.created)
    body["date_modified"] = local(record.modified)
    body.update({key: data[key] for key in _MONEY_KEYS})
    body["date_completed"] = local(record.completed)
    body["date_paid"] = local(record.paid)
    body["cart_hash"] = data["cart_hash"]
    body["number"] = data["number"]
    body["meta_data"] = data["meta_data"]
    body["line_items"] = [_line_item(shop, item, base) for item in data["line_items"]]
    body["tax_lines"] = data["tax_lines"]
    body["shipping_lines"] = data["shipping_lines"]
    body["fee_lines"] = data["fee_lines"]
    body["coupon_lines"] = data["coupon_lines"]
    body["refunds"] = [
        {"id": refund["id"], "reason": refund["reason"], "total": f"-{refund['amount']}"}
        for refund in record.refunds
    ]
    body["payment_url"] = (
        f"{base}/checkout/order-pay/{data['id']}/?pay_for_order=true&key={data['order_key']}"
    )
    body["is_editable"] = data["status"] in ("pending", "on-hold", "auto-draft")
    body["needs_payment"] = data["status"] in ("pending", "failed") and Decimal(data["total"]) > 0
    body["needs_processing"] = _needs_processing(shop, record)
    body["date_created_gmt"] = gmt(record.created)
    body["date_modified_gmt"] = gmt(record.modified)
    body["date_completed_gmt"] = gmt(record.completed)
    body["date_paid_gmt"] = gmt(record.paid)
    body["currency_symbol"] = CURRENCY_SYMBOLS.get(data["currency"], data["currency"])
    extra = {"customer": f"customers/{data['customer_id']}"} if data["customer_id"] else {}
    body["_links"] = _links(base, f"orders/{data['id']}", **extra)
    return body


def refund(refund_data: dict[str, Any], order_id: int, base: str, *, with_parent: bool = False):
    """``GET /orders/{id}/refunds/{refund_id}`` (``parent_id`` only on ``/refunds``)."""
    body: dict[str, Any] = {"id": refund_data["id"]}
    if with_parent:
        body["parent_id"] = order_id
    body.update(
        date_created=local(refund_data["created"]),
        date_created_gmt=gmt(refund_data["created"]),
        amount=refund_data["amount"],
        reason=refund_data["reason"],
        refunded_by=refund_data["refunded_by"],
        refunded_payment=refund_data["refunded_payment"],
        meta_data=refund_data["meta_data"],
        line_items=refund_data["line_items"],
        shipping_lines=refund_data["shipping_lines"],
        tax_lines=refund_data["tax_lines"],
        fee_lines=refund_data["fee_lines"],
    )
    body["_links"] = _links(
        base, f"orders/{order_id}/refunds/{refund_data['id']}", up=f"orders/{order_id}"
    )
    return body


def note(entry: dict[str, Any], order_id: int, base: str) -> dict[str, Any]:
    """``GET /orders/{id}/notes/{note_id}``."""
    return {
        "id": entry["id"],
        "author": entry["author"],
        "date_created": local(entry["created"]),
        "date_created_gmt": gmt(entry["created"]),
        "note": entry["note"],
        "customer_note": entry["customer_note"],
        "_links": _links(base, f"orders/{order_id}/notes/{entry['id']}", up=f"orders/{order_id}"),
    }


def product(record: ProductRecord, base: str) -> dict[str, Any]:
    """``GET /products/{id}`` or a variation (the fields ledgerbridge and most clients use)."""
    path = (
        f"products/{record.parent_id}/variations/{record.id}"
        if record.parent_id
        else f"products/{record.id}"
    )
    stock_status = (
        "instock" if not record.manage_stock or (record.stock_quantity or 0) > 0 else "outofstock"
    )
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "slug": record.sku.lower(),
        "type": record.type,
        "status": record.status,
        "sku": record.sku,
        "price": raw(record.price),
        "regular_price": raw(record.price),
        "sale_price": "",
        "tax_status": "taxable",
        "tax_class": record.tax_class,
        "manage_stock": record.manage_stock,
        "stock_quantity": record.stock_quantity if record.manage_stock else None,
        "stock_status": stock_status,
        "virtual": record.virtual,
        "downloadable": record.downloadable,
        "weight": record.weight,
        "parent_id": record.parent_id,
        "variations": list(record.variations),
        "attributes": record.attributes,
        "meta_data": [],
        "_links": _links(base, path),
    }
    if record.parent_id:
        body.pop("variations")
        body.pop("type")
    return body


def customer(data: dict[str, Any], base: str) -> dict[str, Any]:
    """``GET /customers/{id}``."""
    return {
        "id": data["id"],
        "date_created": local(data["created"]),
        "date_created_gmt": gmt(data["created"]),
        "date_modified": local(data["modified"]),
        "date_modified_gmt": gmt(data["modified"]),
        "email": data["email"],
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "role": "customer",
        "username": data["username"],
        "billing": data["billing"],
        "shipping": data["shipping"],
        "is_paying_customer": True,
        "avatar_url": "",
        "meta_data": [],
        "_links": _links(base, f"customers/{data['id']}"),
    }


def webhook(record: WebhookRecord, base: str) -> dict[str, Any]:
    """``GET /webhooks/{id}``: no secret, no failure count (as WooCommerce)."""
    resource, _, event = record.topic.partition(".")
    return {
        "id": record.id,
        "name": record.name,
        "status": record.status,
        "topic": record.topic,
        "resource": resource,
        "event": event,
        "hooks": [f"woocommerce_{event}_{resource}"],
        "delivery_url": record.delivery_url,
        "date_created": local(record.created),
        "date_created_gmt": gmt(record.created),
        "date_modified": local(record.modified),
        "date_modified_gmt": gmt(record.modified),
        "_links": _links(base, f"webhooks/{record.id}"),
    }


def tax_rate(row: Any) -> dict[str, Any]:
    """``GET /taxes/{id}``."""
    return {
        "id": row.id,
        "country": row.country,
        "state": "",
        "postcode": "",
        "city": "",
        "postcodes": [],
        "cities": [],
        "rate": f"{row.rate:.4f}",
        "name": row.name,
        "priority": 1,
        "compound": False,
        "shipping": row.shipping,
        "order": row.id,
        "class": row.rest_class,
    }
