"""Invoices, orders, payments and vouchers of a sandbox company, with Fortnox's rules.

* Documents are numbered per series; OCR numbers follow Fortnox's scheme (number, length
  digit, Luhn check digit).
* Totals are computed by :mod:`ledgerbridge_fortnox.totals` (price and quantity at 2
  decimals, VAT per rate, freight at the rate of the largest amount, no VAT for reverse
  charge and export customers, optional öresavrundning).
* A booked or cancelled invoice cannot be changed; only a booked, uncredited invoice can be
  credited; payments reduce the balance; vouchers must balance and use a manual series.
* Outputs carry Fortnox's type quirks that the spec allows: numbers as strings for
  ``DocumentNumber``, ``OCR``, row quantities, ``Credit`` ("true"/"false") and the reference
  fields ("0" when empty).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.money import ZERO, quantize
from ledgerbridge_fortnox.countries import country_name
from ledgerbridge_fortnox.sandbox.seed import today
from ledgerbridge_fortnox.sandbox.state import Tenant
from ledgerbridge_fortnox.sandbox.wire import (
    GENERIC_CODE,
    bad,
    boolean_of,
    decimal_of,
    not_found,
)
from ledgerbridge_fortnox.totals import RowAmount, compute_totals

HEADER_COPY = (
    "Address1",
    "Address2",
    "City",
    "ZipCode",
    "Phone1",
    "Phone2",
    "YourReference",
    "OurReference",
    "YourOrderNumber",
    "ExternalInvoiceReference1",
    "ExternalInvoiceReference2",
    "Remarks",
    "Comments",
    "DeliveryName",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryCity",
    "DeliveryZipCode",
    "DeliveryCountry",
    "CostCenter",
    "Project",
    "PriceList",
    "PrintTemplate",
)


def ocr_for(number: str) -> str:
    """Fortnox's OCR for a document number: number, length digit, Luhn check digit."""
    digits = f"{number}{(len(number) + 2) % 10}"
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return f"{digits}{(10 - total % 10) % 10}"


