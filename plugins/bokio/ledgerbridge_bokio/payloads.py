"""Pure translation of an :class:`AccountingDocument` into Bokio request bodies (no network).

Invoices: one ``salesItem`` per document row (shipping and fees are rows of their own with the
goods' VAT, as the accounting rules split them), net unit prices, ``productType`` from goods or
services, and ``bookkeepingAccountNumber`` only where the row's account differs from the one Bokio
would pick itself (Bokio refuses those, reference §2.3). Bokio computes VAT from net × rate per
line, so the rounding protection predicts its arithmetic and, where the route allows, moves a
line's net by a few öre until Bokio's VAT per rate equals the shop's, balancing the gross with
an explicit 0 % rounding line on the rounding account (swedish-accounting §8.3).

Journal entries (cash sales, daily summaries, OSS, cash-sale refunds): the document's balanced
SEK journal, one item per line. The reference sits in the title (``[reference]``) so a retry can
find the entry: journal entries have no metadata and no idempotency key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge.errors import DataError
from ledgerbridge.model import (
    AccountingDocument,
    DocumentRow,
    DocumentType,
    ItemKind,
    RowKind,
    VatScenario,
)
from ledgerbridge.model.order import Address, Customer
from ledgerbridge.money import ORE, ZERO, money_sum, quantize
from ledgerbridge_bokio.settings import RouteConfig

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BOKIO_TAX_RATES = frozenset({Decimal(0), Decimal(6), Decimal(12), Decimal(25)})
METADATA_REFERENCE = "lbReference"
METADATA_ORDER = "lbOrderId"
METADATA_REFUND = "lbRefundId"
DESCRIPTION_LIMIT = 500
_HUNDRED = Decimal(100)
_DOMESTIC_GOODS = {25: "3001", 12: "3002", 6: "3003", 0: "3004"}
_DOMESTIC_SERVICES = {25: "3011", 12: "3012", 6: "3013", 0: "3014"}
_KIND_TITLES = {
    DocumentType.CASH_SALE: "Kontantförsäljning",
    DocumentType.DAILY_SUMMARY: "Dagssammanställning",
    DocumentType.INVOICE: "Försäljning",
    DocumentType.CREDIT_NOTE: "Kreditering",
}


def goes_as_journal_entry(document: AccountingDocument) -> bool:
    """Whether Bokio gets this document as a journal entry rather than an invoice.

    Cash sales and daily summaries are journal entries (Bokio's API cannot create cash
    invoices); so is every OSS sale, because Bokio's invoices book EU consumers with Swedish
    VAT only and cannot carry another country's rate.
    """
    if document.scenario is VatScenario.OSS:
        return True
    kind = document.document_type
    if kind is DocumentType.CREDIT_NOTE:
        return False
    return kind in (DocumentType.CASH_SALE, DocumentType.DAILY_SUMMARY)


def automatic_account(scenario: VatScenario, product_type: str, rate: Decimal) -> str:
    """The revenue account Bokio picks by itself for a line (Bokio help, accounting §2.2)."""
    services = product_type == "services"
    if scenario is VatScenario.EU_REVERSE_CHARGE:
        return "3308" if services else "3108"
    if scenario is VatScenario.EXPORT:
        return "3305" if services else "3105"
    if scenario is VatScenario.EU_CONSUMER and not services:
        return "3106"
    table = _DOMESTIC_SERVICES if services else _DOMESTIC_GOODS
    return table.get(int(rate), "")


def bokio_line_amounts(
    quantity: Decimal, unit_price: Decimal, rate: Decimal
) -> tuple[Decimal, Decimal]:
    """Net and VAT of one line as Bokio computes them: per line, rounded half-up to öre."""
    net = quantize(quantity * unit_price)
    return net, quantize(net * rate / _HUNDRED)


def _unit_price(net: Decimal, quantity: Decimal) -> tuple[Decimal, Decimal] | None:
    """A (quantity, unit price) whose product rounds back to ``net`` exactly, or None."""
    if quantity <= 0:
        return None
    for places in (2, 4, 6):
        unit = quantize(net / quantity, Decimal(1).scaleb(-places))
        if quantize(unit * quantity) == net:
            return quantity, unit.normalize() if unit == unit.to_integral() else unit
    return None


@dataclass
class _Line:
    row: DocumentRow | None
    description: str
    product_type: str
    unit_type: str
    quantity: Decimal
    net: Decimal
    rate: Decimal
    account: str

    def amounts(self) -> tuple[Decimal, Decimal, Decimal]:
        """(quantity, unit price, predicted VAT) for the payload."""
        exact = _unit_price(self.net, self.quantity)
        quantity, unit = exact if exact is not None else (Decimal(1), self.net)
        _net, vat = bokio_line_amounts(quantity, unit, self.rate)
        return quantity, unit, vat


def _product_type(row: DocumentRow) -> str:
    return "services" if row.item_kind is ItemKind.SERVICE else "goods"


def _sign(document: AccountingDocument) -> Decimal:
    """Credit notes are sent with positive amounts whatever sign the document uses."""
    if document.is_credit and document.total < 0:
        return Decimal(-1)
    return Decimal(1)


def check_expressible(document: AccountingDocument) -> None:
    """``DataError`` when an invoice cannot carry this document in Bokio."""
    for row in document.rows:
        if row.kind is RowKind.ROUNDING:
            continue
        if row.vat_rate not in BOKIO_TAX_RATES:
            raise DataError(
                f"Bokio invoices take VAT 0, 6, 12 or 25 %; row {row.description!r} has "
                f"{row.vat_rate} %. Foreign VAT (OSS) is booked as a journal entry instead."
            )
        if not row.account.isdigit():
            raise DataError(f"Row {row.description!r} has no account number.")


def invoice_lines(document: AccountingDocument, route: RouteConfig) -> list[_Line]:
    """The document rows as Bokio lines, with the rounding protection applied."""
    check_expressible(document)
    sign = _sign(document)
    lines: list[_Line] = []
    rounding = ZERO
    for row in document.rows:
        net = row.net * sign
        if row.kind is RowKind.ROUNDING:
            rounding += net
            continue
        quantity = row.quantity if row.kind is RowKind.ITEM and row.quantity > 0 else Decimal(1)
        description = row.description or row.kind.value
        if _unit_price(net, quantity) is None:
            description = f"{quantity.normalize():f} × {description}"
            quantity = Decimal(1)
        lines.append(
            _Line(
                row=row,
                description=description,
                product_type=_product_type(row),
                unit_type="piece" if row.kind is RowKind.ITEM else "unspecified",
                quantity=quantity,
                net=net,
                rate=row.vat_rate,
                account=row.account,
            )
        )
    if route.rounding_line:
        _fix_vat_per_rate(document, lines, sign)
        predicted = money_sum(line.net + line.amounts()[2] for line in lines)
        rounding = document.total * sign - predicted
    if rounding:
        lines.append(
            _Line(
                row=None,
                description="Öresutjämning",
                product_type="goods",
                unit_type="unspecified",
                quantity=Decimal(1),
                net=rounding,
                rate=ZERO,
                account=route.rounding_account,
            )
        )
    return lines


def _fix_vat_per_rate(document: AccountingDocument, lines: list[_Line], sign: Decimal) -> None:
    """Move one line's net per rate by whole öre until Bokio's VAT equals the document's."""
    wanted: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for row in document.rows:
        if row.kind is not RowKind.ROUNDING:
            wanted[row.vat_rate] += row.vat_amount * sign
    for rate, vat in wanted.items():
        same_rate = [line for line in lines if line.rate == rate]
        if not rate or not same_rate:
            continue
        predicted = money_sum(line.amounts()[2] for line in same_rate)
        difference = vat - predicted
        if not difference:
            continue
        line = max(same_rate, key=lambda candidate: abs(candidate.net))
        target = line.amounts()[2] + difference
        limit = int(abs(difference) * _HUNDRED / rate * 100) + 50
        for step in range(1, limit + 1):
            found = False
            for direction in (1, -1) if difference > 0 else (-1, 1):
                candidate = line.net + ORE * step * direction
                if bokio_line_amounts(Decimal(1), candidate, rate)[1] == target:
                    if _unit_price(candidate, line.quantity) is None:
                        line.description = f"{line.quantity.normalize():f} × {line.description}"
                        line.quantity = Decimal(1)
                    line.net = candidate
                    found = True
                    break
            if found:
                break


