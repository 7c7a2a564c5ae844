"""Writing the export result back to the shop: a private order note and a status meta field.

The note is plain text for shop staff ("Bokförd i Fortnox som faktura 1234", or the error in
plain words); the meta field ``_ledgerbridge_status`` holds the machine-readable ``status`` as
JSON, so other plugins (and a later run) can read it. Both are private: the customer never sees
them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ledgerbridge.errors import DataError
from ledgerbridge.masking import scrub
from ledgerbridge_woocommerce.client import WooClient

STATUS_META_KEY = "_ledgerbridge_status"
MAX_NOTE_CHARS = 2000


def add_order_note(client: WooClient, order_id: str, note: str, status: Mapping[str, str]) -> None:
    """Add a private note to the order and store ``status`` in its ``_ledgerbridge_status``."""
    if not str(order_id).isdigit():
        raise DataError(f"{order_id!r} is not a WooCommerce order id.")
    text = scrub(note.strip())[:MAX_NOTE_CHARS]
    if not text:
        raise DataError("An order note needs some text.")
    client.send("POST", f"orders/{order_id}/notes", {"note": text, "customer_note": False})
    value = json.dumps(dict(status), ensure_ascii=False, sort_keys=True)
    client.send(
        "PUT", f"orders/{order_id}", {"meta_data": [{"key": STATUS_META_KEY, "value": value}]}
    )
