"""marshmallow fields shared by every schema in ledgerbridge (money, rates, aware datetimes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields

from ledgerbridge.money import MoneyError, to_decimal


class Amount(fields.Field):
    """A Decimal amount serialized as a string; floats are refused on load.

    ``places`` (when set) rejects values with more decimals than allowed, so an amount that
    should already be in öre cannot smuggle in a fraction.
    """

    default_error_messages = {
        "invalid": "Not a valid amount: {detail}",
        "places": "Amount {value} has more than {places} decimals.",
    }

    def __init__(self, *, places: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.places = places

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        decimal = to_decimal(value)
        if self.places is not None:
            return f"{decimal:.{self.places}f}"
        return format(decimal, "f")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            decimal = to_decimal(value, field=attr or "amount")
        except MoneyError as exc:
            raise self.make_error("invalid", detail=str(exc)) from exc
        if self.places is not None:
            exponent = decimal.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > self.places:
                normalized = decimal.normalize()
                exponent = normalized.as_tuple().exponent
                if isinstance(exponent, int) and -exponent > self.places:
                    raise self.make_error("places", value=value, places=self.places)
        return decimal


class Money(Amount):
    """An amount in öre/cent: at most two decimals."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(places=2, **kwargs)


class Rate(Amount):
    """A VAT rate in percent (``"25"``, ``"6"``, ``"4.5"``); must be between 0 and 100."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        rate = super()._deserialize(value, attr, data, **kwargs)
        if rate < 0 or rate > 100:
            raise ValidationError(f"VAT rate {rate} is not between 0 and 100.")
        return rate

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return format(to_decimal(value).normalize(), "f")


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime that must carry a time zone."""


class StringMap(fields.Dict):
    """A flat ``{str: str}`` mapping (meta data)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)