def line_payload(line: _Line, scenario: VatScenario) -> dict[str, Any]:
    """One ``salesItem`` line."""
    quantity, unit, _vat = line.amounts()
    payload: dict[str, Any] = {
        "itemType": "salesItem",
        "description": line.description[:DESCRIPTION_LIMIT],
        "productType": line.product_type,
        "unitType": line.unit_type,
        "quantity": quantity,
        "unitPrice": unit,
        "taxRate": int(line.rate),
    }
    if line.account and line.account != automatic_account(scenario, line.product_type, line.rate):
        payload["bookkeepingAccountNumber"] = int(line.account)
    return payload


def filtered_lines(document: AccountingDocument, route: RouteConfig, filters: Any) -> list[dict]:
    """The line payloads after the plugins' row filters."""
    payloads = []
    for line in invoice_lines(document, route):
        payload = line_payload(line, document.scenario)
        if line.row is not None:
            payload = filters.row(payload, line.row, document)
        payloads.append(payload)
    return payloads


def _address(address: Address | None, *, subdivision: bool) -> dict[str, Any] | None:
    if address is None:
        return None
    street = address.street.strip()
    if not (street and address.city and address.postcode and address.country):
        return None
    result: dict[str, Any] = {
        "line1": street,
        "line2": address.street2.strip() or None,
        "city": address.city,
        "postalCode": address.postcode,
        "country": address.country.upper(),
    }
    if subdivision and address.country.upper() == "GB":
        state = address.state.upper()
        if state not in {"ENG", "SCT", "WLS", "NIR"}:
            return None
        result["countrySubdivision"] = state
    return result


