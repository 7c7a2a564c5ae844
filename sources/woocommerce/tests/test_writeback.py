"""Write-back: order notes with status meta, stock updates that write only differences, and the
product catalogue."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledgerbridge.errors import DataError, NotFound
from ledgerbridge.model import ItemKind, StockLevel
from ledgerbridge_woocommerce.connector import WooCommerceSource
from ledgerbridge_woocommerce.writeback import STATUS_META_KEY

SOURCE = WooCommerceSource()


def test_order_note_and_status_meta(shop, site):
    SOURCE.ledgerbridge_source_add_order_note(
        site=site,
        order_id="1001",
        note="Bokförd i Fortnox som faktura 1234",
        status={"state": "booked", "target": "fortnox", "document": "1234"},
    )
    record = shop.sandbox.shop.orders[1001]
    assert record.notes[0]["note"] == "Bokförd i Fortnox som faktura 1234"
    assert record.notes[0]["customer_note"] is False
    meta = {m["key"]: m["value"] for m in record.data["meta_data"]}
    assert json.loads(meta[STATUS_META_KEY]) == {
        "document": "1234",
        "state": "booked",
        "target": "fortnox",
    }
    SOURCE.ledgerbridge_source_add_order_note(
        site=site,
        order_id="1001",
        note="Kunde inte bokföras: kontot saknas",
        status={"state": "failed"},
    )
    keys = [m["key"] for m in record.data["meta_data"]]
    assert keys.count(STATUS_META_KEY) == 1  # replaced, not added again
    assert len(record.notes) == 2
    with pytest.raises(NotFound):
        SOURCE.ledgerbridge_source_add_order_note(site=site, order_id="999999", note="x", status={})
    with pytest.raises(DataError):
        SOURCE.ledgerbridge_source_add_order_note(site=site, order_id="1001", note=" ", status={})


def test_stock_updates_write_only_differences(shop, site):
    products = shop.sandbox.shop.products
    levels = [
        StockLevel(sku="KB-CLASSIC-BLK", quantity=Decimal(7)),
        StockLevel(sku="KAFFE-EKO-500-MORK", quantity=Decimal(99)),
        StockLevel(sku="TSHIRT-L", quantity=Decimal(products[452].stock_quantity)),  # unchanged
        StockLevel(sku="KURS-BARISTA", quantity=Decimal(3)),  # stock not managed: skipped
        StockLevel(sku="NO-SUCH-SKU", quantity=Decimal(1)),
    ]
    assert SOURCE.ledgerbridge_source_update_stock(site=site, levels=levels) == 2
    assert products[311].stock_quantity == 7
    assert products[415].stock_quantity == 99
    assert products[440].stock_quantity is None
    # The same levels again change nothing: no update loops.
    assert SOURCE.ledgerbridge_source_update_stock(site=site, levels=levels) == 0
    with pytest.raises(DataError, match="whole numbers"):
        SOURCE.ledgerbridge_source_update_stock(
            site=site, levels=[StockLevel(sku="TERMOS-1L", quantity=Decimal("1.5"))]
        )


def test_products_and_variations(shop, site):
    products = {p.sku: p for p in SOURCE.ledgerbridge_source_iter_products(site=site)}
    assert "KAFFE-EKO-500" not in products  # a variable parent is not sold itself
    coffee = products["KAFFE-EKO-500-MORK"]
    assert coffee.parent_id == "412"
    assert coffee.vat_rate == Decimal(6)  # the food rate in force now (from 2026-04-01)
    assert products["KB-CLASSIC-BLK"].vat_rate == Decimal(25)
    assert products["KB-CLASSIC-BLK"].price == Decimal("1249")
    assert products["BOK-FIKA"].vat_rate == Decimal(6)
    assert products["KURS-BARISTA"].kind is ItemKind.SERVICE
    assert products["KB-CLASSIC-BLK"].prices_include_tax is True
    assert products["TSHIRT-M"].stock_quantity == Decimal(30)
