"""VAT rates as date-effective data: Sweden's rates and the EU member states' standard rates.

Rates are never computed from these tables: the shop's own tax lines say what the customer
paid. The tables are used to *check* those tax lines (a Swedish order at 19 % is a data error,
an OSS order above the destination's standard rate is a data error) and to warn about the
temporary Swedish food rate.

Sources: docs/accounting.md (copied from the project's research notes,
``swedish-accounting.md`` §1.1-1.2 and §5.4, which cite the EU TEDB-derived data set
vatnode/eu-vat-rates-data version 2026-09-23). Re-check every quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

#: Swedish VAT rates that exist on every date (normal, the two reduced rates, zero).
SWEDISH_RATES: frozenset[Decimal] = frozenset(Decimal(rate) for rate in ("25", "12", "6", "0"))


@dataclass(frozen=True, slots=True)
class FoodRatePeriod:
    """The Swedish VAT rate on food (livsmedel) from ``start`` up to and including ``end``."""

    start: date
    end: date | None
    rate: Decimal


#: Food VAT in Sweden by date: 12 %, then the temporary cut to 6 % (prop. 2025/26:55), then
#: 12 % again unless a new law says otherwise.
FOOD_RATE_PERIODS: tuple[FoodRatePeriod, ...] = (
    FoodRatePeriod(date(1996, 1, 1), date(2026, 3, 31), Decimal("12")),
    FoodRatePeriod(date(2026, 4, 1), date(2027, 12, 31), Decimal("6")),
    FoodRatePeriod(date(2028, 1, 1), None, Decimal("12")),
)


def swedish_food_rate(on: date) -> Decimal:
    """The Swedish VAT rate on food on ``on``."""
    for period in FOOD_RATE_PERIODS:
        if period.start <= on and (period.end is None or on <= period.end):
            return period.rate
    return FOOD_RATE_PERIODS[0].rate


def is_swedish_rate(rate: Decimal) -> bool:
    """Whether ``rate`` (percent) is one of the Swedish VAT rates."""
    return rate in SWEDISH_RATES


#: EU standard VAT rates with the date each took effect (newest last per country). Only the
#: changes since 2023 are kept; the first entry of a country applies to every earlier date.
EU_STANDARD_RATE_HISTORY: dict[str, tuple[tuple[date, Decimal], ...]] = {
    "AT": ((date(2023, 1, 1), Decimal("20")),),
    "BE": ((date(2023, 1, 1), Decimal("21")),),
    "BG": ((date(2023, 1, 1), Decimal("20")),),
    "HR": ((date(2023, 1, 1), Decimal("25")),),
    "CY": ((date(2023, 1, 1), Decimal("19")),),
    "CZ": ((date(2023, 1, 1), Decimal("21")),),
    "DK": ((date(2023, 1, 1), Decimal("25")),),
    "EE": (
        (date(2023, 1, 1), Decimal("20")),
        (date(2024, 1, 1), Decimal("22")),
        (date(2025, 7, 1), Decimal("24")),
    ),
    "FI": ((date(2023, 1, 1), Decimal("24")), (date(2024, 9, 1), Decimal("25.5"))),
    "FR": ((date(2023, 1, 1), Decimal("20")),),
    "DE": ((date(2023, 1, 1), Decimal("19")),),
    "GR": ((date(2023, 1, 1), Decimal("24")),),
    "HU": ((date(2023, 1, 1), Decimal("27")),),
    "IE": ((date(2023, 1, 1), Decimal("23")),),
    "IT": ((date(2023, 1, 1), Decimal("22")),),
    "LV": ((date(2023, 1, 1), Decimal("21")),),
    "LT": ((date(2023, 1, 1), Decimal("21")),),
    "LU": (
        (date(2023, 1, 1), Decimal("16")),
        (date(2024, 1, 1), Decimal("17")),
    ),
    "MT": ((date(2023, 1, 1), Decimal("18")),),
    "NL": ((date(2023, 1, 1), Decimal("21")),),
    "PL": ((date(2023, 1, 1), Decimal("23")),),
    "PT": ((date(2023, 1, 1), Decimal("23")),),
    "RO": ((date(2023, 1, 1), Decimal("19")), (date(2025, 8, 1), Decimal("21"))),
    "SK": ((date(2023, 1, 1), Decimal("20")), (date(2025, 1, 1), Decimal("23"))),
    "SI": ((date(2023, 1, 1), Decimal("22")),),
    "ES": ((date(2023, 1, 1), Decimal("21")),),
    "SE": ((date(2023, 1, 1), Decimal("25")),),
}

#: The 27 member states (ISO 3166-1 alpha-2; Greece is ``GR`` here, ``EL`` in VAT numbers).
EU_COUNTRIES: frozenset[str] = frozenset(EU_STANDARD_RATE_HISTORY)

#: Country prefixes of VAT numbers that differ from the ISO code.
VAT_PREFIX_TO_COUNTRY: dict[str, str] = {"EL": "GR"}


def eu_standard_rate(country: str, on: date) -> Decimal | None:
    """The standard VAT rate of EU member ``country`` on ``on``; None outside the EU."""
    history = EU_STANDARD_RATE_HISTORY.get(VAT_PREFIX_TO_COUNTRY.get(country, country))
    if history is None:
        return None
    rate = history[0][1]
    for start, value in history:
        if start <= on:
            rate = value
    return rate


def is_eu_country(country: str) -> bool:
    """Whether ``country`` (ISO alpha-2, or ``EL``) is an EU member state."""
    return VAT_PREFIX_TO_COUNTRY.get(country, country) in EU_COUNTRIES
