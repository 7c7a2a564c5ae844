"""The Fortnox payloads of an accounting document: customer, invoice, order, voucher, payment.

Pure functions: no network. The connector sends what these build (after the plugins' payload
filters), and ``ledgerbridge preview --target fortnox`` shows the same.

Sign convention: a credit note's rows may carry positive amounts (what is credited) or
negative ones; Fortnox wants credit rows with negative quantities, so :func:`credit_sign`
says which way to turn them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from stdnum.se import orgnr, personnummer

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model import AccountingDocument, DocumentRow, RowKind, VatScenario
from ledgerbridge.money import ORE, ZERO, money_sum, quantize
from ledgerbridge_fortnox.countries import country_name
from ledgerbridge_fortnox.settings import RouteOptions
from ledgerbridge_fortnox.text import article_number, clean
from ledgerbridge_fortnox.totals import DocumentTotals, RowAmount, compute_totals

ROUNDING_ACCOUNT = "3740"
ROW_HOOK = "ledgerbridge_fortnox_invoice_row"

VAT_TYPES = {
    VatScenario.DOMESTIC: "SEVAT",
    VatScenario.EU_REVERSE_CHARGE: "EUREVERSEDVAT",
    VatScenario.EU_CONSUMER: "EUVAT",
    # Fortnox's advice for OSS: keep the customer Swedish ("SE") and book the foreign VAT on
    # per-country accounts set on the rows.
    VatScenario.OSS: "SEVAT",
    VatScenario.EXPORT: "EXPORT",
}


def vat_type(document: AccountingDocument) -> str:
    """The customer VATType that matches the document's VAT scenario."""
    return VAT_TYPES[document.scenario]


def fortnox_reference(document: AccountingDocument) -> str:
    """The document reference as stored in ExternalInvoiceReference1 (cleaned, ≤ 80)."""
    reference = clean(document.reference, "ExternalInvoiceReference1")
    if not reference:
        raise DataError(f"The document reference {document.reference!r} is empty for Fortnox.")
    return reference


def voucher_marker(document: AccountingDocument) -> str:
    """The text a voucher's Comments carry so an earlier attempt's voucher can be found."""
    return clean(f"ledgerbridge:{fortnox_reference(document)}", "VoucherComments")


def credit_sign(document: AccountingDocument) -> Decimal:
    """-1 when a credit note's rows are written as positive amounts, else 1."""
    if document.is_credit and document.total > 0:
        return Decimal("-1")
    return Decimal("1")


def paid_on(document: AccountingDocument) -> str:
    """The payment date (YYYY-MM-DD) when the document says it was paid, else ''."""
    return str(document.meta.get("paid_at", ""))[:10]


# -- customer ----------------------------------------------------------------------------


def organisation_number(document: AccountingDocument) -> str:
    """The buyer's Swedish organisation (or personal) number, formatted, when valid."""
    customer = document.customer
    if customer is None or not customer.organisation_number:
        return ""
    if customer.country not in ("", "SE"):
        return ""
    value = customer.organisation_number
    for module in (orgnr, personnummer):
        if module.is_valid(value):
            return module.format(value)
    return ""


def customer_payload(document: AccountingDocument, options: RouteOptions) -> dict[str, Any]:
    """The Fortnox customer for the document's buyer."""
    customer = document.customer
    if customer is None:
        raise DataError(
            f"Document {document.reference} has no customer; Fortnox invoices need one."
        )
    billing = customer.billing
    name = clean(customer.name or billing.company or billing.person_name, "Name")
    if not name:
        name = clean(customer.email, "Name") or "Webbkund"
    payload: dict[str, Any] = {
        "Name": name,
        "Type": "COMPANY" if customer.is_company else "PRIVATE",
        "VATType": vat_type(document),
    }
    optional = {
        "Email": clean(customer.email, "Email"),
        "EmailInvoice": clean(customer.email, "Email"),
        "Address1": clean(billing.street, "Address1"),
        "Address2": clean(billing.street2, "Address2"),
        "ZipCode": clean(billing.postcode, "ZipCode"),
        "City": clean(billing.city, "City"),
        "Phone1": clean(billing.phone, "Phone1"),
        "OrganisationNumber": organisation_number(document),
        "VATNumber": clean(customer.vat_number.replace(" ", ""), "VATNumber"),
        "YourReference": clean(billing.person_name, "YourReference") if customer.is_company else "",
    }
    payload.update({key: value for key, value in optional.items() if value})
    if len(billing.country) == 2:
        payload["CountryCode"] = billing.country.upper()
    shipping = customer.shipping
    if shipping is not None and (shipping.street or shipping.city):
        delivery = {
            "DeliveryName": clean(shipping.company or shipping.person_name, "DeliveryName"),
            "DeliveryAddress1": clean(shipping.street, "Address1"),
            "DeliveryAddress2": clean(shipping.street2, "Address2"),
            "DeliveryZipCode": clean(shipping.postcode, "ZipCode"),
            "DeliveryCity": clean(shipping.city, "City"),
        }
        payload.update({key: value for key, value in delivery.items() if value})
        if len(shipping.country) == 2:
            payload["DeliveryCountryCode"] = shipping.country.upper()
    return payload


# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowPlan:
    """One Fortnox row planned from one document row (a row may become two)."""

    row: DocumentRow
    description: str
    quantity: Decimal
    price: Decimal
    vat: Decimal
    account: str
    article: str = ""

    def amount(self) -> RowAmount:
        """What Fortnox will compute from this row."""
        return RowAmount(self.price, self.quantity, self.vat)


def _vat_percent(row: DocumentRow) -> Decimal:
    if row.vat_rate != row.vat_rate.to_integral_value():
        raise DataError(
            f"Fortnox takes whole VAT percentages; row {row.description!r} has {row.vat_rate} %."
        )
    return row.vat_rate.to_integral_value()


def plan_rows(
    document: AccountingDocument, *, vat_included: bool, use_articles: bool
) -> list[RowPlan]:
    """The rows to send, priced per unit in the chosen basis, exact to the öre.

    A row whose amount does not divide into whole öre per unit is split into
    (quantity − 1) units at the rounded-down price and one unit carrying the rest. Credit
    rows get negative quantities.
    """
    direction = credit_sign(document)
    plans: list[RowPlan] = []
    for row in document.rows:
        amount = (row.gross if vat_included else row.net) * direction
        magnitude = abs(row.quantity) if row.quantity else Decimal("1")
        description = clean(row.description, "RowDescription") or "Rad"
        article = article_number(row.sku) if use_articles and row.kind is RowKind.ITEM else ""
        vat = _vat_percent(row)

        def plan(
            quantity: Decimal,
            price: Decimal,
            text: str = description,
            row: DocumentRow = row,
            vat: Decimal = vat,
            article: str = article,
        ) -> RowPlan:
            return RowPlan(row, text, quantity * direction, price, vat, row.account, article)

        unit = amount / (magnitude * direction)
        if quantize(unit) == unit and quantize(magnitude) == magnitude:
            plans.append(plan(magnitude, unit))
        elif magnitude == magnitude.to_integral_value() and magnitude > 1:
            unit_price = unit.quantize(ORE, rounding=ROUND_DOWN)
            rest = (amount - unit_price * (magnitude - 1) * direction) / direction
            plans.append(plan(magnitude - 1, unit_price))
            plans.append(plan(Decimal("1"), rest))
        else:
            label = clean(f"{_plain_quantity(magnitude)} x {row.description}", "RowDescription")
            plans.append(plan(Decimal("1"), amount / direction, label))
    return plans


