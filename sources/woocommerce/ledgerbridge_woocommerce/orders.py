"""Reading orders: one order with everything the normalizer needs, and the modified-date scan.

:func:`iter_orders` never skips an order, even while the shop keeps changing orders during the
scan (reference §8 "Dates and incremental sync"). WooCommerce pages by offset, so an order
modified during the scan moves to the end and every later order shifts one place forward: a
scan that trusted page numbers would miss one order per such change. Instead each request
re-queries page 1 from the **watermark** (the last ``date_modified_gmt`` yielded), sorted by
``modified`` then id. ``modified_after`` is exclusive at one-second resolution, so the query
asks for "after watermark − 1 s" and excludes (``exclude=``) the orders already yielded at the
watermark second. Every full page therefore brings at least one new order, without page
numbers that shift under concurrent changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import ValidationError

from ledgerbridge.errors import DataError
from ledgerbridge.model import OrderSummary
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.normalize import PRODUCTS_KEY, REFUNDS_KEY
from ledgerbridge_woocommerce.payloads import GMT_FORMAT, ORDER_SUMMARY, validation_message
from ledgerbridge_woocommerce.products import classify_products

SUMMARY_FIELDS = "id,number,status,date_modified_gmt"
ONE_SECOND = timedelta(seconds=1)


def fetch_order(client: WooClient, order_id: str) -> dict[str, Any]:
    """The raw order with its full refunds (:data:`REFUNDS_KEY`) and product classification
    (:data:`PRODUCTS_KEY`) embedded. Raises ``NotFound`` for an unknown id (or a refund id)."""
    if not str(order_id).isdigit():
        raise DataError(f"{order_id!r} is not a WooCommerce order id (a whole number).")
    order = client.get(f"orders/{order_id}")
    if not isinstance(order, dict):
        raise DataError(f"The store answered order {order_id} with something not an object.")
    refunds: list[dict[str, Any]] = []
    if order.get("refunds"):
        refunds = list(client.items(f"orders/{order_id}/refunds"))
    order[REFUNDS_KEY] = refunds
    order[PRODUCTS_KEY] = classify_products(client, order.get("line_items") or [])
    return order


def iter_orders(
    client: WooClient, modified_after: datetime | None, statuses: list[str]
) -> Iterator[OrderSummary]:
    """Every order modified at or after ``modified_after`` (to the second), ascending by
    modification time then id, streamed with constant memory.

    Inclusive at the cursor's second on purpose: a cursor set to the last queued order's
    ``modified_at`` then never misses a sibling saved in the same second (it is yielded once
    more instead). ``statuses`` empty means every status except trash.
    """
    per_page = client.settings.per_page
    watermark = modified_after.replace(microsecond=0) if modified_after else None
    seen_at_watermark: set[int] = set()
    page = 1
    while True:
        params: dict[str, Any] = {
            "orderby": "modified",
            "order": "asc",
            "dates_are_gmt": True,
            "per_page": per_page,
            "page": page,
            "_fields": SUMMARY_FIELDS,
            "status": ",".join(statuses) if statuses else "any",
        }
        if watermark is not None:
            params["modified_after"] = _gmt_text(watermark - ONE_SECOND)
        if seen_at_watermark:
            params["exclude"] = sorted(seen_at_watermark)
        batch = client.get("orders", **params)
        if not isinstance(batch, list):
            raise DataError("The store answered the order list with something not a list.")
        fresh = 0
        for raw in batch:
            summary = _summary(raw)
            stamp = summary.modified_at
            order_id = int(summary.id)
            if watermark is not None and stamp < watermark:
                continue  # a store that ignores modified_after (older than WC 5.8)
            if watermark is not None and stamp == watermark:
                if order_id in seen_at_watermark:
                    continue
            else:
                watermark = stamp
                seen_at_watermark = set()
            seen_at_watermark.add(order_id)
            fresh += 1
            yield summary
        if len(batch) < per_page:
            return
        # Normally every query starts again at page 1 from the new watermark, excluding what
        # was yielded at the watermark second. Only a store that ignores the filters returns a
        # full page with nothing new: then step through its pages instead.
        page = 1 if fresh else page + 1


def _gmt_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(GMT_FORMAT)


def _summary(raw: Any) -> OrderSummary:
    try:
        data = ORDER_SUMMARY.load(raw)
    except (ValidationError, TypeError) as exc:
        message = (
            validation_message(exc, "An order in the list")
            if isinstance(exc, ValidationError)
            else "An order in the list is not an object."
        )
        raise DataError(message) from exc
    return OrderSummary(
        id=str(data["id"]),
        status=data["status"],
        modified_at=data["date_modified_gmt"],
        number=data["number"] or str(data["id"]),
    )