def customer_payload(customer: Customer, route: RouteConfig) -> dict[str, Any]:
    """A Bokio customer for the document's buyer (private or company)."""
    payload: dict[str, Any] = {
        "name": customer.name.strip() or customer.email or "Webbkund",
        "type": "company" if customer.is_company else "private",
        "language": "sv" if customer.country in ("", "SE") else "en",
    }
    if customer.vat_number:
        payload["vatNumber"] = customer.vat_number
    if customer.organisation_number:
        payload["orgNumber"] = customer.organisation_number
    if route.customer_payment_terms:
        payload["paymentTerms"] = route.customer_payment_terms
    contact = {
        "name": customer.billing.person_name or customer.name,
        "email": customer.email or customer.billing.email,
        "phone": customer.billing.phone,
        "isDefault": True,
    }
    payload["contactsDetails"] = [{k: v for k, v in contact.items() if v not in ("", None)}]
    address = _address(customer.billing, subdivision=True)
    if address is not None:
        payload["address"] = address
    return payload


def _metadata(document: AccountingDocument) -> dict[str, str]:
    metadata = {METADATA_REFERENCE: document.reference[:250]}
    if document.order_id:
        metadata[METADATA_ORDER] = document.order_id[:250]
    if document.credit is not None and document.credit.refund_id:
        metadata[METADATA_REFUND] = document.credit.refund_id[:250]
    return metadata