def _plain_quantity(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def quantity_text(value: Decimal) -> str:
    """A quantity as Fortnox's string field wants it (``"2"``, ``"1.5"``, ``"-1"``)."""
    text = format(quantize(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def expected_totals(document: AccountingDocument) -> tuple[Decimal, Decimal]:
    """(gross total, VAT) the Fortnox document must show, in Fortnox's sign."""
    sign = credit_sign(document)
    return document.total * sign, document.total_vat * sign


def predict(plans: list[RowPlan], *, vat_included: bool, vat_type_code: str) -> DocumentTotals:
    """Fortnox's totals for these rows."""
    return compute_totals(
        [plan.amount() for plan in plans], vat_included=vat_included, vat_type=vat_type_code
    )


def choose_rows(document: AccountingDocument, options: RouteOptions) -> tuple[bool, list[RowPlan]]:
    """Choose VATIncluded and the rows so Fortnox's totals equal the document's.

    Tries the basis natural for the buyer first (gross prices for consumers, net for
    companies), then the other; when neither matches to the öre, the net basis is used with
    an explicit öre adjustment per VAT rate (the rate's VAT as the customer paid it, the
    difference on the rounding account at 0 %).
    """
    code = vat_type(document)
    expected = expected_totals(document)
    company = document.customer is not None and document.customer.is_company
    order = (False, True) if company else (True, False)
    for vat_included in order:
        plans = plan_rows(document, vat_included=vat_included, use_articles=options.use_articles)
        totals = predict(plans, vat_included=vat_included, vat_type_code=code)
        if (totals.gross, totals.vat) == expected:
            return vat_included, plans
    plans = plan_rows(document, vat_included=False, use_articles=options.use_articles)
    return False, _with_ore_adjustment(document, plans, code)


def _with_ore_adjustment(
    document: AccountingDocument, plans: list[RowPlan], code: str
) -> list[RowPlan]:
    sign = credit_sign(document)
    totals = predict(plans, vat_included=False, vat_type_code=code)
    wanted: dict[Decimal, Decimal] = {}
    for row in document.rows:
        rate = _vat_percent(row)
        wanted[rate] = wanted.get(rate, ZERO) + row.vat_amount * sign
    extra: list[RowPlan] = []
    for rate, (base, vat) in totals.per_rate.items():
        target = wanted.get(rate, ZERO)
        if vat == target or rate == 0:
            continue
        shift = _net_shift(base, rate, target)
        if shift is None:
            continue
        anchor = max((p for p in plans if p.vat == rate), key=lambda p: abs(p.amount().amount))
        text = clean(f"Öresjustering moms {rate} %", "RowDescription")
        extra.append(RowPlan(anchor.row, text, Decimal("1"), shift, rate, anchor.account))
        extra.append(RowPlan(anchor.row, text, Decimal("1"), -shift, ZERO, ROUNDING_ACCOUNT))
    return plans + extra


def _net_shift(base: Decimal, rate: Decimal, target_vat: Decimal) -> Decimal | None:
    """The smallest öre change of ``base`` after which its VAT at ``rate`` is ``target_vat``."""
    for steps in range(1, 51):
        for direction in (1, -1):
            shift = ORE * steps * direction
            if quantize((base + shift) * rate / 100) == target_vat:
                return shift
    return None


def row_payload(plan: RowPlan, *, order: bool = False) -> dict[str, Any]:
    """One invoice (or order) row."""
    payload: dict[str, Any] = {
        "Description": plan.description,
        "DeliveredQuantity": quantity_text(plan.quantity),
        "Price": quantize(plan.price),
        "VAT": int(plan.vat),
    }
    if order:
        payload["OrderedQuantity"] = quantity_text(plan.quantity)
    if plan.account:
        payload["AccountNumber"] = int(plan.account)
    if plan.article:
        payload["ArticleNumber"] = plan.article
    return payload


# -- documents ----------------------------------------------------------------------------


RowFilter = Callable[[dict[str, Any], DocumentRow], dict[str, Any]]


def filtered_rows(
    plans: list[RowPlan], document: AccountingDocument, route: RouteContext, *, order: bool
) -> list[dict[str, Any]]:
    """Row payloads after ``ledgerbridge_row_payload`` and the Fortnox row hook."""
    rows = []
    for plan in plans:
        payload = route.filters.row(row_payload(plan, order=order), plan.row, document)
        changed = route.filters.extension(
            ROW_HOOK, payload=payload, row=plan.row, document=document, route=route
        )
        rows.append(changed if changed is not None else payload)
    return rows


def _header(
    document: AccountingDocument,
    options: RouteOptions,
    customer_number: str,
    *,
    vat_included: bool,
    send_email: bool,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "CustomerNumber": customer_number,
        "VATIncluded": vat_included,
        "Currency": document.currency.upper(),
        "ExternalInvoiceReference1": fortnox_reference(document),
    }
    order_number = clean(document.order_number, "YourOrderNumber")
    if order_number:
        header["YourOrderNumber"] = order_number
    if document.currency.upper() != "SEK":
        if document.sek_rate <= 0:
            raise DataError(f"Document {document.reference} in {document.currency} has no rate.")
        header["CurrencyRate"] = document.sek_rate
        header["CurrencyUnit"] = 1
    way = options.way_of_delivery_for(
        document.meta.get("shipping_method", ""), document.meta.get("shipping_zone", "")
    )
    if way:
        header["WayOfDelivery"] = way
    if options.terms_of_payment:
        header["TermsOfPayment"] = options.terms_of_payment
    if options.our_reference:
        header["OurReference"] = clean(options.our_reference, "OurReference")
    language = options.language or ("SV" if document.country in ("", "SE") else "EN")
    header["Language"] = language
    remarks = clean("\n".join(document.texts), "Remarks")
    if remarks:
        header["Remarks"] = remarks
    header["Comments"] = clean(f"ledgerbridge {document.reference}", "Comments")
    customer = document.customer
    if customer is not None and customer.shipping is not None:
        shipping = customer.shipping
        delivery = {
            "DeliveryName": clean(shipping.company or shipping.person_name, "DeliveryName"),
            "DeliveryAddress1": clean(shipping.street, "Address1"),
            "DeliveryAddress2": clean(shipping.street2, "Address2"),
            "DeliveryZipCode": clean(shipping.postcode, "ZipCode"),
            "DeliveryCity": clean(shipping.city, "City"),
            "DeliveryCountry": country_name(shipping.country),
        }
        header.update({key: value for key, value in delivery.items() if value})
    if send_email and customer is not None and customer.email:
        header["EmailInformation"] = {
            "EmailAddressTo": clean(customer.email, "Email"),
            "EmailSubject": clean(
                f"Faktura {{no}} för order {document.order_number}", "EmailSubject"
            ),
        }
    if (
        options.document_number_prefix
        and document.order_number.isdigit()
        and not document.is_credit
    ):
        header["DocumentNumber"] = f"{options.document_number_prefix}{document.order_number}"
    return header


def _freight_and_fee(
    plans: list[RowPlan], options: RouteOptions, document: AccountingDocument
) -> tuple[list[RowPlan], dict[str, Decimal]]:
    """Move shipping/fee rows into Freight/AdministrationFee when that books them right."""
    fields: dict[str, Decimal] = {}
    if document.is_credit:
        return plans, fields
    items = [plan for plan in plans if plan.row.kind is RowKind.ITEM]
    if not items:
        return plans, fields
    by_rate: dict[Decimal, Decimal] = {}
    for plan in items:
        by_rate[plan.vat] = by_rate.get(plan.vat, ZERO) + abs(plan.amount().amount)
    dominant = max(by_rate.items(), key=lambda item: (item[1], item[0]))[0]
    remaining = list(plans)
    for kind, wanted, field_name in (
        (RowKind.SHIPPING, options.shipping_as_freight, "Freight"),
        (RowKind.FEE, options.fee_as_administration_fee, "AdministrationFee"),
    ):
        rows = [plan for plan in plans if plan.row.kind is kind]
        if not wanted or not rows or any(plan.vat != dominant for plan in rows):
            continue
        fields[field_name] = money_sum(plan.amount().amount for plan in rows)
        remaining = [plan for plan in remaining if plan not in rows]
    return remaining, fields


def invoice_payload(
    document: AccountingDocument,
    route: RouteContext,
    options: RouteOptions,
    customer_number: str,
    *,
    send_email: bool,
    order: bool = False,
) -> dict[str, Any]:
    """The invoice (or, with ``order=True``, the order) for the document, after filters."""
    vat_included, plans = choose_rows(document, options)
    plans, extras = _freight_and_fee(plans, options, document)
    body = _header(
        document, options, customer_number, vat_included=vat_included, send_email=send_email
    )
    body.update(extras)
    rows = filtered_rows(plans, document, route, order=order)
    if order:
        body["OrderDate"] = document.date.isoformat()
        body["CopyRemarks"] = True
        body["OrderRows"] = rows
        body.pop("EmailInformation", None)
    else:
        body["InvoiceDate"] = document.date.isoformat()
        body["InvoiceRows"] = rows
    return route.filters.document(body, document)


def credit_invoice_payload(
    document: AccountingDocument,
    route: RouteContext,
    options: RouteOptions,
    original: dict[str, Any],
) -> dict[str, Any]:
    """A credit invoice for the refunded rows, referencing the original invoice.

    Currency, rate and customer come from the original (a credit uses the original's
    rates), and ``CreditInvoiceReference`` names the original's number.
    """
    body = invoice_payload(
        document.replace(
            currency=str(original.get("Currency") or document.currency),
            sek_rate=Decimal(str(original.get("CurrencyRate") or document.sek_rate)),
        ),
        route,
        options,
        str(original["CustomerNumber"]),
        send_email=False,
    )
    body["CreditInvoiceReference"] = str(original["DocumentNumber"])
    return body


def voucher_payload(
    document: AccountingDocument,
    route: RouteContext,
    options: RouteOptions,
    *,
    financial_year: int,
) -> dict[str, Any]:
    """A voucher from the document's journal (SEK); credit notes become correcting vouchers."""
    lines = [line for line in document.journal if line.debit or line.credit]
    if _reads_as_sale(document):
        lines = [line.replace(debit=line.credit, credit=line.debit) for line in lines]
    if len(lines) < 2:
        raise DataError(f"Document {document.reference} has no journal to book as a voucher.")
    debit = money_sum(line.debit for line in lines)
    credit = money_sum(line.credit for line in lines)
    if debit != credit:
        raise DataError(
            f"The journal of {document.reference} does not balance (debit {debit}, "
            f"credit {credit}); Fortnox vouchers must balance."
        )
    labels = {
        "cash_sale": "Kontantförsäljning",
        "daily_summary": "Dagskassa",
        "credit_note": "Kreditering",
        "invoice": "Försäljning",
    }
    label = labels.get(document.document_type.value, "Försäljning")
    subject = document.order_number or document.date.isoformat()
    rows = []
    for line in lines:
        row: dict[str, Any] = {
            "Account": int(line.account),
            "Debit": quantize(line.debit),
            "Credit": quantize(line.credit),
        }
        info = clean(line.description, "TransactionInformation")
        if info:
            row["TransactionInformation"] = info
        rows.append(row)
    body = {
        "VoucherSeries": options.voucher_series,
        "TransactionDate": document.date.isoformat(),
        "Description": clean(f"{label} {subject}", "VoucherDescription"),
        "Comments": voucher_marker(document),
        "Year": financial_year,
        "VoucherRows": rows,
    }
    return route.filters.document(body, document)


def _reads_as_sale(document: AccountingDocument) -> bool:
    """True for a credit note whose journal credits revenue (written like the sale)."""
    if not document.is_credit:
        return False
    revenue = [line for line in document.journal if line.account.startswith("3")]
    credited = money_sum(line.credit for line in revenue)
    debited = money_sum(line.debit for line in revenue)
    return credited > debited


def payment_payload(
    document: AccountingDocument,
    options: RouteOptions,
    invoice: dict[str, Any],
    *,
    amount: Decimal,
) -> dict[str, Any]:
    """An invoice payment of ``amount`` (invoice currency) on the invoice's date or later."""
    currency = str(invoice.get("Currency") or "SEK").upper()
    rate = Decimal(str(invoice.get("CurrencyRate") or "1"))
    invoice_date = str(invoice.get("InvoiceDate") or document.date.isoformat())
    payment_date = max(paid_on(document) or document.date.isoformat(), invoice_date)
    payload: dict[str, Any] = {
        "InvoiceNumber": int(str(invoice["DocumentNumber"])),
        "PaymentDate": payment_date,
        "Amount": quantize(amount * rate) if currency != "SEK" else quantize(amount),
    }
    if currency != "SEK":
        payload["AmountCurrency"] = quantize(amount)
        payload["CurrencyRate"] = rate
    mode = options.modes_of_payment.get(document.payment_method, "")
    if mode:
        payload["ModeOfPayment"] = mode
    if document.payment_account:
        payload["ModeOfPaymentAccount"] = int(document.payment_account)
    return payload
