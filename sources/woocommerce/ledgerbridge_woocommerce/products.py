"""Products and variations: goods/services classification, the catalogue, stock write-back.

WooCommerce keeps ``virtual``/``downloadable`` on the product (the variation, for variable
products), not on the order line (reference §7.4), so :func:`classify_products` looks the
line's products up once per order and caches the answer for an hour per site.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from ledgerbridge.errors import DataError, NotFound
from ledgerbridge.model import ItemKind, Product, StockLevel
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.payloads import PRODUCT, validation_message

CLASSIFY_FIELDS = "id,parent_id,type,virtual,downloadable"
CACHE_TTL = 3600.0
BATCH_LIMIT = 100


def _cache_key(client: WooClient, product_id: int) -> str:
    return f"woocommerce:{client.site.key}:product-kind:{product_id}"


def classify_products(
    client: WooClient, line_items: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, bool]]:
    """``{product or variation id: {"found", "virtual", "downloadable"}}`` for these lines."""
    cache = client.site.services.cache
    result: dict[str, dict[str, bool]] = {}
    simple: set[int] = set()
    variations: dict[int, set[int]] = {}
    for item in line_items:
        product_id = int(item.get("product_id") or 0)
        variation_id = int(item.get("variation_id") or 0)
        wanted = variation_id or product_id
        if not wanted:
            continue
        cached = cache.get(_cache_key(client, wanted))
        if cached is not None:
            result[str(wanted)] = cached
        elif variation_id:
            variations.setdefault(product_id, set()).add(variation_id)
        else:
            simple.add(product_id)
    fetched: list[dict[str, Any]] = []
    if simple:
        fetched += client.get(
            "products", include=sorted(simple), per_page=100, _fields=CLASSIFY_FIELDS
        )
    for parent, ids in variations.items():
        try:
            fetched += client.get(
                f"products/{parent}/variations",
                include=sorted(ids),
                per_page=100,
                _fields=CLASSIFY_FIELDS,
            )
        except NotFound:
            continue  # the parent product is gone: its variations are reported missing below
    found = {int(entry["id"]): entry for entry in fetched if isinstance(entry, Mapping)}
    for wanted in simple | {v for ids in variations.values() for v in ids}:
        entry = found.get(wanted)
        info = (
            {
                "found": True,
                "virtual": bool(entry.get("virtual")),
                "downloadable": bool(entry.get("downloadable")),
            }
            if entry is not None
            else {"found": False, "virtual": False, "downloadable": False}
        )
        cache.set(_cache_key(client, wanted), info, CACHE_TTL)
        result[str(wanted)] = info
    return result


def _load(raw: Any) -> dict[str, Any]:
    try:
        return PRODUCT.load(raw)
    except (ValidationError, TypeError) as exc:
        what = f"WooCommerce product {raw.get('id', '?') if isinstance(raw, Mapping) else '?'}"
        message = (
            validation_message(exc, what) if isinstance(exc, ValidationError) else f"{what}: bad"
        )
        raise DataError(message) from exc


def _quantity(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return Decimal(str(value))


def _manages_stock(value: Any) -> bool:
    return value is True or value == "parent"


def tax_rates_by_class(client: WooClient) -> dict[str, Decimal]:
    """The store's VAT rate (percent) per tax class in its base country."""
    setting = client.get("settings/general/woocommerce_default_country")
    country = str(setting.get("value") or "").split(":")[0].upper()
    rates: dict[str, Decimal] = {}
    for rate in client.items("taxes"):
        rate_class = "" if rate.get("class") in ("standard", None) else str(rate["class"])
        if str(rate.get("country") or "").upper() in (country, ""):
            rates.setdefault(rate_class, Decimal(str(rate.get("rate") or "0")).normalize() + 0)
    return rates


