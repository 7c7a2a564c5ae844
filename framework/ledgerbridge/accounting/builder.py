"""Order → accounting document (invoice or cash sale).

Steps: classify lines (goods/services), decide the VAT scenario, read the charges, make their
VAT equal the shop's tax lines, spread shipping and fees over the goods' rates, choose accounts,
add a rounding row for any öre the shop's total differs by, convert to SEK and build the
journal. Plugins see every choice through the typed hooks, and the finished document once more
through ``ledgerbridge_document_built``; the result must still add up or it is a data error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from ledgerbridge.accounting.charges import Charge, order_charges
from ledgerbridge.accounting.currency import sek_rate
from ledgerbridge.accounting.dates import booking_date
from ledgerbridge.accounting.errors import SkipExport
from ledgerbridge.accounting.journal import build_journal, rounding_row, sek_rows
from ledgerbridge.accounting.posting import Posting
from ledgerbridge.accounting.rates import swedish_food_rate
from ledgerbridge.accounting.scenario import NO_VAT, SWEDISH_VAT, ScenarioDecision, decide_scenario
from ledgerbridge.accounting.vat import (
    ChargedTax,
    charged_taxes,
    check_rates,
    reconcile,
    spread_ancillaries,
    vat_summary,
)
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import (
    AccountingDocument,
    DocumentRow,
    DocumentType,
    RowKind,
    VatScenario,
)
from ledgerbridge.model.order import ItemKind, Order
from ledgerbridge.money import ORE, format_amount, money_sum
from ledgerbridge.plugins.facade import Hooks

#: The most the shop's total may differ from its lines before it is a data error: rounding
#: the amount payable to whole kronor (öresavrundning) moves it by at most 50 öre.
MAX_ROUNDING = Decimal("0.50")

ORDER_DOCUMENT_TYPES = (DocumentType.INVOICE, DocumentType.CASH_SALE)


def build_document(order: Order, route: RouteContext, hooks: Hooks) -> AccountingDocument:
    """The accounting document (invoice or cash sale) of ``order`` on ``route``.

    Raises :class:`~ledgerbridge.accounting.SkipExport` for a zero-total order when the route
    skips them, and ``DataError`` (with a message for the user) when the order cannot be booked
    safely as it is.
    """
    _check_order(order)
    if order.total == 0 and route.settings.zero_total == "skip":
        raise SkipExport(f"Order {order.number} has a total of 0.00; the route skips such orders.")
    on = booking_date(order)
    kinds = {line.id: hooks.classify_line(order, line, line.kind) for line in order.lines}
    taxes = charged_taxes(order)
    decision = decide_scenario(order, route, hooks, taxes, kinds.values(), on)
    document_type = _document_type(order, route, hooks)
    posting = Posting(order, route, hooks, decision.scenario, decision.country)
    warnings = list(decision.warnings)

    charges = _charges(order, route, decision, taxes, kinds, warnings)
    rows = _rows(order, route, posting, charges)
    rows.extend(_foreign_tax_rows(decision, taxes, posting, warnings))
    if decision.scenario in SWEDISH_VAT:
        warnings.extend(_food_rate_warnings(rows, on))
    if decision.scenario is VatScenario.OSS:
        missing = posting.oss_accounts_missing()
        if missing:
            warnings.append(
                f"OSS sales to {decision.country} are booked on the group accounts; set "
                f"{' and '.join(missing)} on the route to keep each country apart."
            )
    rounding_account = posting.rounding()
    rows.extend(_rounding(order, rows, rounding_account, warnings))

    payment_account = posting.payment()
    receivable_account = posting.receivable()
    rate = sek_rate(order.currency, on, route, hooks)
    counter = receivable_account if document_type is DocumentType.INVOICE else payment_account
    rows_in_sek, total_in_sek = sek_rows(rows, order.total, rate, rounding_account)
    journal = build_journal(
        rows_in_sek,
        [(counter, total_in_sek, _counter_description(order, document_type))],
        vat_label=decision.country if decision.scenario is VatScenario.OSS else "",
    )
    meta = _facts(order)
    if decision.vat_number is not None and decision.vat_number.valid:
        meta["buyer_vat_number"] = decision.vat_number.number
    document = AccountingDocument(
        document_type=document_type,
        scenario=decision.scenario,
        reference=route.site.reference(order.number or order.id),
        order_id=order.id,
        order_number=order.number,
        date=on,
        currency=order.currency.upper(),
        customer=order.customer,
        rows=tuple(rows),
        vat=vat_summary(rows),
        journal=journal,
        total=order.total,
        sek_rate=rate,
        payment_method=order.payment.method,
        payment_title=order.payment.title,
        payment_account=payment_account,
        receivable_account=receivable_account,
        country=decision.country,
        texts=decision.texts,
        warnings=tuple(warnings),
        source_ids=(order.id,),
        meta=meta,
    )
    return finish(document, order, route, hooks)


def _facts(order: Order) -> dict[str, str]:
    """Order facts targets need besides the rows: payment date, transaction, shipping method.

    Keys: ``source``, ``paid_at`` (ISO date-time, empty when unpaid), ``transaction_id``,
    ``shipping_method`` and ``shipping_zone`` (of the first shipping line).
    """
    facts = {"source": order.source}
    if order.paid_at is not None:
        facts["paid_at"] = order.paid_at.isoformat()
    if order.payment.transaction_id:
        facts["transaction_id"] = order.payment.transaction_id
    if order.shipping_lines:
        first = order.shipping_lines[0]
        facts["shipping_method"] = first.method_id
        if first.zone or first.instance_id:
            facts["shipping_zone"] = first.zone or first.instance_id
    return facts


def finish(
    document: AccountingDocument, order: Order, route: RouteContext, hooks: Hooks
) -> AccountingDocument:
    """``document`` after the plugins' ``document_built`` filters, checked once more."""
    own = document.check()
    if own:
        raise DataError(f"Order {order.number}: the document does not add up: {'; '.join(own)}.")
    document = hooks.document_built(document, order, route)
    problems = document.check()
    if problems:
        raise DataError(
            f"Order {order.number}: a plugin changed the document so that it no longer adds "
            f"up: {'; '.join(problems)}."
        )
    return document


