"""Bokio's rules as the sandbox applies them: the ``query`` filter grammar, field validation
with JSON-pointer errors, and Bokio's invoice arithmetic.

Where the reference marks behaviour as inferred, the sandbox follows its recommendation and
says so here: ``&&`` binds tighter than ``||``; totals are the examples' net ``totalAmount``
plus separate ``totalTax``, rounded per line to öre; öresavrundning (whole kronor, on by
default, SEK only) changes the amount payable, not the VAT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel import Locale

ORE = Decimal("0.01")
TAX_RATES = frozenset({Decimal(0), Decimal(6), Decimal(12), Decimal(25)})
UNIT_TYPES = frozenset(
    [
        "unspecified",
        "piece",
        "hour",
        "day",
        "month",
        "kilogram",
        "gram",
        "liter",
        "meter",
        "centimeter",
        "millimeter",
        "meterSquared",
        "meterCubic",
        "mile",
        "kilometer",
        "gigabyte",
        "hectar",
        "words",
        "year",
        "week",
        "minute",
        "megabyte",
        "ton",
    ]
)
COUNTRIES = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
)
EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
VAT_ACCOUNTS = {Decimal(25): 2611, Decimal(12): 2621, Decimal(6): 2631}
_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,24}$")
_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|>=|<=|>|<|~)(.*)$")


def ore(value: Decimal) -> Decimal:
    """Half-up to öre."""
    return value.quantize(ORE, rounding=ROUND_HALF_UP)


def krona(value: Decimal) -> Decimal:
    """Half-up to whole kronor (öresavrundning), two decimals kept."""
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(ORE)


class FilterError(ValueError):
    """A ``query`` Bokio would refuse."""


def parse_query(query: str, fields: Mapping[str, str]) -> list[list[tuple[str, str, str]]]:
    """``a==1&&b~x||c>2`` → OR-groups of AND-terms, checked against the allowed fields."""
    groups = []
    for group in query.split("||"):
        terms = []
        for raw in group.split("&&"):
            match = _TERM.match(raw)
            if not match:
                raise FilterError(query)
            name, operator, value = match.group(1), match.group(2), match.group(3).strip()
            kind = fields.get(name) or (
                fields.get("metadata") if name.startswith("metadata.") else None
            )
            if kind is None or (operator == "~" and kind != "string"):
                raise FilterError(query)
            if kind == "string" and operator in (">", "<", ">=", "<="):
                raise FilterError(query)
            terms.append((name, operator, value))
        groups.append(terms)
    return groups


def _compare(actual: Any, operator: str, wanted: str, kind: str) -> bool:
    if actual is None:
        return operator == "!="
    if kind == "number":
        try:
            left, right = Decimal(str(actual)), Decimal(wanted)
        except InvalidOperation:
            return False
    elif kind == "date":
        left, right = str(actual)[: len(wanted)], wanted
    else:
        left, right = str(actual), wanted
    return {
        "==": left == right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
        "~": right in left if isinstance(left, str) else False,
    }[operator]


def matches(
    item: Mapping[str, Any], groups: list[list[tuple[str, str, str]]], fields: Mapping[str, str]
) -> bool:
    """Whether ``item`` satisfies the parsed query."""
    for terms in groups:
        ok = True
        for name, operator, value in terms:
            if name.startswith("metadata."):
                actual = (item.get("metadata") or {}).get(name.split(".", 1)[1])
                kind = "string"
            else:
                actual = item.get(name)
                if isinstance(actual, dict):
                    actual = actual.get("id")
                kind = fields[name]
            if not _compare(actual, operator, value, kind):
                ok = False
                break
        if ok:
            return True
    return False


class Problems:
    """Collects field errors (all at once, as Bokio does since 2025-07)."""

    def __init__(self, prefix: str = "#") -> None:
        self.prefix = prefix
        self.items: list[dict[str, str]] = []

    def add(self, pointer: str, message: str) -> None:
        """Record an error at ``pointer`` (relative, e.g. ``/lineItems/0/taxRate``)."""
        self.items.append({"field": f"{self.prefix}{pointer}", "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


def number(value: Any) -> Decimal | None:
    """A JSON number as Decimal; None for anything else (strings are refused, like Bokio)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def valid_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` string as a date, else None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check_address(
    address: Any, pointer: str, problems: Problems, *, subdivision: bool = False
) -> None:
    """Bokio's address rules: line1, city, postalCode and an ISO country (GB: subdivision)."""
    if address is None:
        return
    if not isinstance(address, dict):
        problems.add(pointer, "The address must be an object")
        return
    for name in ("line1", "city", "postalCode", "country"):
        if not address.get(name):
            problems.add(f"{pointer}/{name}", f"The {name} field is required")
    country = address.get("country")
    if country and country not in COUNTRIES:
        problems.add(f"{pointer}/country", f"Invalid country code: {country}")
    if subdivision and country == "GB" and not address.get("countrySubdivision"):
        problems.add(f"{pointer}/countrySubdivision", "The country subdivision is required for GB")


def check_metadata(metadata: Any, problems: Problems) -> None:
    """At most 10 string keys of ``[A-Za-z_][A-Za-z0-9_]*`` (≤ 25), values ≤ 250."""
    if metadata is None:
        return
    if not isinstance(metadata, dict) or len(metadata) > 10:
        problems.add("/metadata", "Metadata must be an object with at most 10 keys")
        return
    for key, value in metadata.items():
        if not _METADATA_KEY.match(str(key)):
            problems.add(f"/metadata/{key}", "Invalid metadata key")
        if not isinstance(value, str) or len(value) > 250:
            problems.add(f"/metadata/{key}", "Metadata values are strings of at most 250 chars")


def automatic_account(customer: Mapping[str, Any] | None, product_type: str, rate: Decimal) -> int:
    """The revenue account Bokio picks itself from product type, rate and customer."""
    services = product_type == "services"
    country = ((customer or {}).get("address") or {}).get("country") or "SE"
    company = (customer or {}).get("type") == "company"
    has_vat = bool((customer or {}).get("vatNumber"))
    if country != "SE" and country in EU:
        if company and has_vat:
            return 3308 if services else 3108
        if not company and not services:
            return 3106
    elif country != "SE":
        return 3305 if services else 3105
    base = 3011 if services else 3001
    return base + {Decimal(25): 0, Decimal(12): 1, Decimal(6): 2}.get(rate, 3)


def check_line(
    line: Any,
    pointer: str,
    problems: Problems,
    accounts: frozenset[int],
    automatic: Callable[[str, Decimal], int],
) -> None:
    """One invoice or credit-note line."""
    if not isinstance(line, dict):
        problems.add(pointer, "A line item must be an object")
        return
    kind = line.get("itemType")
    if kind not in ("salesItem", "descriptionOnlyItem"):
        problems.add(
            f"{pointer}/itemType", "The item type must be salesItem or descriptionOnlyItem"
        )
        return
    if not line.get("description") or not isinstance(line.get("description"), str):
        problems.add(f"{pointer}/description", "The description field is required")
    if kind == "descriptionOnlyItem":
        return
    if line.get("productType") not in ("goods", "services"):
        problems.add(f"{pointer}/productType", "The product type field is required")
    if line.get("unitType", "unspecified") not in UNIT_TYPES:
        problems.add(f"{pointer}/unitType", "Invalid unit type")
    for name in ("quantity", "unitPrice"):
        if number(line.get(name)) is None:
            problems.add(f"{pointer}/{name}", f"The {name} field is required and must be a number")
    rate = number(line.get("taxRate"))
    if rate is None:
        problems.add(f"{pointer}/taxRate", "The tax rate field is required")
    elif rate not in TAX_RATES:
        problems.add(
            f"{pointer}/taxRate",
            "Invalid tax rate. The tax rate must be one of the following values: 0%, 6%, 12%, "
            "or 25%",
        )
    account = line.get("bookkeepingAccountNumber")
    if account is not None:
        if not isinstance(account, int) or account not in accounts:
            problems.add(f"{pointer}/bookkeepingAccountNumber", f"Account {account} does not exist")
        elif rate is not None and account == automatic(str(line.get("productType")), rate):
            problems.add(
                f"{pointer}/bookkeepingAccountNumber",
                f"Account {account} is selected automatically and cannot be set",
            )


def line_amounts(line: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """Net and VAT of a sales line: net = quantity × unit price, VAT = net × rate, each to öre."""
    if line.get("itemType") != "salesItem":
        return Decimal("0.00"), Decimal("0.00")
    net = ore(number(line.get("quantity")) * number(line.get("unitPrice")))
    return net, ore(net * number(line.get("taxRate")) / 100)
