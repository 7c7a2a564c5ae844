"""The sandbox shop's state: orders, refunds, notes, products, customers, webhooks.

Everything lives in memory behind one re-entrant lock. Every change that WooCommerce would
announce calls ``on_event(topic, order_id)``; the delivery worker turns that into webhook
deliveries. Orders and refunds share one id sequence, as in WooCommerce.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge_woocommerce.sandbox import catalogue
from ledgerbridge_woocommerce.sandbox.catalogue import (
    COUPONS,
    SHIPPING,
    Buyer,
    Coupon,
    ProductRecord,
    ShippingMethod,
)
from ledgerbridge_woocommerce.sandbox.pricing import (
    FeeRequest,
    PricingError,
    money,
    price_order,
    raw,
    round2,
)

PAID_STATUSES = ("processing", "completed")
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
WC_VERSION = "9.4.2"
SITE_TZ = ZoneInfo("Europe/Stockholm")


class ShopError(Exception):
    """A request the shop refuses: carries WooCommerce's error code and HTTP status."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data


def utcnow() -> datetime:
    """Now, whole seconds (WooCommerce stores dates to the second)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class OrderRecord:
    """One order: WooCommerce fields plus its dates, refunds and notes."""

    data: dict[str, Any]
    created: datetime
    modified: datetime
    paid: datetime | None = None
    completed: datetime | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    status_before_trash: str = ""

    @property
    def id(self) -> int:
        """The order id."""
        return int(self.data["id"])


@dataclass
class WebhookRecord:
    """A registered webhook, with the secret and failure count WooCommerce never returns."""

    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    status: str = "active"
    failure_count: int = 0
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)
    pending_delivery: bool = True


class Shop:
    """The whole sandbox store."""

    def __init__(self, on_event: Callable[[str, int], None] | None = None) -> None:
        self.lock = threading.RLock()
        self.on_event = on_event or (lambda topic, order_id: None)
        self.reset()

    def reset(self) -> None:
        """Empty the shop: catalogue back to its start, no orders, customers or webhooks."""
        with self.lock:
            self.rates = catalogue.tax_rate_rows()
            self.products: dict[int, ProductRecord] = {p.id: p for p in catalogue.products()}
            self.deleted_products: dict[int, ProductRecord] = {}
            self.orders: dict[int, OrderRecord] = {}
            self.refund_owner: dict[int, int] = {}
            self.customers: dict[int, dict[str, Any]] = {}
            self.customer_by_email: dict[str, int] = {}
            self.webhooks: dict[int, WebhookRecord] = {}
            self._post_id = 1000
            self._item_id = 5000
            self._note_id = 100
            self._webhook_id = 0
            self.clock_offset = timedelta(0)

    def now(self) -> datetime:
        """The shop's clock: real time, moved past the newest seeded date when needed."""
        return utcnow() + self.clock_offset

    def advance_clock_past(self, moment: datetime) -> None:
        """Make ``now()`` later than ``moment`` (seeded dates lie in 2026)."""
        with self.lock:
            gap = moment - utcnow() + timedelta(minutes=1)
            if gap > self.clock_offset:
                self.clock_offset = gap

    # ------------------------------------------------------------------------------------------
    # Ids
    # ------------------------------------------------------------------------------------------

    def next_post_id(self) -> int:
        """Orders and refunds share this sequence."""
        with self.lock:
            self._post_id += 1
            return self._post_id

    def next_item_id(self) -> int:
        """Order items and meta entries."""
        with self.lock:
            self._item_id += 1
            return self._item_id

    # ------------------------------------------------------------------------------------------
    # Lookups
    # ------------------------------------------------------------------------------------------

    def product(self, product_id: int, variation_id: int = 0) -> ProductRecord:
        """The product (or variation) to sell; 400 when unknown."""
        wanted = variation_id or product_id
        record = self.products.get(wanted)
        if record is None:
            raise ShopError(
                "woocommerce_rest_invalid_product_id",
                f"Product ID {wanted} is invalid.",
                400,
            )
        if record.type == "variable":
            raise ShopError(
                "woocommerce_rest_invalid_product_id",
                f"Product {wanted} is variable: give a variation_id.",
                400,
            )
        return record

    def order(self, order_id: int) -> OrderRecord:
        """The order, or 404 as WooCommerce words it (also for refund ids)."""
        record = self.orders.get(order_id)
        if record is None:
            raise ShopError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return record

    def customer_id_for(self, buyer: Buyer) -> int:
        """The registered customer id of ``buyer`` (created on first use), 0 for guests."""
        if not buyer.registered:
            return 0
        with self.lock:
            existing = self.customer_by_email.get(buyer.email)
            if existing:
                return existing
            customer_id = 58 + len(self.customers)
            now = self.now()
            address = _address(buyer)
            self.customers[customer_id] = {
                "id": customer_id,
                "created": now,
                "modified": now,
                "email": buyer.email,
                "first_name": buyer.first_name,
                "last_name": buyer.last_name,
                "username": buyer.email.split("@")[0],
                "billing": {**address, "email": buyer.email, "phone": buyer.phone},
                "shipping": {**address, "phone": buyer.phone},
            }
            self.customer_by_email[buyer.email] = customer_id
            return customer_id

    # ------------------------------------------------------------------------------------------
    # Orders
    # ------------------------------------------------------------------------------------------

    def create_order(
        self,
        *,
        buyer: Buyer,
        items: list[tuple[ProductRecord, int]],
        status: str,
        created: datetime,
        shipping: ShippingMethod | None = None,
        fees: list[FeeRequest] | None = None,
        coupons: list[Coupon] | None = None,
        payment_method: str = "bacs",
        payment_method_title: str = "Banköverföring",
        transaction_id: str = "",
        customer_note: str = "",
        created_via: str = "checkout",
        extra_meta: list[tuple[str, Any]] | None = None,
        notify: bool = True,
    ) -> OrderRecord:
        """Price and store a new order; fires ``order.created`` when ``notify``."""
        if status not in ORDER_STATUSES or status == "trash":
            raise ShopError("rest_invalid_param", f"Invalid parameter(s): status ({status})", 400)
        local_date = created.astimezone(SITE_TZ).date()
        with self.lock:
            try:
                money_part = price_order(
                    items=items,
                    shipping=shipping,
                    fees=fees or [],
                    coupons=coupons or [],
                    country=buyer.country,
                    vat_exempt=buyer.vat_exempt,
                    on=local_date,
                    currency=buyer.currency,
                    rates=self.rates,
                    next_id=self.next_item_id,
                )
            except PricingError as exc:
                raise ShopError("woocommerce_rest_invalid_order", str(exc), 400) from exc
            order_id = self.next_post_id()
            meta = [("is_vat_exempt", "yes" if buyer.vat_exempt else "no")]
            if buyer.vat_number:
                meta.append(("_billing_vat_number", buyer.vat_number))
            if buyer.org_number:
                meta.append(("_billing_org_nr", buyer.org_number))
            meta += list(extra_meta or [])
            address = _address(buyer)
            data: dict[str, Any] = {
                "id": order_id,
                "parent_id": 0,
                "status": status,
                "currency": buyer.currency,
                "version": WC_VERSION,
                "prices_include_tax": True,
                **{k: money_part[k] for k in _TOTAL_KEYS},
                "customer_id": self.customer_id_for(buyer),
                "order_key": "wc_order_" + secrets.token_hex(6),
                "billing": {**address, "email": buyer.email, "phone": buyer.phone},
                "shipping": {**address, "phone": ""},
                "payment_method": payment_method,
                "payment_method_title": payment_method_title,
                "transaction_id": transaction_id,
                "customer_ip_address": "203.0.113.24",
                "customer_user_agent": "Mozilla/5.0 (sandbox)",
                "created_via": created_via,
                "customer_note": customer_note,
                "cart_hash": secrets.token_hex(16),
                "number": str(order_id),
                "meta_data": [
                    {"id": self.next_item_id(), "key": key, "value": value} for key, value in meta
                ],
                **{k: money_part[k] for k in _LINE_KEYS},
            }
            record = OrderRecord(data=data, created=created, modified=created)
            if status in PAID_STATUSES:
                record.paid = created
            if status == "completed":
                record.completed = created
            self.orders[order_id] = record
        if notify:
            self.on_event("order.created", order_id)
        return record

    def update_order(self, order_id: int, changes: dict[str, Any], *, when: datetime | None = None):
        """Apply a partial update (status, addresses, note, payment fields, meta_data)."""
        with self.lock:
            record = self.order(order_id)
            data = record.data
            moment = when or self.now()
            if "status" in changes:
                status = str(changes["status"])
                if status not in ORDER_STATUSES:
                    raise ShopError(
                        "rest_invalid_param",
                        "Invalid parameter(s): status",
                        400,
                        params={"status": "status is not one of " + ", ".join(ORDER_STATUSES)},
                    )
                data["status"] = status
                if status in PAID_STATUSES and record.paid is None:
                    record.paid = moment
                if status == "completed" and record.completed is None:
                    record.completed = moment
            if changes.get("set_paid") and record.paid is None:
                record.paid = moment
                if data["status"] in ("pending", "on-hold", "failed"):
                    data["status"] = "processing"
            for key in ("billing", "shipping"):
                if isinstance(changes.get(key), dict):
                    data[key] = {**data[key], **{k: str(v) for k, v in changes[key].items()}}
            for key in (
                "customer_note",
                "transaction_id",
                "payment_method",
                "payment_method_title",
            ):
                if key in changes:
                    data[key] = str(changes[key])
            for entry in changes.get("meta_data") or []:
                self._upsert_meta(data["meta_data"], entry)
            record.modified = max(moment, record.modified)
        self.on_event("order.updated", order_id)
        return record

    def touch(self, order_id: int, *, when: datetime | None = None) -> OrderRecord:
        """A save that changes nothing visible (a plugin writing meta): bumps date_modified."""
        return self.update_order(order_id, {}, when=when)

    def _upsert_meta(self, meta: list[dict[str, Any]], entry: Any) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ShopError("rest_invalid_param", "Invalid parameter(s): meta_data", 400)
        for existing in meta:
            if existing["key"] == entry["key"] and (
                "id" not in entry or existing["id"] == entry["id"]
            ):
                existing["value"] = entry.get("value")
                return
        meta.append({"id": self.next_item_id(), "key": entry["key"], "value": entry.get("value")})

    def trash_order(self, order_id: int) -> OrderRecord:
        """Move to the trash (fires ``order.deleted`` with only the id); 410 when already there."""
        with self.lock:
            record = self.order(order_id)
            if record.data["status"] == "trash":
                raise ShopError(
                    "woocommerce_rest_already_trashed", "The order has already been deleted.", 410
                )
            record.status_before_trash = record.data["status"]
            record.data["status"] = "trash"
            record.modified = max(self.now(), record.modified)
        self.on_event("order.deleted", order_id)
        return record

    def restore_order(self, order_id: int) -> OrderRecord:
        """Take an order out of the trash (fires ``order.restored``)."""
        with self.lock:
            record = self.order(order_id)
            if record.data["status"] != "trash":
                raise ShopError(
                    "woocommerce_rest_cannot_restore", "The order is not in the trash.", 400
                )
            record.data["status"] = record.status_before_trash or "pending"
            record.modified = max(self.now(), record.modified)
        self.on_event("order.restored", order_id)
        return record

    def delete_order(self, order_id: int) -> OrderRecord:
        """Delete permanently (WooCommerce sends no webhook for that)."""
        with self.lock:
            record = self.order(order_id)
            del self.orders[order_id]
            for refund in record.refunds:
                self.refund_owner.pop(refund["id"], None)
            return record

    # ------------------------------------------------------------------------------------------
    # Refunds and notes
    # ------------------------------------------------------------------------------------------

    def refunded_amount(self, record: OrderRecord) -> Decimal:
        """Gross refunded so far."""
        return sum((Decimal(refund["amount"]) for refund in record.refunds), Decimal(0))

    def create_refund(
        self, order_id: int, body: dict[str, Any], *, when: datetime | None = None
    ) -> dict[str, Any]:
        """A refund as ``POST /orders/{id}/refunds`` makes it (reference §3.3)."""
        with self.lock:
            if order_id not in self.orders:
                raise ShopError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
            record = self.orders[order_id]
            data = record.data
            items_by_id = {
                item["id"]: (kind, item)
                for kind in ("line_items", "shipping_lines", "fee_lines")
                for item in data[kind]
            }
            refund_lists: dict[str, list[dict[str, Any]]] = {
                "line_items": [],
                "shipping_lines": [],
                "fee_lines": [],
            }
            tax_by_rate: dict[int, Decimal] = {}
            shipping_tax_by_rate: dict[int, Decimal] = {}
            computed = Decimal(0)
            numeric = True
            for request in body.get("line_items") or []:
                try:
                    item_id = int(request["id"])
                    kind, original = items_by_id[item_id]
                except (KeyError, TypeError, ValueError) as exc:
                    raise ShopError(
                        "woocommerce_rest_invalid_item_id", "Invalid item ID for the refund.", 400
                    ) from exc
                quantity = int(request.get("quantity") or 0)
                try:
                    net = Decimal(str(request.get("refund_total") or "0"))
                    taxes = [
                        (int(t["id"]), Decimal(str(t.get("refund_total") or "0")))
                        for t in request.get("refund_tax") or []
                    ]
                except (ArithmeticError, KeyError, TypeError, ValueError):
                    numeric = False
                    net, taxes = Decimal(0), []
                computed += net + sum((amount for _, amount in taxes), Decimal(0))
                for rate_id, amount in taxes:
                    target = shipping_tax_by_rate if kind == "shipping_lines" else tax_by_rate
                    target[rate_id] = target.get(rate_id, Decimal(0)) + amount
                refund_item: dict[str, Any] = {
                    "id": self.next_item_id(),
                    "name": original.get("name") or original.get("method_title", ""),
                }
                if kind == "line_items":
                    refund_item.update(
                        product_id=original["product_id"],
                        variation_id=original["variation_id"],
                        quantity=-quantity,
                        tax_class=original["tax_class"],
                        subtotal=money(-net),
                        subtotal_tax=money(-sum((a for _, a in taxes), Decimal(0))),
                    )
                elif kind == "shipping_lines":
                    refund_item = {
                        "id": refund_item["id"],
                        "method_title": original["method_title"],
                        "method_id": original["method_id"],
                        "instance_id": original["instance_id"],
                    }
                else:
                    refund_item.update(
                        tax_class=original["tax_class"],
                        tax_status=original["tax_status"],
                        amount=raw(-net),
                    )
                refund_item.update(
                    total=money(-net),
                    total_tax=money(-sum((a for _, a in taxes), Decimal(0))),
                    taxes=[
                        {"id": rate_id, "total": raw(-amount), "subtotal": raw(-amount)}
                        for rate_id, amount in taxes
                    ],
                    meta_data=[
                        {
                            "id": self.next_item_id(),
                            "key": "_refunded_item_id",
                            "value": str(item_id),
                        }
                    ],
                )
                if kind == "line_items":
                    refund_item["price"] = float(-net / quantity) if quantity else 0
                refund_lists[kind].append(refund_item)
            if body.get("amount") not in (None, ""):
                try:
                    amount = Decimal(str(body["amount"]))
                except ArithmeticError as exc:
                    raise ShopError(
                        "rest_invalid_param", "Invalid parameter(s): amount", 400
                    ) from exc
            elif numeric:
                amount = computed
            else:
                amount = Decimal(0)
            amount = round2(amount)
            if amount <= 0:
                raise ShopError(
                    "woocommerce_rest_invalid_order_refund",
                    "Refund amount must be greater than zero.",
                    400,
                )
            remaining = Decimal(data["total"]) - self.refunded_amount(record)
            if amount > remaining:
                raise ShopError(
                    "woocommerce_rest_cannot_create_order_refund",
                    "Invalid refund amount.",
                    500,
                )
            rate_rows = {row.id: row for row in self.rates}
            tax_lines = []
            for rate_id in sorted(set(tax_by_rate) | set(shipping_tax_by_rate)):
                row = rate_rows.get(rate_id)
                tax_lines.append(
                    {
                        "id": self.next_item_id(),
                        "rate_code": f"{row.country}-{row.name.upper()}-1" if row else "",
                        "rate_id": rate_id,
                        "label": row.name if row else "",
                        "compound": False,
                        "tax_total": money(-tax_by_rate.get(rate_id, Decimal(0))),
                        "shipping_tax_total": money(-shipping_tax_by_rate.get(rate_id, Decimal(0))),
                        "rate_percent": int(row.rate) if row else 0,
                        "meta_data": [],
                    }
                )
            refund_id = self.next_post_id()
            moment = when or self.now()
            refund = {
                "id": refund_id,
                "created": moment,
                "amount": money(amount),
                "reason": str(body.get("reason") or ""),
                "refunded_by": 1,
                "refunded_payment": bool(body.get("api_refund", True)),
                "meta_data": [],
                "line_items": refund_lists["line_items"],
                "shipping_lines": refund_lists["shipping_lines"],
                "tax_lines": tax_lines,
                "fee_lines": refund_lists["fee_lines"],
            }
            record.refunds.insert(0, refund)
            self.refund_owner[refund_id] = order_id
            record.modified = max(moment, record.modified)
            if self.refunded_amount(record) >= Decimal(data["total"]):
                data["status"] = "refunded"
        self.on_event("order.updated", order_id)
        return refund

    def add_note(self, order_id: int, note: str, customer_note: bool) -> dict[str, Any]:
        """A note on the order (does not change date_modified, like WooCommerce)."""
        with self.lock:
            record = self.order(order_id)
            if not note.strip():
                raise ShopError("rest_missing_callback_param", "Missing parameter(s): note", 400)
            self._note_id += 1
            entry = {
                "id": self._note_id,
                "author": "ledgerbridge",
                "created": self.now(),
                "note": note,
                "customer_note": bool(customer_note),
            }
            record.notes.insert(0, entry)
            return entry

    # ------------------------------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------------------------------

    def create_webhook(self, body: dict[str, Any]) -> WebhookRecord:
        """``POST /webhooks``: always active, our secret or a generated one never returned."""
        topic = body.get("topic")
        url = body.get("delivery_url")
        missing = [name for name, value in (("topic", topic), ("delivery_url", url)) if not value]
        if missing:
            raise ShopError(
                "rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}", 400
            )
        _check_topic(str(topic))
        _check_url(str(url))
        with self.lock:
            self._webhook_id += 1
            now = self.now()
            record = WebhookRecord(
                id=self._webhook_id,
                name=str(body.get("name") or f"Webhook created on {now:%b %d, %Y @ %I:%M %p}"),
                topic=str(topic),
                delivery_url=str(url),
                secret=str(body.get("secret") or secrets.token_urlsafe(37)),
                created=now,
                modified=now,
            )
            self.webhooks[record.id] = record
            return record

    def update_webhook(self, webhook_id: int, body: dict[str, Any]) -> WebhookRecord:
        """``PUT /webhooks/{id}``: name, topic, delivery_url, secret, status."""
        with self.lock:
            record = self.webhook(webhook_id)
            if "topic" in body:
                _check_topic(str(body["topic"]))
                record.topic = str(body["topic"])
            if "delivery_url" in body:
                _check_url(str(body["delivery_url"]))
                record.delivery_url = str(body["delivery_url"])
            if body.get("secret"):
                record.secret = str(body["secret"])
            if "name" in body:
                record.name = str(body["name"])
            if "status" in body:
                if body["status"] not in ("active", "paused", "disabled"):
                    raise ShopError("rest_invalid_param", "Invalid parameter(s): status", 400)
                record.status = str(body["status"])
            record.modified = self.now()
            return record

    def webhook(self, webhook_id: int) -> WebhookRecord:
        """The webhook, or WooCommerce's 404."""
        record = self.webhooks.get(webhook_id)
        if record is None:
            raise ShopError("woocommerce_rest_webhook_invalid_id", "Invalid webhook ID.", 404)
        return record


