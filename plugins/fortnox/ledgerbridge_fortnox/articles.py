"""Articles: shop products synced to Fortnox, and stock read back for the shop.

The article number is the SKU made Fortnox-safe (Swedish letters and ``/`` are kept; ``/`` is
percent-encoded in URLs), or ``WC-<id>`` for a product without a usable SKU. Fortnox keeps
the sales price in a price list, not on the article, so the price is written to the route's
price list (net of VAT, from quantity 0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import DataError, NotFound
from ledgerbridge.model import ItemKind, Product, StockLevel
from ledgerbridge.money import HUNDRED, quantize
from ledgerbridge_fortnox.client import FortnoxClient, segment
from ledgerbridge_fortnox.reference import reference_data
from ledgerbridge_fortnox.settings import load_route_options
from ledgerbridge_fortnox.text import article_number, clean, generated_article_number

#: BAS sales accounts per VAT rate, for goods and for services (Fortnox per-article accounts).
GOODS_ACCOUNTS = {"25": 3001, "12": 3002, "6": 3003, "0": 3004}
SERVICE_ACCOUNTS = {"25": 3041, "12": 3042, "6": 3043, "0": 3044}


def product_article_number(product: Product) -> str:
    """The Fortnox article number for a product."""
    return article_number(product.sku) or generated_article_number(product.id, product.parent_id)


def article_payload(product: Product, route: RouteContext, units: set[str]) -> dict[str, Any]:
    """The article fields ledgerbridge owns for a product."""
    description = clean(product.name, "ArticleDescription")
    if not description:
        raise DataError(f"Product {product.id} has no name; a Fortnox article needs one.")
    service = product.kind is ItemKind.SERVICE
    rate = format(product.vat_rate.normalize(), "f")
    accounts = SERVICE_ACCOUNTS if service else GOODS_ACCOUNTS
    override = route.settings.accounts.get(f"sales_{rate}") or product.meta.get(
        "fortnox_sales_account", ""
    )
    payload: dict[str, Any] = {
        "Description": description,
        "Type": "SERVICE" if service else "STOCK",
        "StockGoods": bool(product.manage_stock) and not service,
        "WebshopArticle": True,
        "EUAccount": 3308 if service else 3108,
        "EUVATAccount": 3106,
        "ExportAccount": 3305 if service else 3105,
    }
    sales_account = int(override) if override else accounts.get(rate)
    if sales_account:
        payload["SalesAccount"] = sales_account
    if product.unit in units:
        payload["Unit"] = product.unit
    if product.weight is not None:
        payload["Weight"] = int(quantize(product.weight * 1000, Decimal("1")))  # kg -> g
    for key, field in (("width", "Width"), ("height", "Height"), ("length", "Depth")):
        value = product.dimensions.get(key)
        if value is not None:
            payload[field] = int(quantize(Decimal(value) * 10, Decimal("1")))  # cm -> mm
    return payload


def net_price(product: Product) -> Decimal:
    """The product's price excluding VAT, to the öre."""
    if product.prices_include_tax and product.vat_rate:
        return quantize(product.price * HUNDRED / (HUNDRED + product.vat_rate))
    return quantize(product.price)


def sync_product(client: FortnoxClient, route: RouteContext, product: Product) -> str:
    """Create or update the product's article and its price; return the article number."""
    options = load_route_options(route.target_settings)
    number = product_article_number(product)
    units = {item.code for item in reference_data(client, "units")}
    payload = article_payload(product, route, units)
    path = f"articles/{segment(number)}"
    try:
        client.get(path, what=f"reading article {number}")
    except NotFound:
        client.post(
            "articles",
            {"Article": {"ArticleNumber": number, **payload}},
            what="creating an article",
        )
    else:
        client.put(path, {"Article": payload}, what=f"updating article {number}")
    price = {
        "ArticleNumber": number,
        "PriceList": options.price_list,
        "FromQuantity": 0,
        "Price": net_price(product),
    }
    price_path = f"prices/{segment(options.price_list)}/{segment(number)}/0"
    try:
        client.get(price_path, what=f"reading the price of {number}")
    except NotFound:
        client.post("prices", {"Price": price}, what=f"setting the price of {number}")
    else:
        client.put(price_path, {"Price": price}, what=f"updating the price of {number}")
    return number


def ensure_articles(
    client: FortnoxClient, article_numbers: set[str], descriptions: dict[str, str]
) -> list[str]:
    """Create the missing articles named on document rows (as simple articles); the new ones."""
    created = []
    for number in sorted(article_numbers):
        try:
            client.get(f"articles/{segment(number)}", what=f"reading article {number}")
        except NotFound:
            description = clean(descriptions.get(number) or number, "ArticleDescription")
            client.post(
                "articles",
                {"Article": {"ArticleNumber": number, "Description": description}},
                what=f"creating article {number}",
            )
            created.append(number)
    return created


def stock_levels(client: FortnoxClient, skus: list[str] | None) -> list[StockLevel]:
    """Quantity in stock per article number (all articles when ``skus`` is None)."""
    if skus is None:
        return [
            StockLevel(
                sku=str(item["ArticleNumber"]),
                quantity=Decimal(str(item.get("QuantityInStock") or 0)),
            )
            for item in client.iterate(
                "articles", "Articles", {"filter": "active"}, what="reading stock"
            )
        ]
    levels = []
    for sku in skus:
        number = article_number(sku) or sku
        try:
            article = client.get(f"articles/{segment(number)}", what=f"reading stock of {number}")
        except NotFound:
            continue
        quantity = Decimal(str(article["Article"].get("QuantityInStock") or 0))
        levels.append(StockLevel(sku=sku, quantity=quantity))
    return levels


def changed_levels(ledger: LedgerContext, levels: list[StockLevel]) -> list[StockLevel]:
    """The levels that differ from the last ones handed to the shop (and remember these).

    Only Fortnox → shop changes are forwarded and the shop's own stock writes never go back to
    Fortnox, so a change cannot bounce between the two systems.
    """
    store = ledger.services.store
    changed = []
    for level in levels:
        key = f"fortnox:stock:{level.sku}"
        if store.get(key) != str(level.quantity):
            changed.append(level)
            store.set(key, str(level.quantity))
    return changed
