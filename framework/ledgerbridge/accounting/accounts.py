"""Account keys, their BAS defaults, and how a route's overrides are looked up.

Every account the rules book on has a *key* (``sales_goods:25``, ``oss_vat:DE``...). A route
overrides any of them in ``RouteSettings.accounts`` (``{"oss_vat:DE": "2671"}``). Lookups go
from the most specific key to the least: ``oss_vat:DE:7`` → ``oss_vat:DE`` → ``oss_vat`` → the
BAS default. Shipping, fee and payment accounts have their own route fields
(``shipping_account``, ``fee_account``, ``payment_accounts``/``default_payment_account``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from ledgerbridge.accounting.rates import EU_COUNTRIES, SWEDISH_RATES
from ledgerbridge.model.order import ItemKind

#: BAS 2026 defaults (docs/accounting.md has the table with names).
BAS_DEFAULTS: dict[str, str] = {
    "sales_goods:25": "3001",
    "sales_goods:12": "3002",
    "sales_goods:6": "3003",
    "sales_goods:0": "3004",
    "sales_services:25": "3041",
    "sales_services:12": "3042",
    "sales_services:6": "3043",
    "sales_services:0": "3044",
    "vat:25": "2611",
    "vat:12": "2621",
    "vat:6": "2631",
    "eu_consumer_goods": "3106",
    "eu_goods": "3108",
    "eu_services": "3308",
    "export_goods": "3105",
    "export_services": "3305",
    "oss_sales": "3106",
    "oss_services": "3106",
    "oss_vat": "2670",
    "discount": "3730",
    "rounding": "3740",
    "receivable": "1510",
    "fx_gain": "3960",
    "fx_loss": "7960",
    "foreign_tax": "2890",
}

_RATE = "|".join(sorted(f"{rate.normalize():f}" for rate in SWEDISH_RATES))
_COUNTRY = "|".join(sorted(EU_COUNTRIES))
_ANY_RATE = r"\d{1,2}(?:\.\d{1,2})?"
#: The grammar of account keys a route may override.
KEY_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        rf"^(sales_goods|sales_services|vat|discount):({_RATE})$",
        r"^(eu_consumer_goods|eu_goods|eu_services|export_goods|export_services|oss_sales"
        r"|oss_services|oss_vat|discount|rounding|receivable|fx_gain|fx_loss|foreign_tax)$",
        rf"^(eu_consumer_goods|eu_goods|eu_services|oss_sales|oss_services|oss_vat):({_COUNTRY})$",
        r"^(export_goods|export_services):[A-Z]{2}$",
        rf"^oss_vat:({_COUNTRY}):({_ANY_RATE})$",
    )
)

#: Line meta keys that set a product's own revenue account (Swedish-VAT scenarios only).
PRODUCT_ACCOUNT_META = ("ledgerbridge_account", "_ledgerbridge_account")


def rate_key(rate: Decimal) -> str:
    """A VAT rate as used in account keys: ``25``, ``6``, ``25.5``."""
    text = f"{rate.normalize():f}"
    return text


def is_account_key(key: str) -> bool:
    """Whether ``key`` is an account key a route may override."""
    return any(pattern.match(key) for pattern in KEY_PATTERNS)


def unknown_account_keys(keys: Iterable[str]) -> list[str]:
    """The keys in ``keys`` that are not account keys (typos would be ignored otherwise)."""
    return sorted(key for key in keys if not is_account_key(key))


def is_account_number(value: str) -> bool:
    """Whether ``value`` is a four-digit account number."""
    return len(value) == 4 and value.isdigit()


class AccountBook:
    """A route's account overrides on top of the BAS defaults."""

    def __init__(self, overrides: Mapping[str, str]) -> None:
        self._accounts = {**BAS_DEFAULTS, **overrides}
        self._overrides = dict(overrides)

    def get(self, key: str, *qualifiers: str) -> str:
        """The account for ``key`` narrowed by ``qualifiers`` (country, rate), specific first."""
        for depth in range(len(qualifiers), -1, -1):
            candidate = ":".join((key, *qualifiers[:depth]))
            account = self._accounts.get(candidate)
            if account:
                return account
        raise KeyError(key)

    def is_overridden(self, key: str, *qualifiers: str) -> bool:
        """Whether the route set ``key`` itself for exactly these qualifiers."""
        return ":".join((key, *qualifiers)) in self._overrides

    def sales(self, kind: ItemKind, rate: Decimal) -> str:
        """Domestic revenue account for goods or services at a Swedish rate."""
        prefix = "sales_services" if kind is ItemKind.SERVICE else "sales_goods"
        return self.get(prefix, rate_key(rate))

    def vat(self, rate: Decimal) -> str:
        """Swedish output VAT account for ``rate``."""
        return self.get("vat", rate_key(rate))
