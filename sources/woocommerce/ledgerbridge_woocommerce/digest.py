"""A digest of what in a WooCommerce order matters to the books.

The same for an order fetched with ``GET /orders/{id}`` and for a webhook's payload of the same
state, so a webhook that only announces our own write-back (WooCommerce announces every change
to the order, including the status meta we write) can be recognised without fetching the order.
Left out: the modification dates, our own meta (:data:`~ledgerbridge_woocommerce.writeback.
STATUS_META_KEY`), the ``_links`` of the REST answer and the keys ``fetch_order`` adds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ledgerbridge_woocommerce.normalize import PRODUCTS_KEY, REFUNDS_KEY
from ledgerbridge_woocommerce.writeback import STATUS_META_KEY

#: Top-level keys that change without the order changing for the books.
IGNORED_KEYS = frozenset(
    {"date_modified", "date_modified_gmt", "_links", REFUNDS_KEY, PRODUCTS_KEY}
)


def order_digest(raw: Mapping[str, Any]) -> str:
    """A hex SHA-256 of the order without what only bookkeeping tools (us included) change."""
    kept = {key: value for key, value in raw.items() if key not in IGNORED_KEYS}
    meta = kept.get("meta_data")
    if isinstance(meta, list):
        kept["meta_data"] = [
            entry
            for entry in meta
            if not (isinstance(entry, Mapping) and entry.get("key") == STATUS_META_KEY)
        ]
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
