"""The built-in implementation of the Fortnox connector's own hooks (they run last)."""

from __future__ import annotations

from typing import Any

from ledgerbridge import hookimpl


@hookimpl(trylast=True)
def ledgerbridge_fortnox_invoice_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The row payload as the connector built it."""
    return payload