def _product(
    data: Mapping[str, Any], rates: Mapping[str, Decimal], include_tax: bool, parent: str = ""
) -> Product:
    tax_class = data["tax_class"]
    if data["tax_status"] == "none":
        rate = Decimal(0)
    else:
        rate = rates.get(tax_class, rates.get("", Decimal(0)))
    weight = data["weight"].strip()
    return Product(
        id=str(data["id"]),
        sku=data["sku"],
        name=data["name"],
        price=data["regular_price"] or data["price"],
        vat_rate=rate,
        prices_include_tax=include_tax,
        kind=ItemKind.SERVICE if data["virtual"] else ItemKind.GOODS,
        parent_id=parent,
        stock_quantity=_quantity(data["stock_quantity"]),
        manage_stock=_manages_stock(data["manage_stock"]),
        weight=Decimal(weight) if weight.replace(".", "", 1).isdigit() else None,
        meta={"type": data["type"], "status": data["status"]},
    )


def iter_products(client: WooClient) -> Iterator[Product]:
    """Every product, and every variation of variable products, streamed page by page."""
    rates = tax_rates_by_class(client)
    setting = client.get("settings/tax/woocommerce_prices_include_tax")
    include_tax = str(setting.get("value")) == "yes"
    for raw in client.items("products", status="any", orderby="id", order="asc"):
        data = _load(raw)
        if data["type"] == "variable":
            parent_rates = {**rates}
            for raw_variation in client.items(
                f"products/{data['id']}/variations", orderby="id", order="asc"
            ):
                variation = _load(raw_variation)
                if variation["tax_class"] == "parent":
                    variation["tax_class"] = data["tax_class"]
                yield _product(variation, parent_rates, include_tax, parent=str(data["id"]))
        elif data["type"] not in ("grouped", "external"):
            yield _product(data, rates, include_tax)


def update_stock(client: WooClient, levels: list[StockLevel]) -> int:
    """Set stock by SKU; only products whose stock is managed and differs are written."""
    wanted = {level.sku: level.quantity for level in levels if level.sku}
    if not wanted:
        return 0
    simple_updates: list[dict[str, Any]] = []
    variation_updates: dict[int, list[dict[str, Any]]] = {}
    fields = "id,sku,type,manage_stock,stock_quantity"
    for raw in client.items("products", status="any", _fields=fields):
        if raw.get("type") == "variable":
            for variation in client.items(f"products/{raw['id']}/variations", _fields=fields):
                change = _stock_change(variation, wanted)
                if change:
                    variation_updates.setdefault(int(raw["id"]), []).append(change)
        else:
            change = _stock_change(raw, wanted)
            if change:
                simple_updates.append(change)
    for start in range(0, len(simple_updates), BATCH_LIMIT):
        _batch(client, "products/batch", simple_updates[start : start + BATCH_LIMIT])
    for parent, updates in variation_updates.items():
        for start in range(0, len(updates), BATCH_LIMIT):
            _batch(
                client, f"products/{parent}/variations/batch", updates[start : start + BATCH_LIMIT]
            )
    return len(simple_updates) + sum(len(updates) for updates in variation_updates.values())


def _stock_change(raw: Mapping[str, Any], wanted: Mapping[str, Decimal]) -> dict[str, Any] | None:
    sku = str(raw.get("sku") or "")
    if sku not in wanted or raw.get("manage_stock") is not True:
        return None
    target = wanted[sku]
    if target != target.to_integral_value():
        raise DataError(f"Stock for {sku} is {target}; WooCommerce keeps whole numbers of items.")
    current = _quantity(raw.get("stock_quantity"))
    if current is not None and current == target:
        return None
    return {"id": int(raw["id"]), "stock_quantity": int(target)}


def _batch(client: WooClient, path: str, updates: list[dict[str, Any]]) -> None:
    answer = client.send("POST", path, {"update": updates})
    failures = [
        item
        for item in (answer or {}).get("update", [])
        if isinstance(item, Mapping) and "error" in item
    ]
    if failures:
        error = failures[0]["error"]
        raise DataError(
            f"The store refused a stock update for product {failures[0].get('id')}: "
            f"{error.get('message', error)}"
        )