_TOTAL_KEYS = (
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total",
    "total_tax",
)
_TEXT_FIELDS = ("customer_note", "transaction_id", "payment_method", "payment_method_title")
_LINE_KEYS = ("line_items", "tax_lines", "shipping_lines", "fee_lines", "coupon_lines")


def _check_topic(topic: str) -> None:
    resource, _, event = topic.partition(".")
    valid = resource in ("order", "coupon", "customer", "product") and event in (
        "created",
        "updated",
        "deleted",
        "restored",
    )
    if not valid and not topic.startswith(("action.woocommerce_", "action.wc_")):
        raise ShopError(
            "woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic is invalid.", 400
        )


def _check_url(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise ShopError(
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )


def _address(buyer: Buyer) -> dict[str, str]:
    return {
        "first_name": buyer.first_name,
        "last_name": buyer.last_name,
        "company": buyer.company,
        "address_1": buyer.address_1,
        "address_2": "",
        "city": buyer.city,
        "state": "",
        "postcode": buyer.postcode,
        "country": buyer.country,
    }


def shipping_method(method_id: str, instance_id: str = "") -> ShippingMethod | None:
    """A shipping method of the shop by id (and instance)."""
    for method in SHIPPING:
        if method.method_id == method_id and (not instance_id or method.instance_id == instance_id):
            return method
    return None


def coupon(code: str) -> Coupon:
    """A coupon by code; 400 ``woocommerce_rest_invalid_coupon`` when unknown."""
    for candidate in COUPONS:
        if candidate.code == code.lower():
            return candidate
    raise ShopError("woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!', 400)
