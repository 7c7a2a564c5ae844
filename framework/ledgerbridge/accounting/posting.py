"""Which account each charge is booked on: BAS defaults, the route's overrides, then plugins.

The account depends on the scenario (domestic, EU, OSS, export), goods or services, the VAT
rate and the destination country. Shipping, fee and discount accounts of their own
(``shipping_account``, ``fee_account``, ``discount``) and a product's own account (line meta
``ledgerbridge_account``) apply to sales with Swedish VAT only: in the other scenarios every
amount stays on the scenario's revenue accounts, which the VAT return boxes (35, 36, 39, 40)
and the OSS return are read from.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.accounting.accounts import (
    PRODUCT_ACCOUNT_META,
    AccountBook,
    is_account_number,
    rate_key,
)
from ledgerbridge.accounting.charges import Charge
from ledgerbridge.accounting.scenario import SWEDISH_VAT
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import RowKind, VatScenario
from ledgerbridge.model.order import ItemKind, Order, OrderLine
from ledgerbridge.plugins.facade import Hooks

_PURPOSES = {
    RowKind.ITEM: "sales",
    RowKind.SHIPPING: "shipping",
    RowKind.FEE: "fee",
    RowKind.DISCOUNT: "discount",
}


class Posting:
    """Chooses the accounts of one order's document on one route."""

    def __init__(
        self,
        order: Order,
        route: RouteContext,
        hooks: Hooks,
        scenario: VatScenario,
        country: str,
    ) -> None:
        self.order = order
        self.route = route
        self.hooks = hooks
        self.scenario = scenario
        self.country = country
        self.book = AccountBook(route.settings.accounts)

    def _choose(self, purpose: str, default: str, line: OrderLine | None = None) -> str:
        account = self.hooks.choose_account(purpose, self.order, self.route, default, line)
        if not is_account_number(account):
            raise DataError(
                f"A plugin chose the account {account!r} for {purpose}; "
                "accounts are four-digit numbers."
            )
        return account

    def revenue(self, charge: Charge) -> str:
        """The revenue (or discount) account of ``charge``."""
        return self._choose(_PURPOSES[charge.kind], self._revenue_default(charge), charge.line)

    def vat(self, charge: Charge) -> str:
        """The output VAT account of ``charge`` ("" when it carries no VAT)."""
        if charge.vat == 0 and charge.rate == 0:
            return ""
        return self._choose("vat", self._vat_default(charge.rate), charge.line)

    def discount(self, rate: Decimal, item_account: str, line: OrderLine | None) -> str:
        """The account of a coupon discount shown as a row of its own."""
        if self.scenario not in SWEDISH_VAT:
            return item_account
        return self._choose("discount", self.book.get("discount", rate_key(rate)), line)

    def rounding(self) -> str:
        """The account for öre differences."""
        return self._choose("rounding", self.book.get("rounding"))

    def receivable(self) -> str:
        """The customer receivable account (invoices)."""
        return self._choose("receivable", self.book.get("receivable"))

    def payment(self) -> str:
        """The account the payment lands on (bank or PSP clearing) for this payment method."""
        default = self.route.settings.payment_account_for(self.order.payment.method)
        return self._choose("payment", default)

    def foreign_tax(self) -> str:
        """The liability account for sales tax a shop collected for a non-EU authority."""
        return self._choose("foreign_tax", self.book.get("foreign_tax"))

    def _revenue_default(self, charge: Charge) -> str:
        book = self.book
        settings = self.route.settings
        kind = charge.item_kind
        country = self.country
        if self.scenario in SWEDISH_VAT:
            if charge.kind is RowKind.SHIPPING and settings.shipping_account:
                return settings.shipping_account
            if charge.kind is RowKind.FEE and settings.fee_account:
                return settings.fee_account
            if charge.kind is RowKind.DISCOUNT:
                return book.get("discount", rate_key(charge.rate))
            if charge.line is not None:
                own = _product_account(charge.line)
                if own:
                    return own
            if self.scenario is VatScenario.EU_CONSUMER and kind is ItemKind.GOODS:
                return book.get("eu_consumer_goods", country)
            return book.sales(kind, charge.rate)
        if self.scenario is VatScenario.OSS:
            if kind is ItemKind.SERVICE:
                try:
                    return book.get("oss_services", country)
                except KeyError:
                    pass
            return book.get("oss_sales", country)
        if self.scenario is VatScenario.EU_REVERSE_CHARGE:
            key = "eu_services" if kind is ItemKind.SERVICE else "eu_goods"
            return book.get(key, country)
        key = "export_services" if kind is ItemKind.SERVICE else "export_goods"
        return book.get(key, country)

    def _vat_default(self, rate: Decimal) -> str:
        if self.scenario is VatScenario.OSS:
            return self.book.get("oss_vat", self.country, rate_key(rate))
        if self.scenario in SWEDISH_VAT:
            return self.book.vat(rate)
        raise DataError(
            f"Order {self.order.number}: VAT at {rate.normalize():f} % on a "
            f"{self.scenario.value} sale, which carries no VAT."
        )

    def oss_accounts_missing(self) -> list[str]:
        """The per-country OSS account keys the route has not set (for a warning)."""
        keys = (f"oss_sales:{self.country}", f"oss_vat:{self.country}")
        return [key for key in keys if not self.book.is_overridden(*key.split(":"))]


def _product_account(line: OrderLine) -> str:
    for key in PRODUCT_ACCOUNT_META:
        value = str(line.meta.get(key, "")).strip()
        if value:
            if not is_account_number(value):
                raise DataError(
                    f"Order line {line.id} ({line.name}) has {key} = {value!r}; "
                    "it must be a four-digit account number."
                )
            return value
    return ""
