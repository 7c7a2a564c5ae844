"""The core's own hook implementations: identity filters and the manual currency rate.

They run last (``trylast``), so any plugin's implementation or wrapper comes first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.plugins.markers import hookimpl


@hookimpl(trylast=True)
def ledgerbridge_order_received(order: Any) -> Any:
    """The order as received."""
    return order


@hookimpl(trylast=True)
def ledgerbridge_document_built(document: Any) -> Any:
    """The document as built."""
    return document


@hookimpl(trylast=True)
def ledgerbridge_customer_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The customer payload as the target built it."""
    return payload


@hookimpl(trylast=True)
def ledgerbridge_document_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The document payload as the target built it."""
    return payload


@hookimpl(trylast=True)
def ledgerbridge_row_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The row payload as the target built it."""
    return payload


@hookimpl(trylast=True)
def ledgerbridge_currency_rate(currency: str, on_date: date, route: Any) -> Decimal | None:
    """The route's manual rate for ``currency``, if one is set."""
    rate = route.settings.manual_rates.get(currency.upper())
    return Decimal(rate) if rate is not None else None