def _check_order(order: Order) -> None:
    currency = order.currency.strip()
    if len(currency) != 3 or not currency.isalpha():
        raise DataError(f"Order {order.number}: currency {order.currency!r} is not an ISO code.")
    if order.total < 0:
        raise DataError(f"Order {order.number}: the total {order.total} is negative.")


def _document_type(order: Order, route: RouteContext, hooks: Hooks) -> DocumentType:
    default = route.settings.document_type_for(order.payment.method)
    chosen = hooks.choose_document_type(order, route, default)
    if chosen not in ORDER_DOCUMENT_TYPES:
        raise DataError(
            f"Order {order.number}: the document type {chosen.value!r} was chosen, but an "
            "order becomes an invoice or a cash sale."
        )
    return chosen


def _charges(
    order: Order,
    route: RouteContext,
    decision: ScenarioDecision,
    taxes: tuple[ChargedTax, ...],
    kinds: Mapping[str, ItemKind],
    warnings: list[str],
) -> list[Charge]:
    with_vat = decision.scenario not in NO_VAT
    charges = order_charges(order, kinds, with_vat=with_vat)
    if not with_vat:
        return charges
    check_rates(charges)
    charges = reconcile(charges, taxes)
    if route.settings.split_shipping_by_rate:
        charges, notes = spread_ancillaries(charges)
        warnings.extend(notes)
    else:
        warnings.extend(_unsplit_notes(charges))
    return charges


def _unsplit_notes(charges: list[Charge]) -> list[str]:
    goods = {charge.rate for charge in charges if charge.kind is RowKind.ITEM and charge.net > 0}
    return [
        f"{charge.description} is taxed at {charge.rate.normalize():f} %, the goods at "
        f"{', '.join(f'{rate.normalize():f} %' for rate in sorted(goods))}; booked as the "
        "shop charged it (split_shipping_by_rate is off)."
        for charge in charges
        if charge.kind is not RowKind.ITEM
        and charge.gross
        and not charge.shop_split
        and goods
        and goods != {charge.rate}
    ]