def invoice_payload(
    document: AccountingDocument, customer_id: str, route: RouteConfig, filters: Any
) -> dict[str, Any]:
    """The draft invoice: customer, shop order number, currency, lines, metadata."""
    payload: dict[str, Any] = {
        "type": "invoice",
        "customerRef": {"id": customer_id},
        "orderNumberReference": document.order_number or document.reference,
        "currency": document.currency,
        "currencyRate": document.sek_rate,
        "invoiceDate": document.date.isoformat(),
        "lineItems": filtered_lines(document, route, filters),
        "metadata": _metadata(document),
    }
    delivery = None
    if document.customer is not None:
        delivery = _address(document.customer.shipping, subdivision=False)
    if delivery is not None:
        payload["deliveryAddress"] = delivery
    return filters.document(payload, document)


def credit_note_payload(
    document: AccountingDocument, draft: dict[str, Any], route: RouteConfig, filters: Any
) -> dict[str, Any]:
    """The PUT body that turns Bokio's copied draft into exactly the refunded rows."""
    payload: dict[str, Any] = {
        "id": draft["id"],
        "currency": draft.get("currency") or document.currency,
        "currencyRate": Decimal(str(draft.get("currencyRate") or document.sek_rate)),
        "creditDate": document.date.isoformat(),
        "dueDate": document.date.isoformat(),
        "orderNumberReference": document.order_number or draft.get("orderNumberReference"),
        "lineItems": filtered_lines(document, route, filters),
        "metadata": _metadata(document),
    }
    if draft.get("deliveryAddress"):
        payload["deliveryAddress"] = draft["deliveryAddress"]
    return filters.document(payload, document)


def journal_title(document: AccountingDocument, route: RouteConfig, *, kind: str = "") -> str:
    """The entry's title: the route's format plus the ``[reference]`` marker used to find it."""
    label = kind or _KIND_TITLES.get(document.document_type, "Försäljning")
    if document.scenario is VatScenario.OSS and not kind:
        label = f"{label} OSS {document.country}".strip()
    text = route.journal_title.format(
        order_number=document.order_number or document.reference,
        date=document.date.isoformat(),
        kind=label,
    )
    return f"{text} {reference_marker(document.reference)}"


def reference_marker(reference: str) -> str:
    """The marker in a journal-entry title that names the ledgerbridge reference."""
    return f"[{reference}]"


def journal_items(lines: Iterable[Any]) -> list[dict[str, Any]]:
    """Journal lines as Bokio items (zero lines dropped)."""
    items = []
    for line in lines:
        debit, credit = quantize(line.debit), quantize(line.credit)
        if not debit and not credit:
            continue
        if not line.account.isdigit():
            raise DataError(f"Journal line {line.description!r} has no account number.")
        items.append({"account": int(line.account), "debit": debit, "credit": credit})
    return items


def journal_payload(
    document: AccountingDocument, route: RouteConfig, filters: Any, *, kind: str = ""
) -> dict[str, Any]:
    """A balanced journal entry from the document's SEK journal."""
    items = journal_items(document.journal)
    debit = money_sum(item["debit"] for item in items)
    credit = money_sum(item["credit"] for item in items)
    if not items or debit != credit:
        raise DataError(
            f"The journal of {document.reference} does not balance (debit {debit}, credit "
            f"{credit}); nothing was sent to Bokio."
        )
    payload = {
        "title": journal_title(document, route, kind=kind),
        "date": document.date.isoformat(),
        "items": items,
    }
    return filters.document(payload, document)


def paid_on(document: AccountingDocument) -> str:
    """The payment date (``YYYY-MM-DD``) when the document says the order was paid, else ''.

    The accounting rules put it in ``document.meta["paid_at"]`` (the convention the Fortnox
    target shares); an invoice without it is left open for the customer to pay.
    """
    value = str(document.meta.get("paid_at", "") or "")
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value[:10]
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(STOCKHOLM).date().isoformat()  # Bokio's dates are Swedish


def payment_amount_sek(document: AccountingDocument) -> Decimal:
    """What the customer paid, in SEK (the receivable's debit in the journal when present)."""
    receivable = money_sum(
        line.debit - line.credit
        for line in document.journal
        if line.account == document.receivable_account
    )
    if receivable > 0:
        return quantize(receivable)
    return quantize(document.total * document.sek_rate)
