"""The SEK rate of an order in a foreign currency.

Providers, in order: plugins (``ledgerbridge_currency_rate``), the route's manual rate
(``manual_rates``), the target's currency table. No rate is a data error: booking a foreign
amount at a guessed rate would put wrong figures in the VAT return.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.plugins.facade import Hooks

BASE_CURRENCY = "SEK"


def sek_rate(currency: str, on: date, route: RouteContext, hooks: Hooks) -> Decimal:
    """SEK per one unit of ``currency`` on ``on`` (1 for SEK); ``DataError`` when unknown."""
    code = currency.strip().upper()
    if code == BASE_CURRENCY:
        return Decimal(1)
    rate = hooks.currency_rate(code, on, route)
    if rate is None:
        raise DataError(
            f"No SEK rate for {code} on {on.isoformat()}: set a manual rate for {code} on the "
            "route (manual_rates), connect a ledger whose currency table has it, or install a "
            "rate-provider plugin."
        )
    if not rate.is_finite() or rate <= 0:
        raise DataError(
            f"The SEK rate for {code} on {on.isoformat()} is {rate}, not a positive number."
        )
    return rate
