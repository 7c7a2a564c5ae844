"""Money helpers: every amount is a ``Decimal``, quantized explicitly, never a float."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ORE = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


class MoneyError(ValueError):
    """A value that should be an amount of money is not one."""


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Return ``value`` as a finite Decimal; strings and ints only (floats are refused).

    A float reaching this function is a bug upstream: it has already lost precision.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise MoneyError(f"{field}: expected an amount, got a boolean")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if text == "":
            raise MoneyError(f"{field}: expected an amount, got an empty string")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"{field}: {value!r} is not a number") from exc
    else:
        raise MoneyError(f"{field}: expected an amount as a string, got {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a finite number")
    return result


def quantize(value: Decimal, exponent: Decimal = ORE) -> Decimal:
    """Round half-up to ``exponent`` (öre by default), the rounding Swedish VAT law prescribes."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def ore(value: object) -> Decimal:
    """Parse and round an amount to öre (two decimals, half-up)."""
    return quantize(to_decimal(value))


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum amounts, starting from 0.00 so an empty sum keeps two decimals."""
    total = ZERO
    for value in values:
        total += value
    return total


def vat_of_gross(gross: Decimal, rate_percent: Decimal) -> Decimal:
    """The VAT share of a VAT-inclusive amount at ``rate_percent``, rounded to öre."""
    return quantize(gross * rate_percent / (HUNDRED + rate_percent))


def vat_of_net(net: Decimal, rate_percent: Decimal) -> Decimal:
    """The VAT on a net amount at ``rate_percent``, rounded to öre."""
    return quantize(net * rate_percent / HUNDRED)


def format_amount(value: Decimal) -> str:
    """Two-decimal string for output (JSON, notes, UI)."""
    return f"{quantize(value):.2f}"