def _rows(
    order: Order, route: RouteContext, posting: Posting, charges: list[Charge]
) -> list[DocumentRow]:
    rows: list[DocumentRow] = []
    coupons = ", ".join(coupon.code for coupon in order.coupon_lines if coupon.code)
    for charge in charges:
        row = DocumentRow(
            kind=charge.kind,
            description=charge.description,
            account=posting.revenue(charge),
            quantity=charge.quantity,
            net=charge.net,
            vat_rate=charge.rate,
            vat_amount=charge.vat,
            item_kind=charge.item_kind,
            vat_account=posting.vat(charge),
            sku=charge.sku,
            source_line_id=charge.line_id,
        )
        discount = _discount_part(charge)
        if not route.settings.show_discounts or discount is None:
            rows.append(row)
            continue
        discount_net, discount_vat = discount
        rows.append(
            row.replace(net=row.net + discount_net, vat_amount=row.vat_amount + discount_vat)
        )
        rows.append(
            row.replace(
                kind=RowKind.DISCOUNT,
                description=f"Rabatt {charge.description}" + (f" ({coupons})" if coupons else ""),
                account=posting.discount(charge.rate, row.account, charge.line),
                quantity=Decimal(1),
                net=-discount_net,
                vat_amount=-discount_vat,
                sku="",
            )
        )
    return rows


def _discount_part(charge: Charge) -> tuple[Decimal, Decimal] | None:
    """The coupon discount inside an item charge (net, VAT), or None."""
    if charge.kind is not RowKind.ITEM or charge.subtotal_net is None or charge.line is None:
        return None
    discount_net = charge.subtotal_net - charge.net
    if discount_net <= 0:
        return None
    subtotal_vat = charge.subtotal_vat if charge.subtotal_vat is not None else charge.vat
    discount_vat = subtotal_vat - charge.line.total_tax if charge.vat else Decimal("0.00")
    return discount_net, discount_vat


def _foreign_tax_rows(
    decision: ScenarioDecision,
    taxes: tuple[ChargedTax, ...],
    posting: Posting,
    warnings: list[str],
) -> list[DocumentRow]:
    """Sales tax a shop charged on an export, booked as owed to the foreign authority."""
    if decision.scenario is not VatScenario.EXPORT or not taxes:
        return []
    account = posting.foreign_tax()
    rows = []
    for tax in taxes:
        where = f" {tax.country}" if tax.country else ""
        name = tax.label or "Sales tax"
        rows.append(
            DocumentRow(
                kind=RowKind.FEE,
                description=f"{name}{where} {tax.rate.normalize():f} %",
                account=account,
                quantity=Decimal(1),
                net=tax.amount,
                vat_rate=Decimal("0"),
                vat_amount=Decimal("0.00"),
            )
        )
        warnings.append(
            f"The shop charged {format_amount(tax.amount)} {name}{where} on a sale outside the "
            f"EU; booked on {account} as owed to that authority, not as Swedish VAT."
        )
    return rows


def _food_rate_warnings(rows: list[DocumentRow], on: date) -> list[str]:
    if swedish_food_rate(on) == 12 or not any(row.vat_rate == 12 for row in rows):
        return []
    return [
        f"12 % VAT on {on.isoformat()}, during the temporary food rate of 6 % (1 April 2026 to "
        "31 December 2027): right for restaurant, hotel and repair services, wrong for food."
    ]


def _rounding(
    order: Order, rows: list[DocumentRow], account: str, warnings: list[str]
) -> list[DocumentRow]:
    residual = order.total - money_sum(row.gross for row in rows)
    if residual == 0:
        return []
    if abs(residual) > MAX_ROUNDING:
        raise DataError(
            f"Order {order.number}: the total {format_amount(order.total)} differs from its "
            f"lines, shipping, fees and taxes ({format_amount(order.total - residual)}) by "
            f"{format_amount(residual)}, more than rounding. Check the order in the shop."
        )
    if abs(residual) > ORE * max(1, len(rows)):
        warnings.append(
            f"The order total differs from its lines by {format_amount(residual)}; booked as "
            f"rounding on {account}."
        )
    return [rounding_row(residual, account)]


def _counter_description(order: Order, document_type: DocumentType) -> str:
    if document_type is DocumentType.INVOICE:
        return f"Kundfordran order {order.number}"
    method = order.payment.title or order.payment.method or "okänt betalsätt"
    return f"Betalning order {order.number} ({method})"
