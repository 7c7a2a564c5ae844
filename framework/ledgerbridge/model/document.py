"""The accounting document: the target-neutral result of the accounting rules.

One order, refund or day of cash sales becomes one ``AccountingDocument``. It is what
``ledgerbridge preview`` shows and what every target translates into its own API payload.

Invariants (checked by :meth:`AccountingDocument.check`):

* ``total`` equals the sum of row gross amounts (net + VAT), in the document currency;
* ``vat`` holds one entry per rate, equal to the rows of that rate;
* the ``journal`` (in SEK) balances to the öre.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.model.order import Customer, ItemKind, _Replaceable
from ledgerbridge.money import ZERO, money_sum


class DocumentType(StrEnum):
    """What kind of document the target creates."""

    INVOICE = "invoice"
    CASH_SALE = "cash_sale"
    CREDIT_NOTE = "credit_note"
    DAILY_SUMMARY = "daily_summary"


class VatScenario(StrEnum):
    """Which VAT treatment applies, decided from customer, destination and goods/services."""

    DOMESTIC = "domestic"
    EU_REVERSE_CHARGE = "eu_reverse_charge"
    EU_CONSUMER = "eu_consumer"
    OSS = "oss"
    EXPORT = "export"


class RowKind(StrEnum):
    """What a document row stands for."""

    ITEM = "item"
    SHIPPING = "shipping"
    FEE = "fee"
    DISCOUNT = "discount"
    ROUNDING = "rounding"


@dataclass(frozen=True, slots=True)
class DocumentRow(_Replaceable):
    """One row: an account, a net amount and the VAT on it, in the document currency."""

    kind: RowKind
    description: str
    account: str
    quantity: Decimal
    net: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    item_kind: ItemKind = ItemKind.GOODS
    vat_account: str = ""
    sku: str = ""
    source_line_id: str = ""

    @property
    def gross(self) -> Decimal:
        """Net plus VAT."""
        return self.net + self.vat_amount

    @property
    def unit_net(self) -> Decimal:
        """Net per unit, unrounded (targets decide their own precision)."""
        if self.quantity == 0:
            return self.net
        return self.net / self.quantity


@dataclass(frozen=True, slots=True)
class VatLine(_Replaceable):
    """VAT at one rate: its base (net) and amount, and the account it is booked on."""

    rate: Decimal
    base: Decimal
    amount: Decimal
    account: str = ""


@dataclass(frozen=True, slots=True)
class JournalLine(_Replaceable):
    """One line of the balanced journal, in SEK."""

    account: str
    debit: Decimal
    credit: Decimal
    description: str = ""


@dataclass(frozen=True, slots=True)
class CreditReference(_Replaceable):
    """What a credit note corrects: the original document's reference and refund details."""

    original_reference: str
    refund_id: str
    full: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AccountingDocument(_Replaceable):
    """The booked form of one order, refund or day of sales, ready for any target."""

    document_type: DocumentType
    scenario: VatScenario
    reference: str
    order_id: str
    order_number: str
    date: date
    currency: str
    customer: Customer | None
    rows: tuple[DocumentRow, ...]
    vat: tuple[VatLine, ...]
    journal: tuple[JournalLine, ...]
    total: Decimal
    sek_rate: Decimal = Decimal("1")
    payment_method: str = ""
    payment_title: str = ""
    payment_account: str = ""
    receivable_account: str = "1510"
    country: str = ""
    texts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    credit: CreditReference | None = None
    source_ids: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[str, ...] = field(default=())

    @property
    def total_net(self) -> Decimal:
        """Sum of row nets."""
        return money_sum(row.net for row in self.rows)

    @property
    def total_vat(self) -> Decimal:
        """Sum of row VAT."""
        return money_sum(row.vat_amount for row in self.rows)

    @property
    def is_credit(self) -> bool:
        """True for a credit note."""
        return self.document_type is DocumentType.CREDIT_NOTE

    def vat_by_rate(self) -> dict[Decimal, VatLine]:
        """VAT lines keyed by rate."""
        return {line.rate: line for line in self.vat}

    def check(self) -> list[str]:
        """The invariants this document breaks, as messages (empty when it is sound)."""
        problems: list[str] = []
        rows_gross = money_sum(row.gross for row in self.rows)
        if rows_gross != self.total:
            problems.append(f"rows add up to {rows_gross}, document total is {self.total}")
        per_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for row in self.rows:
            if row.kind is RowKind.ROUNDING:
                continue
            base, amount = per_rate.get(row.vat_rate, (ZERO, ZERO))
            per_rate[row.vat_rate] = (base + row.net, amount + row.vat_amount)
        for line in self.vat:
            base, amount = per_rate.pop(line.rate, (ZERO, ZERO))
            if (base, amount) != (line.base, line.amount):
                problems.append(
                    f"VAT {line.rate} %: rows give base {base} and VAT {amount}, "
                    f"VAT summary says {line.base} and {line.amount}"
                )
        for rate, (base, amount) in per_rate.items():
            if base or amount:
                problems.append(f"VAT {rate} % has rows but no VAT summary line")
        debit = money_sum(line.debit for line in self.journal)
        credit = money_sum(line.credit for line in self.journal)
        if debit != credit:
            problems.append(f"journal does not balance: debit {debit}, credit {credit}")
        return problems