def quantity_text(value: Decimal) -> str:
    """A quantity as Fortnox returns it: a string with at most 2 decimals."""
    text = format(quantize(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _date(value: Any, field: str, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad(GENERIC_CODE, f"Felaktigt datum ({field}: {value})") from None


def _customer(tenant: Tenant, number: Any) -> dict[str, Any]:
    if number in (None, ""):
        raise bad(GENERIC_CODE, "Kundnummer saknas (CustomerNumber).")
    customer = tenant.customers.get(str(number))
    if customer is None:
        raise bad(2000204, f"Kunde inte hitta kund ({number})")
    return customer


def _rows(tenant: Tenant, raw_rows: Any, *, order: bool, vat_type: str) -> list[dict[str, Any]]:
    if raw_rows is None:
        return []
    if not isinstance(raw_rows, list):
        raise bad(GENERIC_CODE, "Ingen eller felaktig typ av data.")
    rows = []
    for index, raw in enumerate(raw_rows, start=1):
        if not isinstance(raw, dict):
            raise bad(GENERIC_CODE, "Ingen eller felaktig typ av data.")
        article_number = raw.get("ArticleNumber")
        article = None
        if article_number not in (None, "", "API_BLANK"):
            article = tenant.articles.get(str(article_number))
            if article is None:
                raise bad(2001302, f"Kunde inte hitta artikel ({article_number})")
        quantity_field = "OrderedQuantity" if order else "DeliveredQuantity"
        quantity = quantize(decimal_of(raw.get(quantity_field), quantity_field, default=ZERO))
        delivered = quantize(
            decimal_of(raw.get("DeliveredQuantity"), "DeliveredQuantity", default=quantity)
        )
        description = raw.get("Description") or (article or {}).get("Description", "")
        if quantity != 0 and not description:
            raise bad(2003977, "Rad med antal saknar benämning eller artikel.")
        price = quantize(decimal_of(raw.get("Price"), "Price", default=_price_of(tenant, article)))
        account = raw.get("AccountNumber")
        if account not in (None, ""):
            account_number = int(decimal_of(account, "AccountNumber"))
            record = tenant.accounts.get(account_number)
            if record is None or not record.get("Active", True):
                raise bad(2001304, f"Kunde inte hitta konto ({account_number})")
        else:
            account_number = int(
                (article or {}).get("SalesAccount")
                or tenant.predefined_accounts.get("SALES_25_SE", {}).get("Account", 3001)
            )
        vat = decimal_of(raw.get("VAT"), "VAT", default=Decimal((article or {}).get("VAT") or 25))
        if vat not in tenant.vat_rates and account in (None, ""):
            raise bad(
                2004167,
                "An account must be provided when using a custom VAT rate and EasyVat has been "
                "enabled.",
            )
        discount = decimal_of(raw.get("Discount"), "Discount", default=ZERO)
        effective_vat = ZERO if vat_type in ("EUREVERSEDVAT", "EXPORT", "SEREVERSEDVAT") else vat
        row: dict[str, Any] = {
            "RowId": index,
            "ArticleNumber": str(article_number) if article else None,
            "Description": str(description),
            "DeliveredQuantity": quantity_text(delivered if order else quantity),
            "Price": price,
            "VAT": int(effective_vat),
            "AccountNumber": account_number,
            "Discount": discount,
            "DiscountType": raw.get("DiscountType") or "PERCENT",
            "Unit": raw.get("Unit") or (article or {}).get("Unit"),
            "CostCenter": raw.get("CostCenter"),
            "Project": raw.get("Project"),
            "ContributionPercent": "0",
            "ContributionValue": "0",
        }
        if order:
            row["OrderedQuantity"] = quantity_text(quantity)
            row["ReservedQuantity"] = "0"
        rows.append(row)
    return rows


def _price_of(tenant: Tenant, article: dict[str, Any] | None) -> Decimal:
    if article is None:
        return ZERO
    price = tenant.prices.get(("A", str(article["ArticleNumber"]), "0"))
    return Decimal(str(price["Price"])) if price else ZERO


def _row_amounts(rows: list[dict[str, Any]], quantity_field: str) -> list[RowAmount]:
    return [
        RowAmount(
            price=Decimal(str(row["Price"])),
            quantity=Decimal(str(row[quantity_field])),
            vat=Decimal(row["VAT"]),
            discount_percent=Decimal(str(row.get("Discount") or 0))
            if row.get("DiscountType") == "PERCENT"
            else ZERO,
        )
        for row in rows
    ]


def recompute(
    document: dict[str, Any], customer: dict[str, Any], *, round_off: bool, order: bool
) -> None:
    """Fill row totals and header totals of an invoice or order in place."""
    rows = document.get("OrderRows" if order else "InvoiceRows") or []
    quantity_field = "OrderedQuantity" if order else "DeliveredQuantity"
    vat_included = bool(document.get("VATIncluded"))
    for row in rows:
        amount = RowAmount(
            Decimal(str(row["Price"])), Decimal(str(row[quantity_field])), Decimal(row["VAT"])
        ).amount
        row["Total"] = amount
        rate = Decimal(row["VAT"])
        if not order:
            price = Decimal(str(row["Price"]))
            if vat_included and rate:
                row["PriceExcludingVAT"] = quantize(price * 100 / (100 + rate))
                row["TotalExcludingVAT"] = quantize(amount * 100 / (100 + rate))
            else:
                row["PriceExcludingVAT"] = price
                row["TotalExcludingVAT"] = amount
    totals = compute_totals(
        _row_amounts(rows, quantity_field),
        vat_included=vat_included,
        vat_type=str(customer.get("VATType") or "SEVAT"),
        freight=Decimal(str(document.get("Freight") or 0)),
        administration_fee=Decimal(str(document.get("AdministrationFee") or 0)),
        round_off=round_off and document.get("Currency", "SEK") == "SEK",
    )
    document.update(
        {
            "Net": totals.net,
            "TotalVAT": totals.vat,
            "Gross": totals.gross,
            "RoundOff": totals.round_off,
            "Total": totals.total,
            "TotalToPay": totals.total,
            "FreightVAT": totals.freight_vat,
            "AdministrationFeeVAT": totals.administration_fee_vat,
        }
    )


def _header(
    tenant: Tenant, body: dict[str, Any], customer: dict[str, Any], *, order: bool
) -> dict[str, Any]:
    current = today()
    currency = str(body.get("Currency") or customer.get("Currency") or "SEK").upper()
    currency_record = tenant.currencies.get(currency)
    if currency_record is None:
        raise bad(GENERIC_CODE, f"Kunde inte hämta/hitta valuta ({currency})")
    rate = decimal_of(body.get("CurrencyRate"), "CurrencyRate", default=currency_record["SellRate"])
    terms_code = str(body.get("TermsOfPayment") or customer.get("TermsOfPayment") or "30")
    terms = tenant.terms_of_payment.get(terms_code)
    if terms is None and body.get("TermsOfPayment"):
        raise bad(2000429, "Kan inte hitta betalningsvillkoret.")
    way = body.get("WayOfDelivery")
    if way and way not in tenant.ways_of_delivery:
        raise bad(GENERIC_CODE, f"Kunde inte hämta/hitta leveranssätt ({way})")
    document_date = _date(body.get("OrderDate" if order else "InvoiceDate"), "Datum", current)
    days = int(terms_code) if terms_code.isdigit() else 30
    header: dict[str, Any] = {
        "CustomerNumber": customer["CustomerNumber"],
        "CustomerName": body.get("CustomerName") or customer["Name"],
        "OrganisationNumber": customer.get("OrganisationNumber") or None,
        "Currency": currency,
        "CurrencyRate": rate,
        "CurrencyUnit": int(
            decimal_of(body.get("CurrencyUnit"), "CurrencyUnit", default=Decimal(1))
        ),
        "VATIncluded": boolean_of(body.get("VATIncluded"), default=False),
        "Language": body.get("Language") or "SV",
        "TermsOfPayment": terms_code,
        "WayOfDelivery": way or customer.get("WayOfDelivery") or None,
        "Freight": decimal_of(body.get("Freight"), "Freight", default=ZERO),
        "AdministrationFee": decimal_of(
            body.get("AdministrationFee"), "AdministrationFee", default=ZERO
        ),
        "Cancelled": False,
        "Sent": False,
        "NotCompleted": False,
        "WarehouseReady": True,
        "OutboundDate": current.isoformat(),
        "TaxReductionType": "none",
        "HouseWork": False,
        "Country": country_name(customer.get("CountryCode", "SE")) or "Sverige",
        "Labels": [],
    }
    for key in HEADER_COPY:
        value = body.get(key)
        if value is None:
            value = {
                "Address1": customer.get("Address1"),
                "Address2": customer.get("Address2"),
                "City": customer.get("City"),
                "ZipCode": customer.get("ZipCode"),
                "Phone1": customer.get("Phone1"),
                "PriceList": "A",
            }.get(key)
        header[key] = value
    if order:
        header["OrderDate"] = document_date.isoformat()
        header["DeliveryDate"] = None
        header["PrintTemplate"] = header.get("PrintTemplate") or "oc"
    else:
        header["InvoiceDate"] = document_date.isoformat()
        due = _date(body.get("DueDate"), "DueDate", document_date + timedelta(days=days))
        header["DueDate"] = due.isoformat()
        header["PrintTemplate"] = header.get("PrintTemplate") or "st"
    return header


def create_invoice(
    tenant: Tenant, body: dict[str, Any], *, base_url: str, round_off: bool
) -> dict[str, Any]:
    """Create an invoice (also a manual credit invoice when CreditInvoiceReference is set)."""
    customer = _customer(tenant, body.get("CustomerNumber"))
    invoice = _header(tenant, body, customer, order=False)
    invoice["InvoiceRows"] = _rows(
        tenant, body.get("InvoiceRows"), order=False, vat_type=str(customer.get("VATType"))
    )
    number = _document_number(tenant, "invoice", body.get("DocumentNumber"), tenant.invoices)
    credit_reference = str(body.get("CreditInvoiceReference") or "0")
    if credit_reference != "0" and credit_reference not in tenant.invoices:
        raise bad(2000434, f"Kan inte hitta fakturan. ({credit_reference})")
    invoice.update(
        {
            "@url": f"{base_url}/3/invoices/{number}",
            "DocumentNumber": number,
            "OCR": str(body.get("OCR") or ocr_for(number)),
            "InvoiceType": body.get("InvoiceType") or "INVOICE",
            "Booked": False,
            "Credit": "true" if credit_reference != "0" else "false",
            "CreditInvoiceReference": "0",
            "InvoiceReference": credit_reference,
            "OrderReference": "0",
            "OfferReference": "0",
            "ContractReference": 0,
            "AccountingMethod": "ACCRUAL",
            "EmailInformation": _email_information(body, number),
            "VoucherNumber": None,
            "VoucherSeries": None,
            "VoucherYear": None,
            "Reminders": 0,
        }
    )
    recompute(invoice, customer, round_off=round_off, order=False)
    invoice["Balance"] = invoice["Total"]
    tenant.invoices[number] = invoice
    kind = "credit_invoice" if credit_reference != "0" else "invoice"
    tenant.record(
        kind,
        number,
        reference=invoice.get("ExternalInvoiceReference1"),
        total=invoice["Total"],
        vat=invoice["TotalVAT"],
        currency=invoice["Currency"],
    )
    return invoice


def _email_information(body: dict[str, Any], number: str) -> dict[str, Any]:
    given = body.get("EmailInformation") or {}
    return {
        "EmailAddressFrom": given.get("EmailAddressFrom"),
        "EmailAddressTo": given.get("EmailAddressTo"),
        "EmailAddressCC": given.get("EmailAddressCC"),
        "EmailAddressBCC": given.get("EmailAddressBCC"),
        "EmailSubject": str(given.get("EmailSubject") or "Faktura {no} bifogas").replace(
            "{no}", number
        ),
        "EmailBody": given.get("EmailBody") or " ",
    }


def _document_number(tenant: Tenant, series: str, wanted: Any, existing: dict[str, Any]) -> str:
    if wanted not in (None, ""):
        text = str(wanted)
        if not text.isdigit():
            raise bad(2000108, f"Värdet måste vara numeriskt ({text})")
        if text in existing:
            raise bad(GENERIC_CODE, f"Dokumentnumret {text} används redan.")
        tenant.counters[series] = max(tenant.counters.get(series, 0), int(text))
        return text
    while True:
        number = str(tenant.next_number(series))
        if number not in existing:
            return number


def update_invoice(
    tenant: Tenant, number: str, body: dict[str, Any], *, round_off: bool
) -> dict[str, Any]:
    """Change an unbooked, uncancelled invoice (PUT is partial)."""
    invoice = get_invoice(tenant, number)
    if invoice["Booked"]:
        raise bad(2003125, "Fakturan är bokförd och kan inte ändras.")
    if invoice["Cancelled"]:
        raise bad(2003125, "Fakturan är makulerad och kan inte ändras.")
    customer = _customer(tenant, body.get("CustomerNumber") or invoice["CustomerNumber"])
    for key in (
        *HEADER_COPY,
        "VATIncluded",
        "TermsOfPayment",
        "WayOfDelivery",
        "Freight",
        "AdministrationFee",
        "Language",
    ):
        if key in body:
            invoice[key] = body[key]
    if "InvoiceRows" in body:
        sign_credit = invoice["Credit"] == "true"
        rows = _rows(
            tenant, body["InvoiceRows"], order=False, vat_type=str(customer.get("VATType"))
        )
        if sign_credit and any(Decimal(row["DeliveredQuantity"]) > 0 for row in rows):
            raise bad(GENERIC_CODE, "En kreditfaktura kan inte ha positiva antal.")
        invoice["InvoiceRows"] = rows
    if "EmailInformation" in body:
        invoice["EmailInformation"] = _email_information(body, number)
    recompute(invoice, customer, round_off=round_off, order=False)
    invoice["Balance"] = invoice["Total"] - _paid(tenant, number)
    tenant.touch("invoice", number)
    return invoice


def get_invoice(tenant: Tenant, number: str) -> dict[str, Any]:
    """The invoice or a PascalCase 404."""
    invoice = tenant.invoices.get(str(number))
    if invoice is None:
        raise not_found(2000434, "Kan inte hitta fakturan.")
    return invoice


def bookkeep_invoice(tenant: Tenant, number: str) -> dict[str, Any]:
    """Book an invoice: it becomes immutable and a voucher in series B records it."""
    invoice = get_invoice(tenant, number)
    if invoice["Cancelled"]:
        raise bad(GENERIC_CODE, "Fakturan är makulerad och kan inte bokföras.")
    if invoice["Booked"]:
        raise bad(GENERIC_CODE, "Fakturan är redan bokförd.")
    day = date.fromisoformat(invoice["InvoiceDate"])
    year = tenant.financial_year_for(day)
    if year is None:
        raise bad(GENERIC_CODE, "Räkenskapsår saknas för fakturadatumet.")
    rate = Decimal(str(invoice["CurrencyRate"])) / Decimal(invoice.get("CurrencyUnit") or 1)
    rows = _invoice_journal(tenant, invoice, rate)
    voucher = add_voucher(
        tenant,
        "B",
        day,
        f"Kundfaktura {number}",
        rows,
        year,
        reference=("INVOICE", number),
        manual_check=False,
    )
    invoice.update(
        {
            "Booked": True,
            "VoucherNumber": voucher["VoucherNumber"],
            "VoucherSeries": "B",
            "VoucherYear": year["Id"],
        }
    )
    tenant.touch("invoice", number)
    return invoice


def _invoice_journal(
    tenant: Tenant, invoice: dict[str, Any], rate: Decimal
) -> list[dict[str, Any]]:
    vat_accounts = {Decimal(25): 2611, Decimal(12): 2621, Decimal(6): 2631}
    credits: dict[int, Decimal] = {}
    included = bool(invoice.get("VATIncluded"))
    for row in invoice["InvoiceRows"]:
        amount = Decimal(str(row["Total"]))
        vat_rate = Decimal(row["VAT"])
        net = quantize(amount * 100 / (100 + vat_rate)) if included and vat_rate else amount
        credits[row["AccountNumber"]] = credits.get(row["AccountNumber"], ZERO) + net
    extras = Decimal(str(invoice.get("Freight") or 0)) + Decimal(
        str(invoice.get("AdministrationFee") or 0)
    )
    extras_vat = Decimal(str(invoice.get("FreightVAT") or 0)) + Decimal(
        str(invoice.get("AdministrationFeeVAT") or 0)
    )
    if extras:
        net_extras = extras - extras_vat if included else extras
        credits[3520] = credits.get(3520, ZERO) + net_extras
    lines: dict[int, Decimal] = {
        account: quantize(value * rate) for account, value in credits.items()
    }
    vat_total = ZERO
    for row_rate, vat_account in vat_accounts.items():
        rows_vat = _vat_at(invoice, row_rate)
        if rows_vat:
            lines[vat_account] = lines.get(vat_account, ZERO) + quantize(rows_vat * rate)
            vat_total += quantize(rows_vat * rate)
    other_vat = quantize(Decimal(str(invoice["TotalVAT"])) * rate) - vat_total
    if other_vat:
        lines[2670] = lines.get(2670, ZERO) + other_vat
    if invoice.get("RoundOff"):
        lines[3740] = lines.get(3740, ZERO) + quantize(Decimal(str(invoice["RoundOff"])) * rate)
    receivable = sum(lines.values(), ZERO)
    rows = (
        [{"Account": 1510, "Debit": receivable, "Credit": ZERO}]
        if receivable >= 0
        else [{"Account": 1510, "Debit": ZERO, "Credit": -receivable}]
    )
    for account, value in lines.items():
        if value >= 0:
            rows.append({"Account": account, "Debit": ZERO, "Credit": value})
        else:
            rows.append({"Account": account, "Debit": -value, "Credit": ZERO})
    return rows


def _vat_at(invoice: dict[str, Any], rate: Decimal) -> Decimal:
    rows = [row for row in invoice["InvoiceRows"] if Decimal(row["VAT"]) == rate]
    if not rows:
        return ZERO
    amounts = [
        RowAmount(Decimal(str(r["Price"])), Decimal(str(r["DeliveredQuantity"])), rate)
        for r in rows
    ]
    totals = compute_totals(amounts, vat_included=bool(invoice.get("VATIncluded")))
    return totals.vat


def credit_invoice(
    tenant: Tenant, number: str, *, base_url: str, round_off: bool
) -> dict[str, Any]:
    """Create the credit invoice of a booked invoice; returns the (updated) original."""
    invoice = get_invoice(tenant, number)
    if invoice["Cancelled"]:
        raise bad(GENERIC_CODE, "En makulerad faktura kan inte krediteras.")
    if not invoice["Booked"]:
        raise bad(GENERIC_CODE, "Fakturan måste vara bokförd innan den krediteras.")
    if invoice["Credit"] == "true":
        raise bad(GENERIC_CODE, "En kreditfaktura kan inte krediteras.")
    if invoice["CreditInvoiceReference"] != "0":
        raise bad(GENERIC_CODE, "Fakturan är redan krediterad.")
    body = {key: invoice.get(key) for key in HEADER_COPY if invoice.get(key) is not None}
    body.update(
        {
            "CustomerNumber": invoice["CustomerNumber"],
            "Currency": invoice["Currency"],
            "CurrencyRate": invoice["CurrencyRate"],
            "VATIncluded": invoice["VATIncluded"],
            "TermsOfPayment": invoice["TermsOfPayment"],
            "Freight": -Decimal(str(invoice.get("Freight") or 0)),
            "AdministrationFee": -Decimal(str(invoice.get("AdministrationFee") or 0)),
            "CreditInvoiceReference": number,
            "InvoiceRows": [
                {
                    "ArticleNumber": row.get("ArticleNumber"),
                    "Description": row["Description"],
                    "DeliveredQuantity": str(-Decimal(row["DeliveredQuantity"])),
                    "Price": row["Price"],
                    "VAT": row["VAT"],
                    "AccountNumber": row["AccountNumber"],
                }
                for row in invoice["InvoiceRows"]
            ],
        }
    )
    body["ExternalInvoiceReference1"] = None
    credit = create_invoice(tenant, body, base_url=base_url, round_off=round_off)
    invoice["CreditInvoiceReference"] = credit["DocumentNumber"]
    tenant.touch("invoice", number)
    return invoice


def _paid(tenant: Tenant, number: str) -> Decimal:
    return sum(
        (
            Decimal(str(p["AmountCurrency"]))
            for p in tenant.payments.values()
            if str(p["InvoiceNumber"]) == str(number)
        ),
        ZERO,
    )


def create_payment(tenant: Tenant, body: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """Register a payment on an invoice (negative amounts on credit invoices)."""
    number = str(body.get("InvoiceNumber") or "")
    invoice = tenant.invoices.get(number)
    if invoice is None:
        raise bad(2000434, "Kan inte hitta fakturan.")
    if invoice["Cancelled"]:
        raise bad(GENERIC_CODE, "Fakturan är makulerad.")
    payment_date = _date(body.get("PaymentDate"), "PaymentDate", today())
    if payment_date.isoformat() < invoice["InvoiceDate"]:
        raise bad(2001089, "Betalningsdatum kan inte vara tidigare än fakturadatum.")
    currency = invoice["Currency"]
    amount = quantize(decimal_of(body.get("Amount"), "Amount"))
    if currency != "SEK":
        if body.get("AmountCurrency") in (None, ""):
            raise bad(GENERIC_CODE, f"AmountCurrency krävs för en faktura i {currency}.")
        amount_currency = quantize(decimal_of(body.get("AmountCurrency"), "AmountCurrency"))
    else:
        amount_currency = amount
    balance = Decimal(str(invoice["Balance"]))
    if (
        balance == 0
        or abs(amount_currency) > abs(balance)
        or (balance > 0) != (amount_currency > 0)
    ):
        raise bad(
            2003055,
            "Fakturan är redan betald." if balance == 0 else "Beloppet överstiger fakturans saldo.",
        )
    mode = body.get("ModeOfPayment")
    if mode and mode not in tenant.modes_of_payment:
        raise bad(GENERIC_CODE, f"Kunde inte hitta betalsätt ({mode})")
    account = (
        body.get("ModeOfPaymentAccount")
        or (tenant.modes_of_payment.get(mode or "", {}).get("AccountNumber"))
        or 1930
    )
    if int(account) not in tenant.accounts:
        raise bad(2001304, f"Kunde inte hitta konto ({account})")
    payment_number = str(tenant.next_number("payment"))
    payment = {
        "@url": f"{base_url}/3/invoicepayments/{payment_number}",
        "Number": payment_number,
        "InvoiceNumber": int(number),
        "Amount": amount,
        "AmountCurrency": amount_currency,
        "Currency": currency,
        "CurrencyRate": invoice["CurrencyRate"],
        "CurrencyUnit": Decimal(invoice.get("CurrencyUnit") or 1),
        "PaymentDate": payment_date.isoformat(),
        "ModeOfPayment": mode,
        "ModeOfPaymentAccount": int(account),
        "Booked": False,
        "Source": "direct",
        "ExternalInvoiceReference1": invoice.get("ExternalInvoiceReference1"),
        "ExternalInvoiceReference2": invoice.get("ExternalInvoiceReference2"),
        "InvoiceCustomerName": invoice.get("CustomerName"),
        "InvoiceCustomerNumber": invoice["CustomerNumber"],
        "InvoiceDueDate": invoice.get("DueDate"),
        "InvoiceOCR": invoice.get("OCR"),
        "InvoiceTotal": str(invoice["Total"]),
        "WriteOffs": [],
    }
    tenant.payments[payment_number] = payment
    invoice["Balance"] = balance - amount_currency
    if invoice["Balance"] == 0:
        invoice["FinalPayDate"] = payment_date.isoformat()
    tenant.touch("invoice", number)
    tenant.record("payment", payment_number, invoice=number, amount=amount, currency=currency)
    return payment


def bookkeep_payment(tenant: Tenant, number: str) -> dict[str, Any]:
    """Book a payment (series C voucher: bank against receivable, FX difference aside)."""
    payment = tenant.payments.get(str(number))
    if payment is None:
        raise not_found(2000434, "Kan inte hitta inbetalningen.")
    if payment["Booked"]:
        raise bad(GENERIC_CODE, "Inbetalningen är redan bokförd.")
    day = date.fromisoformat(payment["PaymentDate"])
    year = tenant.financial_year_for(day)
    if year is None:
        raise bad(GENERIC_CODE, "Räkenskapsår saknas för betalningsdatumet.")
    amount = Decimal(str(payment["Amount"]))
    invoice = tenant.invoices[str(payment["InvoiceNumber"])]
    rate = Decimal(str(invoice["CurrencyRate"])) / Decimal(invoice.get("CurrencyUnit") or 1)
    receivable = quantize(Decimal(str(payment["AmountCurrency"])) * rate)
    rows = [_side(payment["ModeOfPaymentAccount"], amount), _side(1510, -receivable)]
    difference = receivable - amount
    if difference:
        rows.append(_side(7960 if difference > 0 else 3960, difference))
    voucher = add_voucher(
        tenant,
        "C",
        day,
        f"Inbetalning faktura {invoice['DocumentNumber']}",
        rows,
        year,
        reference=("INVOICEPAYMENT", str(number)),
        manual_check=False,
    )
    payment.update(
        {
            "Booked": True,
            "VoucherNumber": voucher["VoucherNumber"],
            "VoucherSeries": "C",
            "VoucherYear": year["Id"],
        }
    )
    return payment


def _side(account: int, amount: Decimal) -> dict[str, Any]:
    if amount >= 0:
        return {"Account": int(account), "Debit": amount, "Credit": ZERO}
    return {"Account": int(account), "Debit": ZERO, "Credit": -amount}


def add_voucher(
    tenant: Tenant,
    series: str,
    day: date,
    description: str,
    rows: list[dict[str, Any]],
    year: dict[str, Any],
    *,
    reference: tuple[str, str] = ("MANUAL", ""),
    comments: str = "",
    manual_check: bool = True,
    base_url: str = "",
) -> dict[str, Any]:
    """Add a balanced voucher to a series of a financial year."""
    record = tenant.voucher_series.get(series)
    if record is None:
        raise bad(GENERIC_CODE, f"Verifikationsserien {series} finns inte.")
    if manual_check and not record["Manual"]:
        raise bad(GENERIC_CODE, "Verifikationsserien är inte manuell.")
    if len(rows) < 2:
        raise bad(GENERIC_CODE, "En verifikation måste ha minst två rader.")
    debit = sum((Decimal(str(row.get("Debit") or 0)) for row in rows), ZERO)
    credit = sum((Decimal(str(row.get("Credit") or 0)) for row in rows), ZERO)
    if quantize(debit) != quantize(credit):
        raise bad(
            GENERIC_CODE, f"Verifikationen är inte i balans (debet {debit}, kredit {credit})."
        )
    number = tenant.next_number(f"voucher:{year['Id']}:{series}")
    voucher = {
        "@url": f"{base_url}/3/vouchers/{series}/{number}?financialyear={year['Id']}",
        "VoucherSeries": series,
        "VoucherNumber": number,
        "Year": year["Id"],
        "TransactionDate": day.isoformat(),
        "Description": description,
        "Comments": comments,
        "ReferenceType": reference[0],
        "ReferenceNumber": reference[1],
        "ApprovalState": 0,
        "VoucherRows": [
            {
                "Account": int(row["Account"]),
                "Debit": quantize(Decimal(str(row.get("Debit") or 0))),
                "Credit": quantize(Decimal(str(row.get("Credit") or 0))),
                "Description": tenant.accounts.get(int(row["Account"]), {}).get("Description"),
                "TransactionInformation": row.get("TransactionInformation"),
                "Removed": False,
            }
            for row in rows
        ],
    }
    tenant.vouchers[(year["Id"], series, number)] = voucher
    tenant.record(
        "voucher",
        f"{series}{number}",
        year=year["Id"],
        series=series,
        reference=comments or reference[1],
        automatic=not manual_check,
        total=debit,
    )
    return voucher


def create_order(
    tenant: Tenant, body: dict[str, Any], *, base_url: str, round_off: bool
) -> dict[str, Any]:
    """Create an order."""
    customer = _customer(tenant, body.get("CustomerNumber"))
    order = _header(tenant, body, customer, order=True)
    order["OrderRows"] = _rows(
        tenant, body.get("OrderRows"), order=True, vat_type=str(customer.get("VATType"))
    )
    number = _document_number(tenant, "order", body.get("DocumentNumber"), tenant.orders)
    order.update(
        {
            "@url": f"{base_url}/3/orders/{number}",
            "DocumentNumber": number,
            "OrderType": "Order",
            "InvoiceReference": "0",
            "OfferReference": "0",
            "CopyRemarks": boolean_of(body.get("CopyRemarks"), default=False),
            "DeliveryState": "delivery",
            "EmailInformation": {"EmailSubject": f"Order {number} bifogas", "EmailBody": " "},
        }
    )
    recompute(order, customer, round_off=round_off, order=True)
    tenant.orders[number] = order
    tenant.record(
        "order",
        number,
        reference=order.get("ExternalInvoiceReference1"),
        total=order["Total"],
        currency=order["Currency"],
    )
    return order


def get_order(tenant: Tenant, number: str) -> dict[str, Any]:
    """The order or a PascalCase 404."""
    order = tenant.orders.get(str(number))
    if order is None:
        raise not_found(2000439, "Kan inte hitta ordern.")
    return order


def invoice_order(tenant: Tenant, number: str, *, base_url: str, round_off: bool) -> dict[str, Any]:
    """Create the invoice of an order (delivered quantities); returns the invoice."""
    order = get_order(tenant, number)
    if order["Cancelled"]:
        raise bad(GENERIC_CODE, "Ordern är makulerad.")
    if order["InvoiceReference"] != "0":
        raise bad(GENERIC_CODE, f"Ordern är redan fakturerad ({order['InvoiceReference']}).")
    body = {key: order.get(key) for key in HEADER_COPY if order.get(key) is not None}
    if not order.get("CopyRemarks"):
        body.pop("Remarks", None)
    body.update(
        {
            "CustomerNumber": order["CustomerNumber"],
            "Currency": order["Currency"],
            "CurrencyRate": order["CurrencyRate"],
            "VATIncluded": order["VATIncluded"],
            "TermsOfPayment": order["TermsOfPayment"],
            "WayOfDelivery": order.get("WayOfDelivery"),
            "Freight": order.get("Freight"),
            "AdministrationFee": order.get("AdministrationFee"),
            "Language": order.get("Language"),
            "InvoiceRows": [
                {
                    "ArticleNumber": row.get("ArticleNumber"),
                    "Description": row["Description"],
                    "DeliveredQuantity": row["DeliveredQuantity"],
                    "Price": row["Price"],
                    "VAT": row["VAT"],
                    "AccountNumber": row["AccountNumber"],
                }
                for row in order["OrderRows"]
                if Decimal(row["DeliveredQuantity"]) != 0
            ],
        }
    )
    invoice = create_invoice(tenant, body, base_url=base_url, round_off=round_off)
    invoice["OrderReference"] = number
    order["InvoiceReference"] = invoice["DocumentNumber"]
    tenant.touch("order", number)
    return invoice


def list_subset(document: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The list-item form of a document."""
    return {key: copy.deepcopy(document.get(key)) for key in ("@url", *fields)}
