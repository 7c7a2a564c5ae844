"""The sandbox WSGI app: ``/wp-json/wc/v3`` (and ``?rest_route=``) plus the ``/_sandbox`` admin API.

Collections behave as reference §2.2–§2.3 and appendix A.3 say: ``per_page`` 1..100 (else
``400 rest_invalid_param``), a page past the end is ``200 []``, ``X-WP-Total``,
``X-WP-TotalPages`` and a ``Link`` header with only ``prev``/``next`` that repeats every query
parameter, exclusive date filters on naive timestamps (site time, or UTC with
``dates_are_gmt``), ``orderby`` with an id tie-break, ``status=any`` without trash,
``include``/``exclude`` and ``_fields``. Errors are WooCommerce's ``{"code","message","data"}``.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

from ledgerbridge_woocommerce.sandbox import wcjson
from ledgerbridge_woocommerce.sandbox.catalogue import Buyer
from ledgerbridge_woocommerce.sandbox.deliveries import Deliverer, Knobs
from ledgerbridge_woocommerce.sandbox.pricing import FeeRequest
from ledgerbridge_woocommerce.sandbox.seed import seed as run_seeder
from ledgerbridge_woocommerce.sandbox.state import (
    ORDER_STATUSES,
    SITE_TZ,
    OrderRecord,
    Shop,
    ShopError,
    coupon,
    shipping_method,
)
from ledgerbridge_woocommerce.sandbox.wcauth import ApiKey, Authenticator

API_PREFIX = "/wp-json/wc/v3"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")
Handler = Callable[..., Any]


class Sandbox:
    """Everything one sandbox instance holds: the shop, keys, knobs, the delivery worker."""

    def __init__(
        self,
        *,
        keys: list[ApiKey],
        https: bool,
        knobs: Knobs,
        source_url: str,
        random_seed: int,
    ) -> None:
        self.shop = Shop(on_event=self._event)
        self.keys = keys
        self.authenticator = Authenticator(keys, https=https)
        self.knobs = knobs
        self.random = random.Random(random_seed)
        self._random_guard = threading.Lock()
        self.base_url = source_url
        self.deliverer = Deliverer(self.shop, knobs, source_url, random_seed)
        self.deliverer.build_payload = self._payload

    def _event(self, topic: str, order_id: int) -> None:
        self.deliverer.order_event(topic, order_id)

    def _payload(self, order_id: int) -> dict[str, Any] | None:
        with self.shop.lock:
            record = self.shop.orders.get(order_id)
            return None if record is None else wcjson.order(self.shop, record, self.base_url)

    def take_forced_failure(self) -> bool:
        """Consume one of the ``fail_next`` forced failures, if any are left."""
        with self._random_guard:
            if self.knobs.fail_next > 0:
                self.knobs.fail_next -= 1
                return True
            return False

    def chance(self, rate: float) -> bool:
        """A seeded coin toss for the fault knobs."""
        with self._random_guard:
            return self.random.random() < rate


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(wcjson.php_json(body), status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=UTF-8"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _error(error: ShopError) -> Response:
    data: dict[str, Any] = {"status": error.status}
    if "params" in error.data:
        data["params"] = error.data["params"]
        data["details"] = {
            name: {"code": "rest_invalid_param", "message": text, "data": None}
            for name, text in error.data["params"].items()
        }
    headers = {}
    if error.data.get("www_authenticate"):
        headers["WWW-Authenticate"] = (
            'Basic realm="WooCommerce API. Use a consumer key in the username field and a '
            'consumer secret in the password field."'
        )
    return _json(
        {"code": error.code, "message": error.message, "data": data}, error.status, headers
    )


def _invalid(name: str, text: str) -> ShopError:
    return ShopError(
        "rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: text}
    )


def _int_param(args: dict[str, Any], name: str, default: int, low: int, high: int | None) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError as exc:
        raise _invalid(name, f"{name} is not of type integer.") from exc
    if number < low or (high is not None and number > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f">= {low}"
        raise _invalid(name, f"{name} must be {bound}")
    return number


def _list_param(args: Any, name: str) -> list[str]:
    values = args.getlist(f"{name}[]") or args.getlist(name)
    result: list[str] = []
    for value in values:
        result += [part.strip() for part in str(value).split(",") if part.strip()]
    return result


def _id_list(args: Any, name: str) -> list[int]:
    try:
        return [int(value) for value in _list_param(args, name)]
    except ValueError as exc:
        raise _invalid(name, f"{name}[0] is not of type integer.") from exc


def _bool_param(args: Any, name: str) -> bool:
    return str(args.get(name, "")).lower() in ("1", "true", "yes")


def _date_param(args: Any, name: str) -> datetime | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    if not _DATE.match(value):
        raise _invalid(name, "Invalid date.")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        # WordPress converts an explicit offset to site time (reference §2.2).
        parsed = parsed.astimezone(SITE_TZ).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def _fields(body: Any, fields: str) -> Any:
    wanted = [field.strip() for field in fields.split(",") if field.strip()]
    if not wanted:
        return body

    def pick(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        picked: dict[str, Any] = {}
        for name in wanted:
            top, _, sub = name.partition(".")
            if top not in item:
                continue
            if sub and isinstance(item[top], dict):
                picked.setdefault(top, {})
                if sub in item[top]:
                    picked[top][sub] = item[top][sub]
            else:
                picked[top] = item[top]
        return picked

    return [pick(item) for item in body] if isinstance(body, list) else pick(body)


def _paginate(items: list[Any], args: Any, url: str) -> tuple[list[Any], dict[str, str]]:
    per_page = _int_param(args, "per_page", 10, 1, 100)
    page = _int_param(args, "page", 1, 1, None)
    offset = args.get("offset")
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    start = (
        _int_param(args, "offset", 0, 0, None)
        if offset not in (None, "")
        else ((page - 1) * per_page)
    )
    chunk = items[start : start + per_page]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    query = [(k, v) for k, v in args.items(multi=True) if k != "page"]
    links = []
    if page > 1 and pages:
        links.append(f'<{url}?{urlencode([*query, ("page", min(page - 1, pages))])}>; rel="prev"')
    if page < pages:
        links.append(f'<{url}?{urlencode([*query, ("page", page + 1)])}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return chunk, headers


def _sort(items: list[Any], args: Any, keys: dict[str, Callable[[Any], Any]], default: str):
    orderby = args.get("orderby", default)
    direction = args.get("order", "desc" if default in ("date", "modified") else "asc")
    if orderby not in keys:
        raise _invalid("orderby", f"orderby is not one of {', '.join(keys)}.")
    if direction not in ("asc", "desc"):
        raise _invalid("order", "order is not one of asc, desc.")
    return sorted(items, key=keys[orderby], reverse=direction == "desc")


def _body() -> dict[str, Any]:
    if request.mimetype == "application/x-www-form-urlencoded":
        return dict(request.form)
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ShopError("rest_invalid_json", "Invalid JSON body passed.", 400)
    return data


# ---------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------


def build_app(sandbox: Sandbox) -> Flask:
    """The Flask app serving ``sandbox``."""
    app = Flask("ledgerbridge_woocommerce.sandbox")
    app.extensions["woocommerce_sandbox"] = sandbox
    shop = sandbox.shop
    routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def route(pattern: str, **handlers: Handler) -> None:
        routes.append((re.compile(f"^{pattern}$"), {m.upper(): h for m, h in handlers.items()}))

    def base() -> str:
        return request.host_url.rstrip("/")

    @app.before_request
    def remember_address() -> None:
        # The address clients use is the one webhooks name as their source.
        sandbox.base_url = sandbox.deliverer.source_url = request.host_url.rstrip("/")

    # Orders ------------------------------------------------------------------------------------

    def order_filter(args: Any, statuses: list[str]) -> Callable[[OrderRecord], bool]:
        gmt_dates = _bool_param(args, "dates_are_gmt")
        limits = [
            (name, _date_param(args, name))
            for name in ("after", "before", "modified_after", "modified_before")
        ]
        limits = [(name, limit) for name, limit in limits if limit is not None]
        customer = args.get("customer")
        any_status = not statuses or "any" in statuses

        def column(moment: datetime) -> datetime:
            if gmt_dates:
                return moment.replace(tzinfo=None)
            return moment.astimezone(SITE_TZ).replace(tzinfo=None)

        def matches(record: OrderRecord) -> bool:
            status = record.data["status"]
            if any_status and status in ("trash", "checkout-draft"):
                return False
            if not any_status and status not in statuses:
                return False
            for name, limit in limits:
                moment = record.created if name in ("after", "before") else record.modified
                value = column(moment)
                if name.endswith("after") and not value > limit:
                    return False
                if name.endswith("before") and not value < limit:
                    return False
            return customer in (None, "") or str(record.data["customer_id"]) == str(customer)

        return matches

    def list_orders() -> Response:
        args = request.args
        statuses = _list_param(args, "status") or ["any"]
        unknown = [s for s in statuses if s not in (*ORDER_STATUSES, "any", "auto-draft")]
        if unknown:
            raise _invalid("status", f"status[0] is not one of {', '.join(ORDER_STATUSES)}.")
        include = _id_list(args, "include")
        exclude = set(_id_list(args, "exclude"))
        matches = order_filter(args, statuses)
        with shop.lock:
            records = [
                record
                for record in shop.orders.values()
                if (not include or record.id in include)
                and record.id not in exclude
                and matches(record)
            ]
            records = _sort(
                records,
                args,
                {
                    "date": lambda r: (r.created, r.id),
                    "modified": lambda r: (r.modified, r.id),
                    "id": lambda r: r.id,
                    "include": lambda r: include.index(r.id) if r.id in include else 0,
                    "title": lambda r: r.id,
                    "slug": lambda r: r.id,
                },
                "date",
            )
            chunk, headers = _paginate(records, args, request.base_url)
            body = [wcjson.order(shop, record, base()) for record in chunk]
        return _json(body, headers=headers)

    def create_order() -> Response:
        payload = _body()
        with shop.lock:
            record = _create_order_from_rest(shop, payload)
            body = wcjson.order(shop, record, base())
        return _json(body, 201, {"Location": f"{request.base_url}/{record.id}"})

    def get_order(order_id: str) -> Response:
        with shop.lock:
            return _json(wcjson.order(shop, shop.order(int(order_id)), base()))

    def update_order(order_id: str) -> Response:
        payload = _body()
        record = shop.update_order(int(order_id), payload)
        with shop.lock:
            return _json(wcjson.order(shop, record, base()))

    def delete_order(order_id: str) -> Response:
        with shop.lock:
            body = wcjson.order(shop, shop.order(int(order_id)), base())
        if _bool_param(request.args, "force"):
            shop.delete_order(int(order_id))
            return _json(body)
        record = shop.trash_order(int(order_id))
        with shop.lock:
            return _json(wcjson.order(shop, record, base()))

    route(r"orders", GET=list_orders, POST=create_order)
    route(
        r"orders/(\d+)",
        GET=get_order,
        PUT=update_order,
        PATCH=update_order,
        POST=update_order,
        DELETE=delete_order,
    )

    # Refunds -----------------------------------------------------------------------------------

    def list_refunds(order_id: str) -> Response:
        with shop.lock:
            record = shop.orders.get(int(order_id))
            refunds = list(record.refunds) if record else []
            refunds = _sort(
                refunds,
                request.args,
                {
                    "date": lambda r: (r["created"], r["id"]),
                    "id": lambda r: r["id"],
                    "include": lambda r: r["id"],
                    "title": lambda r: r["id"],
                    "slug": lambda r: r["id"],
                    "modified": lambda r: (r["created"], r["id"]),
                },
                "date",
            )
            chunk, headers = _paginate(refunds, request.args, request.base_url)
            body = [wcjson.refund(r, int(order_id), base()) for r in chunk]
        return _json(body, headers=headers)

    def create_refund(order_id: str) -> Response:
        refund = shop.create_refund(int(order_id), _body())
        return _json(wcjson.refund(refund, int(order_id), base()), 201)

    def one_refund(order_id: str, refund_id: str) -> dict[str, Any]:
        record = shop.orders.get(int(order_id))
        for refund in record.refunds if record else []:
            if refund["id"] == int(refund_id):
                return refund
        raise ShopError("woocommerce_rest_invalid_order_refund_id", "Invalid order refund ID.", 404)

    def get_refund(order_id: str, refund_id: str) -> Response:
        with shop.lock:
            return _json(wcjson.refund(one_refund(order_id, refund_id), int(order_id), base()))

    def delete_refund(order_id: str, refund_id: str) -> Response:
        if not _bool_param(request.args, "force") and "force" in request.args:
            raise ShopError(
                "woocommerce_rest_trash_not_supported", "Refunds do not support trashing.", 501
            )
        with shop.lock:
            refund = one_refund(order_id, refund_id)
            record = shop.orders[int(order_id)]
            record.refunds.remove(refund)
            shop.refund_owner.pop(refund["id"], None)
            if record.data["status"] == "refunded":
                record.data["status"] = "completed"
            record.modified = max(shop.now(), record.modified)
            body = wcjson.refund(refund, int(order_id), base())
        sandbox.deliverer.order_event("order.updated", int(order_id))
        return _json(body)

    def all_refunds() -> Response:
        with shop.lock:
            pairs = [(r, record.id) for record in shop.orders.values() for r in record.refunds]
            pairs.sort(key=lambda pair: (pair[0]["created"], pair[0]["id"]), reverse=True)
            chunk, headers = _paginate(pairs, request.args, request.base_url)
            body = [wcjson.refund(r, oid, base(), with_parent=True) for r, oid in chunk]
        return _json(body, headers=headers)

    route(r"orders/(\d+)/refunds", GET=list_refunds, POST=create_refund)
    route(r"orders/(\d+)/refunds/(\d+)", GET=get_refund, DELETE=delete_refund)
    route(r"refunds", GET=all_refunds)

    # Notes -------------------------------------------------------------------------------------

    def list_notes(order_id: str) -> Response:
        with shop.lock:
            notes = shop.order(int(order_id)).notes
            return _json([wcjson.note(n, int(order_id), base()) for n in notes])

    def create_note(order_id: str) -> Response:
        payload = _body()
        entry = shop.add_note(
            int(order_id), str(payload.get("note") or ""), bool(payload.get("customer_note"))
        )
        return _json(wcjson.note(entry, int(order_id), base()), 201)

    def get_note(order_id: str, note_id: str) -> Response:
        with shop.lock:
            for entry in shop.order(int(order_id)).notes:
                if entry["id"] == int(note_id):
                    return _json(wcjson.note(entry, int(order_id), base()))
        raise ShopError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)

    route(r"orders/(\d+)/notes", GET=list_notes, POST=create_note)
    route(r"orders/(\d+)/notes/(\d+)", GET=get_note)

    # Products and variations -------------------------------------------------------------------

    def product_list(parent: int | None) -> Response:
        args = request.args
        include = _id_list(args, "include")
        sku = args.get("sku")
        wanted_type = args.get("type")
        with shop.lock:
            records = [
                p
                for p in shop.products.values()
                if (p.parent_id == parent if parent is not None else p.type != "variation")
                and (not include or p.id in include)
                and (not sku or p.sku in sku.split(","))
                and (not wanted_type or p.type == wanted_type)
            ]
            records = _sort(
                records,
                args,
                {
                    "id": lambda p: p.id,
                    "date": lambda p: p.id,
                    "title": lambda p: p.name,
                    "include": lambda p: include.index(p.id) if p.id in include else 0,
                    "modified": lambda p: p.id,
                    "slug": lambda p: p.sku,
                },
                "date",
            )
            chunk, headers = _paginate(records, args, request.base_url)
            body = [wcjson.product(p, base()) for p in chunk]
        return _json(body, headers=headers)

    def product_record(product_id: int, parent: int | None):
        record = shop.products.get(product_id)
        if record is None or (parent is not None and record.parent_id != parent):
            code = (
                "woocommerce_rest_product_variation_invalid_id"
                if parent is not None
                else "woocommerce_rest_product_invalid_id"
            )
            raise ShopError(code, "Invalid ID.", 404)
        return record

    def update_product_fields(record: Any, payload: dict[str, Any]) -> None:
        if "stock_quantity" in payload:
            value = payload["stock_quantity"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise _invalid("stock_quantity", "stock_quantity is not of type integer.")
            record.stock_quantity = value
        if "manage_stock" in payload:
            record.manage_stock = bool(payload["manage_stock"])
        if "regular_price" in payload:
            try:
                record.price = Decimal(str(payload["regular_price"]))
            except InvalidOperation as exc:
                raise _invalid("regular_price", "regular_price is not a number.") from exc

    def get_product(product_id: str) -> Response:
        with shop.lock:
            return _json(wcjson.product(product_record(int(product_id), None), base()))

    def put_product(product_id: str) -> Response:
        payload = _body()
        with shop.lock:
            record = product_record(int(product_id), None)
            update_product_fields(record, payload)
            return _json(wcjson.product(record, base()))

    def batch(parent: int | None) -> Response:
        payload = _body()
        updates = payload.get("update") or []
        count = sum(len(payload.get(k) or []) for k in ("create", "update", "delete"))
        if count > 100:
            raise ShopError(
                "woocommerce_rest_request_entity_too_large",
                "Unable to accept more than 100 items for this request.",
                413,
            )
        answered = []
        with shop.lock:
            for item in updates:
                try:
                    record = product_record(int(item.get("id", 0)), parent)
                    update_product_fields(record, item)
                    answered.append(wcjson.product(record, base()))
                except ShopError as exc:
                    answered.append(
                        {
                            "id": item.get("id", 0),
                            "error": {
                                "code": exc.code,
                                "message": exc.message,
                                "data": {"status": exc.status},
                            },
                        }
                    )
        return _json({"update": answered})

    route(r"products", GET=lambda: product_list(None))
    route(r"products/batch", POST=lambda: batch(None))
    route(r"products/(\d+)", GET=get_product, PUT=put_product, PATCH=put_product)
    route(r"products/(\d+)/variations", GET=lambda pid: product_list(int(pid)))
    route(r"products/(\d+)/variations/batch", POST=lambda pid: batch(int(pid)))

    def get_variation(product_id: str, variation_id: str) -> Response:
        with shop.lock:
            record = product_record(int(variation_id), int(product_id))
            return _json(wcjson.product(record, base()))

    def put_variation(product_id: str, variation_id: str) -> Response:
        payload = _body()
        with shop.lock:
            record = product_record(int(variation_id), int(product_id))
            update_product_fields(record, payload)
            return _json(wcjson.product(record, base()))

    route(
        r"products/(\d+)/variations/(\d+)",
        GET=get_variation,
        PUT=put_variation,
        PATCH=put_variation,
    )

    # Customers, taxes, settings ---------------------------------------------------------------

    def list_customers() -> Response:
        with shop.lock:
            records = sorted(shop.customers.values(), key=lambda c: c["id"])
            email = request.args.get("email")
            if email:
                records = [c for c in records if c["email"] == email]
            chunk, headers = _paginate(records, request.args, request.base_url)
            return _json([wcjson.customer(c, base()) for c in chunk], headers=headers)

    def get_customer(customer_id: str) -> Response:
        with shop.lock:
            data = shop.customers.get(int(customer_id))
            if data is None:
                raise ShopError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
            return _json(wcjson.customer(data, base()))

    route(r"customers", GET=list_customers)
    route(r"customers/(\d+)", GET=get_customer)

    def list_taxes() -> Response:
        wanted = request.args.get("class")
        today = shop.now().astimezone(SITE_TZ).date()
        # The table as it stands today: the owner replaced the 12 % food rate on 2026-04-01.
        rows = [
            r
            for r in shop.rates
            if (not wanted or r.rest_class == wanted)
            and (r.valid_from is None or r.valid_from <= today)
            and (r.valid_to is None or today <= r.valid_to)
        ]
        chunk, headers = _paginate(rows, request.args, request.base_url)
        return _json([wcjson.tax_rate(r) for r in chunk], headers=headers)

    settings = {
        ("general", "woocommerce_default_country"): "SE",
        ("general", "woocommerce_currency"): "SEK",
        ("general", "woocommerce_price_num_decimals"): "2",
        ("tax", "woocommerce_prices_include_tax"): "yes",
        ("tax", "woocommerce_tax_round_at_subtotal"): "no",
        ("tax", "woocommerce_tax_based_on"): "shipping",
        ("tax", "woocommerce_shipping_tax_class"): "inherit",
    }

    def get_setting(group: str, setting_id: str) -> Response:
        value = settings.get((group, setting_id))
        if value is None:
            raise ShopError("rest_setting_setting_invalid", "Invalid setting.", 404)
        return _json({"id": setting_id, "value": value, "group_id": group})

    route(r"taxes", GET=list_taxes)
    route(r"settings/([a-z_-]+)/([a-z0-9_-]+)", GET=get_setting)

    # Webhooks ---------------------------------------------------------------------------------

    def list_webhooks() -> Response:
        status = request.args.get("status", "all")
        if status not in ("all", "active", "paused", "disabled"):
            raise _invalid("status", "status is not one of all, active, paused, disabled.")
        with shop.lock:
            records = [w for w in shop.webhooks.values() if status in ("all", w.status)]
            records = _sort(
                records,
                request.args,
                {
                    "date": lambda w: (w.created, w.id),
                    "id": lambda w: w.id,
                    "title": lambda w: w.name,
                    "include": lambda w: w.id,
                },
                "date",
            )
            chunk, headers = _paginate(records, request.args, request.base_url)
            return _json([wcjson.webhook(w, base()) for w in chunk], headers=headers)

    def create_webhook() -> Response:
        record = shop.create_webhook(_body())
        sandbox.deliverer.ping(record)
        return _json(
            wcjson.webhook(record, base()), 201, {"Location": f"{request.base_url}/{record.id}"}
        )

    def get_webhook(webhook_id: str) -> Response:
        with shop.lock:
            return _json(wcjson.webhook(shop.webhook(int(webhook_id)), base()))

    def put_webhook(webhook_id: str) -> Response:
        record = shop.update_webhook(int(webhook_id), _body())
        return _json(wcjson.webhook(record, base()))

    def delete_webhook(webhook_id: str) -> Response:
        if not _bool_param(request.args, "force"):
            raise ShopError(
                "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
            )
        with shop.lock:
            record = shop.webhook(int(webhook_id))
            del shop.webhooks[record.id]
            return _json(wcjson.webhook(record, base()))

    route(r"webhooks", GET=list_webhooks, POST=create_webhook)
    route(
        r"webhooks/(\d+)",
        GET=get_webhook,
        PUT=put_webhook,
        PATCH=put_webhook,
        POST=put_webhook,
        DELETE=delete_webhook,
    )

    # Dispatch ---------------------------------------------------------------------------------

    def dispatch(path: str) -> Response:
        knobs = sandbox.knobs
        if knobs.latency_ms:
            time.sleep(knobs.latency_ms / 1000)
        try:
            if sandbox.take_forced_failure():
                return Response(
                    "<html><body><h1>503 Service Unavailable</h1></body></html>",
                    503,
                    {"Retry-After": "0", "Content-Type": "text/html"},
                )
            if knobs.error_rate and sandbox.chance(knobs.error_rate):
                if sandbox.chance(0.5):
                    return Response(
                        "<html><body><h1>503 Service Unavailable</h1></body></html>",
                        503,
                        {"Retry-After": "1", "Content-Type": "text/html"},
                    )
                raise ShopError(
                    "internal_server_error",
                    "There has been a critical error on this website.",
                    500,
                )
            handlers: dict[str, Handler] | None = None
            match = None
            for pattern, candidates in routes:
                match = pattern.match(path.strip("/"))
                if match:
                    handlers = candidates
                    break
            method = request.method
            if handlers is None or match is None or method not in handlers:
                raise ShopError(
                    "rest_no_route", "No route was found matching the URL and request method.", 404
                )
            key = sandbox.authenticator.authenticate(request)
            if key is None:
                listing = path.strip("/").count("/") % 2 == 0
                if method in ("GET", "HEAD"):
                    message = (
                        "Sorry, you cannot list resources."
                        if listing
                        else "Sorry, you cannot view this resource."
                    )
                    raise ShopError("woocommerce_rest_cannot_view", message, 401)
                raise ShopError(
                    "woocommerce_rest_cannot_create",
                    "Sorry, you are not allowed to create resources.",
                    401,
                )
            response = handlers[method](*match.groups())
            fields = request.args.get("_fields")
            if fields and response.status_code < 300 and response.mimetype == "application/json":
                response.set_data(wcjson.php_json(_fields(json.loads(response.get_data()), fields)))
            return response
        except ShopError as exc:
            return _error(exc)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]

    @app.route(f"{API_PREFIX}/<path:path>", methods=methods)
    def api(path: str) -> Response:
        return dispatch(path)

    @app.route("/", methods=methods)
    def root() -> Response:
        rest_route = request.args.get("rest_route", "")
        if rest_route.startswith("/wc/v3/"):
            return dispatch(rest_route[len("/wc/v3/") :])
        return _json({"name": "Kaffekompaniet (ledgerbridge WooCommerce sandbox)", "url": base()})

    _admin_routes(app, sandbox)
    return app


def _create_order_from_rest(shop: Shop, payload: dict[str, Any]) -> OrderRecord:
    billing = payload.get("billing") or {}
    if not isinstance(billing, dict):
        raise _invalid("billing", "billing is not of type object.")
    meta = {
        m.get("key"): m.get("value") for m in payload.get("meta_data") or [] if isinstance(m, dict)
    }
    buyer = Buyer(
        first_name=str(billing.get("first_name", "")),
        last_name=str(billing.get("last_name", "")),
        email=str(billing.get("email", "")),
        address_1=str(billing.get("address_1", "")),
        postcode=str(billing.get("postcode", "")),
        city=str(billing.get("city", "")),
        country=str(billing.get("country") or "SE").upper(),
        phone=str(billing.get("phone", "")),
        company=str(billing.get("company", "")),
        vat_number=str(meta.pop("_billing_vat_number", "") or ""),
        org_number=str(meta.pop("_billing_org_nr", "") or ""),
        registered=False,
        currency=str(payload.get("currency") or "SEK").upper(),
    )
    items = []
    for item in payload.get("line_items") or []:
        if not isinstance(item, dict) or not (item.get("product_id") or item.get("variation_id")):
            raise ShopError(
                "woocommerce_rest_required_product_reference",
                "Product ID or SKU is required.",
                400,
            )
        product = shop.product(int(item.get("product_id") or 0), int(item.get("variation_id") or 0))
        items.append((product, int(item.get("quantity") or 1)))
    shipping = None
    for line in payload.get("shipping_lines") or []:
        shipping = shipping_method(str(line.get("method_id", "")), str(line.get("instance_id", "")))
        if shipping is None:
            raise _invalid("shipping_lines", "Unknown shipping method.")
    fees = []
    for fee in payload.get("fee_lines") or []:
        try:
            amount = Decimal(str(fee.get("total")))
        except InvalidOperation as exc:
            raise _invalid("fee_lines", "fee total is not a number.") from exc
        fees.append(
            FeeRequest(str(fee.get("name", "Avgift")), amount, fee.get("tax_status") != "none")
        )
    coupons = [coupon(str(c.get("code", ""))) for c in payload.get("coupon_lines") or []]
    status = str(payload.get("status") or "pending")
    if payload.get("set_paid") and status == "pending":
        status = "processing"
    record = shop.create_order(
        buyer=buyer,
        items=items,
        status=status,
        created=shop.now(),
        shipping=shipping,
        fees=fees,
        coupons=coupons,
        payment_method=str(payload.get("payment_method", "")),
        payment_method_title=str(payload.get("payment_method_title", "")),
        transaction_id=str(payload.get("transaction_id", "")),
        customer_note=str(payload.get("customer_note", "")),
        created_via="rest-api",
        extra_meta=list(meta.items()),
    )
    return record


# ---------------------------------------------------------------------------------------------
# Admin API (for tests and demos; no authentication, bind it to loopback)
# ---------------------------------------------------------------------------------------------


def _admin_routes(app: Flask, sandbox: Sandbox) -> None:
    shop = sandbox.shop

    def admin_error(message: str, status: int = 400) -> Response:
        return _json(
            {"code": "sandbox_error", "message": message, "data": {"status": status}}, status
        )

    @app.get("/_sandbox", strict_slashes=False)
    @app.get("/_sandbox/")
    def admin_state() -> Response:
        with shop.lock:
            return _json(
                {
                    "knobs": sandbox.knobs.as_dict(),
                    "orders": len(shop.orders),
                    "products": len(shop.products),
                    "customers": len(shop.customers),
                    "webhooks": [
                        {
                            "id": w.id,
                            "topic": w.topic,
                            "delivery_url": w.delivery_url,
                            "status": w.status,
                            "failure_count": w.failure_count,
                            "secret": w.secret,
                        }
                        for w in shop.webhooks.values()
                    ],
                    "now": shop.now().isoformat(),
                }
            )

    @app.post("/_sandbox/knobs")
    def admin_knobs() -> Response:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return admin_error("Send the knobs as a JSON object.")
        try:
            sandbox.knobs.update(data)
        except (TypeError, ValueError) as exc:
            return admin_error(str(exc))
        return _json(sandbox.knobs.as_dict())

    @app.post("/_sandbox/reset")
    def admin_reset() -> Response:
        data = request.get_json(silent=True) or {}
        sandbox.deliverer.clear()
        shop.reset()
        ids: list[int] = []
        if data.get("seed", True):
            ids = run_seeder(shop, int(data.get("orders", 60)), int(data.get("random_seed", 2026)))
        return _json({"orders": ids})

    @app.post("/_sandbox/seed")
    def admin_seed() -> Response:
        data = request.get_json(silent=True) or {}
        try:
            count = int(data.get("orders", 10))
            seed_value = int(data.get("random_seed", 2026))
        except (TypeError, ValueError):
            return admin_error("orders and random_seed must be whole numbers.")
        if not 0 < count <= 5000:
            return admin_error("orders must be between 1 and 5000.")
        return _json({"orders": run_seeder(shop, count, seed_value)}, 201)

    @app.post("/_sandbox/orders/<int:order_id>/touch")
    def admin_touch(order_id: int) -> Response:
        try:
            record = shop.touch(order_id)
        except ShopError as exc:
            return _error(exc)
        return _json({"id": order_id, "date_modified_gmt": wcjson.gmt(record.modified)})

    @app.post("/_sandbox/orders/<int:order_id>/restore")
    def admin_restore(order_id: int) -> Response:
        try:
            record = shop.restore_order(order_id)
        except ShopError as exc:
            return _error(exc)
        return _json({"id": order_id, "status": record.data["status"]})

    @app.get("/_sandbox/deliveries")
    def admin_deliveries() -> Response:
        wait = request.args.get("wait")
        if wait:
            sandbox.deliverer.wait_idle(min(float(wait), 30.0))
        return _json([entry.__dict__ for entry in sandbox.deliverer.log])

    @app.delete("/_sandbox/deliveries")
    def admin_clear_deliveries() -> Response:
        sandbox.deliverer.clear()
        return _json([])
