"""A deterministic seeder: a realistic year (2026) of a Swedish web shop.

``seed(shop, n, seed=...)`` always creates the same orders for the same arguments on an empty
shop. The first orders are fixed scenarios so every run covers: the reference's synthetic order
(25 % + 12 %, coupon, shipping), a zero-total order, an EU company with a VAT number (EUR,
reverse charge, no VAT), an EU consumer (EUR, Swedish VAT), Norwegian and US customers (no VAT),
a Swedish company with an organisation number paying by invoice with an invoice fee and a
negative fee, a services-only order, food before and after the 2026-04-01 cut (12 % → 6 %),
books at 6 %, an order whose product was later deleted, a line refund, an amount-only refund
and a full refund. The rest are drawn at random (seeded) from the same ingredients.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ledgerbridge_woocommerce.sandbox.catalogue import (
    BUYERS,
    COUPONS,
    DELETED_PRODUCT_ID,
    SHIPPING,
    Buyer,
    Coupon,
    ShippingMethod,
    products,
)
from ledgerbridge_woocommerce.sandbox.pricing import FeeRequest, convert, round2
from ledgerbridge_woocommerce.sandbox.state import OrderRecord, Shop

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END = datetime(2026, 11, 15, 18, 0, tzinfo=UTC)
PAYMENTS = (
    ("klarna_payments", "Klarna"),
    ("stripe", "Kort"),
    ("swish", "Swish"),
    ("bacs", "Banköverföring"),
    ("invoice", "Faktura"),
)
INVOICE_FEE = FeeRequest("Fakturaavgift", Decimal("39.20"))
LOYALTY_DISCOUNT = FeeRequest("Rabatt stamkund", Decimal("-40.00"))
PRICES = {product.id: product.price for product in products()}
SELLABLE = (311, 312, 313, 415, 416, 420, 421, 430, 431, 440, 441, 451, 452)


@dataclass
class Plan:
    """One order to create."""

    buyer: Buyer
    items: list[tuple[int, int]]
    when: datetime
    status: str = "completed"
    coupons: list[Coupon] = field(default_factory=list)
    fees: list[FeeRequest] = field(default_factory=list)
    shipping: ShippingMethod | None = SHIPPING[0]
    payment: tuple[str, str] = PAYMENTS[0]
    refund: str = ""  # "line", "amount" or "full"
    note: str = ""


def _buyer(last_name: str) -> Buyer:
    return next(buyer for buyer in BUYERS if buyer.last_name == last_name)


def _scenarios() -> list[Plan]:
    day = timedelta(days=1)
    return [
        Plan(
            _buyer("Lindqvist"),
            [(311, 1), (415, 3)],
            START,
            "processing",
            coupons=[COUPONS[0]],
            note="Lämna paketet i receptionen.",
        ),
        Plan(
            _buyer("Andersson"),
            [(431, 1)],
            START + 3 * day,
            shipping=None,
            coupons=[COUPONS[2]],
            payment=("", ""),
        ),
        Plan(
            _buyer("Weber"),
            [(311, 2), (312, 1)],
            START + 10 * day,
            shipping=SHIPPING[1],
            payment=PAYMENTS[4],
        ),
        Plan(_buyer("Schmidt"), [(313, 1), (430, 1)], START + 17 * day, payment=PAYMENTS[1]),
        Plan(
            _buyer("Nordmann"),
            [(312, 1), (420, 2)],
            START + 24 * day,
            shipping=SHIPPING[1],
            payment=PAYMENTS[1],
        ),
        Plan(_buyer("Carter"), [(451, 2)], START + 31 * day, payment=PAYMENTS[1]),
        Plan(
            _buyer("Berg"),
            [(415, 10), (416, 10), (313, 2)],
            START + 38 * day,
            shipping=SHIPPING[1],
            fees=[INVOICE_FEE, LOYALTY_DISCOUNT],
            payment=PAYMENTS[4],
        ),
        Plan(
            _buyer("Ek"),
            [(440, 1), (441, 2)],
            START + 45 * day,
            shipping=None,
            payment=PAYMENTS[4],
            fees=[INVOICE_FEE],
        ),
        Plan(
            _buyer("Nilsson"),
            [(420, 2), (421, 3), (311, 1)],
            datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
            payment=PAYMENTS[2],
        ),
        Plan(
            _buyer("Nilsson"),
            [(420, 2), (421, 3), (311, 1)],
            datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
            payment=PAYMENTS[2],
        ),
        Plan(_buyer("Jensen"), [(460, 4), (430, 1)], START + 8 * day, payment=PAYMENTS[1]),
        Plan(
            _buyer("Johansson"),
            [(311, 1), (421, 2)],
            datetime(2026, 5, 12, 13, 0, tzinfo=UTC),
            payment=PAYMENTS[0],
            refund="line",
        ),
        Plan(
            _buyer("Virtanen"),
            [(312, 2)],
            datetime(2026, 6, 3, 10, 0, tzinfo=UTC),
            payment=PAYMENTS[4],
            refund="amount",
        ),
        Plan(
            _buyer("Lindqvist"),
            [(313, 1)],
            datetime(2026, 6, 20, 15, 0, tzinfo=UTC),
            payment=PAYMENTS[2],
            refund="full",
        ),
    ]


def _random_plan(rng: random.Random, index: int, total: int) -> Plan:
    span = (END - START).total_seconds()
    when = START + timedelta(seconds=int(span * (index + 0.5) / max(total, 1)))
    when += timedelta(minutes=rng.randint(0, 600))
    weights = [18, 8, 12, 8, 5, 4, 3, 2, 3, 3, 2, 2]
    buyer = rng.choices(BUYERS, weights=weights)[0]
    items = [
        (product_id, rng.randint(1, 3)) for product_id in rng.sample(SELLABLE, rng.randint(1, 3))
    ]
    physical = any(product_id not in (431, 440, 441) for product_id, _ in items)
    shipping = rng.choice(SHIPPING) if physical else None
    payment = rng.choice(PAYMENTS)
    status = rng.choices(
        ["completed", "processing", "on-hold", "pending", "cancelled", "failed"],
        weights=[60, 20, 6, 5, 5, 4],
    )[0]
    if payment[0] == "bacs" and status == "processing":
        status = "on-hold"
    coupons = [rng.choice(COUPONS[:2])] if rng.random() < 0.2 else []
    fees = [INVOICE_FEE] if payment[0] == "invoice" else []
    gross = sum((PRICES[product_id] * quantity for product_id, quantity in items), Decimal(0))
    if rng.random() < 0.05 and not coupons and gross >= 300:
        fees.append(LOYALTY_DISCOUNT)
    refund = ""
    if status == "completed" and rng.random() < 0.12:
        refund = rng.choice(["line", "amount"])
    return Plan(buyer, items, when, status, coupons, fees, shipping, payment, refund)


def _refund(shop: Shop, record: OrderRecord, kind: str, when: datetime) -> None:
    data = record.data
    if kind == "full":
        body = {
            "reason": "Ångrat köp",
            "api_refund": True,
            "line_items": [
                {
                    "id": item["id"],
                    "quantity": item.get("quantity", 0),
                    "refund_total": item["total"],
                    "refund_tax": [
                        {"id": t["id"], "refund_total": str(round2(Decimal(t["total"])))}
                        for t in item["taxes"]
                    ],
                }
                for kind_key in ("line_items", "shipping_lines", "fee_lines")
                for item in data[kind_key]
            ],
        }
    elif kind == "line":
        item = data["line_items"][0]
        quantity = item["quantity"]
        net = round2(Decimal(item["total"]) / quantity)
        taxes = [
            {"id": t["id"], "refund_total": str(round2(Decimal(t["total"]) / quantity))}
            for t in item["taxes"]
        ]
        gross = net + sum((Decimal(t["refund_total"]) for t in taxes), Decimal(0))
        # A free line (a 100 % coupon) has nothing to refund; a discount fee can make the
        # order cheaper than one unit: refund part of the amount instead.
        if gross <= 0 or gross > Decimal(data["total"]):
            _refund(shop, record, "amount", when)
            return
        body = {
            "reason": "Skadad vara",
            "api_refund": True,
            "line_items": [
                {"id": item["id"], "quantity": 1, "refund_total": str(net), "refund_tax": taxes}
            ],
        }
    else:
        amount = min(Decimal(data["total"]), round2(Decimal(data["total"]) * Decimal("0.1")))
        if amount <= 0:
            return
        body = {"amount": str(amount), "reason": "Prisavdrag, sen leverans", "api_refund": False}
    shop.create_refund(record.id, body, when=when)


def seed(shop: Shop, n: int = 60, seed: int = 2026) -> list[int]:
    """Create ``n`` orders (scenarios first); returns their ids. Deterministic per ``seed``."""
    rng = random.Random(seed)
    plans = _scenarios()[:n]
    extra = n - len(plans)
    plans += [_random_plan(rng, index, extra) for index in range(extra)]
    plans.sort(key=lambda plan: plan.when)
    created: list[int] = []
    latest = START
    for plan in plans:
        items = [
            (shop.products[product_id], quantity)
            for product_id, quantity in plan.items
            if product_id in shop.products
        ]
        if not items:
            continue
        record = shop.create_order(
            buyer=plan.buyer,
            items=items,
            status=plan.status,
            created=plan.when,
            shipping=plan.shipping,
            # Fees are planned in SEK; the multi-currency plugin converts them like prices.
            fees=[
                FeeRequest(fee.name, convert(fee.amount, plan.buyer.currency), fee.taxable)
                for fee in plan.fees
            ],
            coupons=plan.coupons,
            payment_method=plan.payment[0],
            payment_method_title=plan.payment[1],
            transaction_id=f"tx-{seed}-{len(created) + 1:05d}" if plan.payment[0] else "",
            customer_note=plan.note,
        )
        modified = plan.when + timedelta(minutes=2 + rng.randint(0, 30))
        if Decimal(record.data["total"]) == 0 and plan.status == "completed":
            record.paid = plan.when
        record.modified = modified
        latest = max(latest, modified)
        if plan.refund:
            refund_at = modified + timedelta(days=3)
            _refund(shop, record, plan.refund, refund_at)
            latest = max(latest, refund_at)
        created.append(record.id)
    if DELETED_PRODUCT_ID in shop.products:
        shop.deleted_products[DELETED_PRODUCT_ID] = shop.products.pop(DELETED_PRODUCT_ID)
    shop.advance_clock_past(latest)
    return created
