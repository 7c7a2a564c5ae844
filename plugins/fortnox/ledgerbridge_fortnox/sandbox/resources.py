"""The ``/3/...`` resources of the sandbox (the parts of Fortnox API v3 the connector uses)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from ledgerbridge_fortnox.countries import country_name
from ledgerbridge_fortnox.sandbox import documents as docs
from ledgerbridge_fortnox.sandbox.pdf import invoice_pdf
from ledgerbridge_fortnox.sandbox.seed import today
from ledgerbridge_fortnox.sandbox.state import SandboxState, Tenant
from ledgerbridge_fortnox.sandbox.wire import (
    GENERIC_CODE,
    bad,
    boolean_of,
    decimal_of,
    json_response,
    listing,
    not_found,
    parse_body,
)

api = Blueprint("fortnox_api", __name__)

#: Which scope each resource needs (reference §1.6).
SCOPES = {
    "customers": "customer",
    "articles": "article",
    "prices": "price",
    "pricelists": "price",
    "orders": "order",
    "invoices": "invoice",
    "invoicepayments": "payment",
    "vouchers": "bookkeeping",
    "voucherseries": "bookkeeping",
    "accounts": "bookkeeping",
    "financialyears": "bookkeeping",
    "currencies": "currency",
    "companyinformation": "companyinformation",
    "settings": "settings",
    "wayofdeliveries": "settings",
    "termsofpayments": "settings",
    "modesofpayments": "settings",
    "predefinedaccounts": "settings",
    "units": "settings",
}

INVOICE_LIST_FIELDS = (
    "Balance",
    "Booked",
    "Cancelled",
    "CostCenter",
    "Currency",
    "CurrencyRate",
    "CurrencyUnit",
    "CustomerName",
    "CustomerNumber",
    "DocumentNumber",
    "DueDate",
    "ExternalInvoiceReference1",
    "ExternalInvoiceReference2",
    "FinalPayDate",
    "InvoiceDate",
    "InvoiceType",
    "OCR",
    "Project",
    "Sent",
    "TermsOfPayment",
    "Total",
    "VoucherNumber",
    "VoucherSeries",
    "VoucherYear",
    "WayOfDelivery",
)
ORDER_LIST_FIELDS = (
    "Cancelled",
    "Currency",
    "CustomerName",
    "CustomerNumber",
    "DeliveryDate",
    "DocumentNumber",
    "ExternalInvoiceReference1",
    "ExternalInvoiceReference2",
    "OrderDate",
    "OrderType",
    "Project",
    "Sent",
    "Total",
)


def state() -> SandboxState:
    """The sandbox state of this app."""
    return current_app.extensions["fortnox_sandbox"]


def tenant() -> Tenant:
    """The company of the request's access token."""
    return g.fortnox_tenant


def base_url() -> str:
    """The sandbox's own base URL (for ``@url``)."""
    return request.host_url.rstrip("/")


def round_off() -> bool:
    """Whether the company rounds invoice totals to whole kronor."""
    return state().knobs.round_off


def created(body: dict[str, Any]) -> Response:
    """A 201 with Fortnox's (relative, useless) Location header."""
    resource = request.path.rstrip("/").rsplit("/", 1)[-1]
    return json_response(body, 201, {"Location": resource})


def _modified(kind: str, key: str):
    def read(row: dict[str, Any]) -> Any:
        return tenant().modified.get((kind, str(row.get(key))))

    return read


# -- customers -----------------------------------------------------------------------------


@api.get("/customers")
def list_customers() -> Response:
    rows = [dict(c, Phone=c.get("Phone1")) for c in tenant().customers.values()]
    fields = (
        "Address1",
        "Address2",
        "City",
        "CustomerNumber",
        "Email",
        "Name",
        "OrganisationNumber",
        "Phone",
        "ZipCode",
    )
    return listing(
        rows,
        "Customers",
        search={
            "customernumber": "CustomerNumber",
            "name": "Name",
            "zipcode": "ZipCode",
            "city": "City",
            "email": "Email",
            "phone": "Phone1",
            "organisationnumber": "OrganisationNumber",
            "gln": "GLN",
            "glndelivery": "GLNDelivery",
        },
        filters={
            "active": lambda c: c.get("Active", True),
            "inactive": lambda c: not c.get("Active", True),
        },
        sort={"customernumber": "CustomerNumber", "name": "Name"},
        modified=_modified("customer", "CustomerNumber"),
        subset=lambda c: {k: c.get(k) for k in ("@url", *fields)},
    )


def _customer_values(body: dict[str, Any]) -> dict[str, Any]:
    values = dict(body)
    for key in ("Type",):
        if key in values and values[key] not in ("PRIVATE", "COMPANY"):
            raise bad(GENERIC_CODE, f"Felaktigt värde för Type ({values[key]})")
    if "VATType" in values and values["VATType"] not in (
        "SEVAT",
        "SEREVERSEDVAT",
        "EUREVERSEDVAT",
        "EUVAT",
        "EXPORT",
    ):
        raise bad(GENERIC_CODE, f"Felaktigt värde för VATType ({values['VATType']})")
    for code_key, name_key in (
        ("CountryCode", "Country"),
        ("DeliveryCountryCode", "DeliveryCountry"),
    ):
        if values.get(code_key):
            name = country_name(values[code_key])
            if not name:
                raise bad(GENERIC_CODE, f"Okänd landskod ({values[code_key]})")
            values[name_key] = name
    if values.get("Currency") and values["Currency"] not in tenant().currencies:
        raise bad(GENERIC_CODE, f"Kunde inte hämta/hitta valuta ({values['Currency']})")
    for key in ("TermsOfPayment", "WayOfDelivery"):
        table = tenant().terms_of_payment if key == "TermsOfPayment" else tenant().ways_of_delivery
        if values.get(key) and values[key] not in table:
            raise bad(
                2000429 if key == "TermsOfPayment" else GENERIC_CODE,
                f"Kan inte hitta {key} ({values[key]})",
            )
    return values


@api.post("/customers")
def create_customer() -> Response:
    body = _customer_values(parse_body("Customer", "fortnox_Customer"))
    company = tenant()
    with state().lock:
        if not body.get("Name"):
            raise bad(
                2000637,
                "Kundnummer 1 används redan. Kundnumret har redan använts men blivit raderat.",
            )
        number = str(body.get("CustomerNumber") or "")
        if number:
            if number in company.used_customer_numbers:
                raise bad(
                    2000637,
                    f"Kundnummer {number} används redan. "
                    "Kundnumret har redan använts men blivit raderat.",
                )
        else:
            while True:
                number = str(company.next_number("customer"))
                if number not in company.used_customer_numbers:
                    break
        customer = {
            "@url": f"{base_url()}/3/customers/{number}",
            "CustomerNumber": number,
            "Type": "COMPANY",
            "VATType": "SEVAT",
            "Currency": "SEK",
            "Active": True,
            "PriceList": "A",
            "TermsOfPayment": "30",
            "ShowPriceVATIncluded": False,
            "DefaultDeliveryTypes": {"Invoice": "PRINT", "Order": "PRINT", "Offer": "PRINT"},
            "DefaultTemplates": {
                "Invoice": "DEFAULTTEMPLATE",
                "Order": "DEFAULTTEMPLATE",
                "Offer": "DEFAULTTEMPLATE",
                "CashInvoice": "DEFAULTTEMPLATE",
            },
            **{k: v for k, v in body.items() if k != "CustomerNumber"},
        }
        company.customers[number] = customer
        company.used_customer_numbers.add(number)
        company.record("customer", number, email=customer.get("Email"), name=customer["Name"])
        return created({"Customer": customer})


def _get_customer(number: str) -> dict[str, Any]:
    customer = tenant().customers.get(number)
    if customer is None:
        raise not_found(2000433, "Kan inte hitta kunden.")
    return customer


@api.get("/customers/<path:number>")
def get_customer(number: str) -> Response:
    return json_response({"Customer": _get_customer(number)})


@api.put("/customers/<path:number>")
def update_customer(number: str) -> Response:
    body = _customer_values(parse_body("Customer", "fortnox_Customer"))
    with state().lock:
        customer = _get_customer(number)
        body.pop("CustomerNumber", None)
        customer.update(body)
        tenant().touch("customer", number)
        return json_response({"Customer": customer})


# -- articles and prices -------------------------------------------------------------------


@api.get("/articles")
def list_articles() -> Response:
    fields = (
        "ArticleNumber",
        "Description",
        "DisposableQuantity",
        "EAN",
        "Housework",
        "PurchasePrice",
        "QuantityInStock",
        "ReservedQuantity",
        "SalesPrice",
        "StockPlace",
        "StockValue",
        "Unit",
        "VAT",
        "WebshopArticle",
    )

    def subset(article: dict[str, Any]) -> dict[str, Any]:
        item = {k: article.get(k) for k in ("@url", *fields)}
        for key in (
            "DisposableQuantity",
            "PurchasePrice",
            "ReservedQuantity",
            "StockValue",
            "VAT",
            "SalesPrice",
        ):
            if item.get(key) is not None:
                item[key] = str(item[key])
        return item

    return listing(
        tenant().articles.values(),
        "Articles",
        search={
            "articlenumber": "ArticleNumber",
            "description": "Description",
            "ean": "EAN",
            "manufacturer": "Manufacturer",
        },
        filters={
            "active": lambda a: a.get("Active", True),
            "inactive": lambda a: not a.get("Active", True),
        },
        sort={"articlenumber": "ArticleNumber", "quantityinstock": "QuantityInStock"},
        modified=_modified("article", "ArticleNumber"),
        subset=subset,
    )


def _article_values(body: dict[str, Any]) -> dict[str, Any]:
    company = tenant()
    if body.get("Type") not in (None, "STOCK", "SERVICE"):
        raise bad(GENERIC_CODE, f"Felaktigt värde för Type ({body['Type']})")
    if body.get("Unit") and body["Unit"] not in company.units:
        raise bad(2000432, "Kan inte hitta enheten.")
    for key in ("SalesAccount", "EUAccount", "EUVATAccount", "ExportAccount", "PurchaseAccount"):
        if (
            body.get(key) not in (None, "")
            and int(decimal_of(body[key], key)) not in company.accounts
        ):
            raise bad(2001304, f"Kunde inte hitta konto ({body[key]})")
    return body


@api.post("/articles")
def create_article() -> Response:
    body = _article_values(parse_body("Article", "fortnox_Article"))
    company = tenant()
    with state().lock:
        if not body.get("Description"):
            raise bad(GENERIC_CODE, "Benämning saknas (Description).")
        number = str(body.get("ArticleNumber") or company.next_number("article"))
        if number in company.articles:
            raise bad(GENERIC_CODE, f"Artikelnummer {number} används redan.")
        if " " in number:
            raise bad(2000106, f"Värdet måste vara alfanumeriskt ({number})")
        article = {
            "@url": f"{base_url()}/3/articles/{number}",
            "ArticleNumber": number,
            "Type": "STOCK",
            "Active": True,
            "QuantityInStock": Decimal(0),
            "ReservedQuantity": Decimal(0),
            "DisposableQuantity": Decimal(0),
            "StockValue": Decimal(0),
            "PurchasePrice": Decimal(0),
            "SalesAccount": 3001,
            "EUAccount": 3108,
            "EUVATAccount": 3106,
            "ExportAccount": 3105,
            "PurchaseAccount": 4000,
            "VAT": Decimal(25),
            **{k: v for k, v in body.items() if k != "ArticleNumber"},
        }
        company.articles[number] = article
        company.record("article", number, description=article["Description"])
        return created({"Article": article})


def _get_article(number: str) -> dict[str, Any]:
    article = tenant().articles.get(number)
    if article is None:
        raise not_found(2000428, "Kan inte hitta artikeln.")
    return article


@api.get("/articles/<path:number>")
def get_article(number: str) -> Response:
    return json_response({"Article": _get_article(number)})


@api.put("/articles/<path:number>")
def update_article(number: str) -> Response:
    body = _article_values(parse_body("Article", "fortnox_Article"))
    with state().lock:
        article = _get_article(number)
        if body.get("ArticleNumber") not in (None, number):
            raise bad(GENERIC_CODE, "Artikelnumret kan inte ändras.")
        article.update(body)
        tenant().touch("article", number)
        return json_response({"Article": article})


def _price_key(price_list: str, number: str, quantity: str) -> tuple[str, str, str]:
    return (price_list, number, format(Decimal(quantity).normalize(), "f"))


def _price_values(body: dict[str, Any]) -> dict[str, Any]:
    company = tenant()
    if str(body.get("PriceList", "")) not in company.price_lists:
        raise bad(GENERIC_CODE, f"Kan inte hitta prislistan ({body.get('PriceList')})")
    if str(body.get("ArticleNumber", "")) not in company.articles:
        raise bad(2000428, "Kan inte hitta artikeln.")
    return body


@api.post("/prices")
def create_price() -> Response:
    body = _price_values(parse_body("Price", "fortnox_Price"))
    with state().lock:
        key = _price_key(
            str(body["PriceList"]), str(body["ArticleNumber"]), str(body.get("FromQuantity") or 0)
        )
        if key in tenant().prices:
            raise bad(GENERIC_CODE, "Priset finns redan.")
        price = {
            "@url": f"{base_url()}/3/prices/{key[0]}/{key[1]}/{key[2]}",
            "ArticleNumber": key[1],
            "PriceList": key[0],
            "FromQuantity": Decimal(key[2]),
            "Price": decimal_of(body.get("Price"), "Price", default=Decimal(0)),
            "Percent": decimal_of(body.get("Percent"), "Percent", default=Decimal(0)),
        }
        tenant().prices[key] = price
        _sync_sales_price(key)
        tenant().record("price", "/".join(key), price=price["Price"])
        return created({"Price": price})


def _sync_sales_price(key: tuple[str, str, str]) -> None:
    if key[0] == "A" and key[2] == "0":
        tenant().articles[key[1]]["SalesPrice"] = tenant().prices[key]["Price"]


@api.route("/prices/<price_list>/<path:rest>", methods=["GET", "PUT"])
def price(price_list: str, rest: str) -> Response:
    number, _, quantity = rest.rpartition("/")
    if not number or not _is_number(quantity):
        number, quantity = rest, "0"
    key = _price_key(price_list, number, quantity)
    with state().lock:
        existing = tenant().prices.get(key)
        if existing is None:
            raise not_found(2000428, "Kan inte hitta priset.")
        if request.method == "PUT":
            body = parse_body("Price", "fortnox_Price")
            existing["Price"] = decimal_of(body.get("Price"), "Price", default=existing["Price"])
            _sync_sales_price(key)
        return json_response({"Price": existing})


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


# -- orders ------------------------------------------------------------------------------


@api.get("/orders")
def list_orders() -> Response:
    return listing(
        tenant().orders.values(),
        "Orders",
        search={
            "customername": "CustomerName",
            "customernumber": "CustomerNumber",
            "documentnumber": "DocumentNumber",
            "externalinvoicereference1": "ExternalInvoiceReference1",
            "externalinvoicereference2": "ExternalInvoiceReference2",
            "ourreference": "OurReference",
            "yourreference": "YourReference",
        },
        filters={
            "cancelled": lambda o: o["Cancelled"],
            "expired": lambda o: False,
            "invoicecreated": lambda o: o["InvoiceReference"] != "0",
            "invoicenotcreated": lambda o: o["InvoiceReference"] == "0" and not o["Cancelled"],
        },
        date_field="OrderDate",
        sort={
            "customername": "CustomerName",
            "customernumber": "CustomerNumber",
            "orderdate": "OrderDate",
            "documentnumber": "DocumentNumber",
            "total": "Total",
        },
        modified=_modified("order", "DocumentNumber"),
        subset=lambda o: docs.list_subset(o, ORDER_LIST_FIELDS),
    )


@api.post("/orders")
def create_order() -> Response:
    body = parse_body("Order", "fortnox_Order")
    with state().lock:
        order = docs.create_order(tenant(), body, base_url=base_url(), round_off=round_off())
        return created({"Order": order})


@api.get("/orders/<number>")
def get_order(number: str) -> Response:
    return json_response({"Order": docs.get_order(tenant(), number)})


@api.put("/orders/<number>/createinvoice")
def order_createinvoice(number: str) -> Response:
    with state().lock:
        invoice = docs.invoice_order(tenant(), number, base_url=base_url(), round_off=round_off())
        return json_response({"Invoice": invoice})


@api.put("/orders/<number>/cancel")
def order_cancel(number: str) -> Response:
    with state().lock:
        order = docs.get_order(tenant(), number)
        if order["InvoiceReference"] != "0":
            raise bad(GENERIC_CODE, "En fakturerad order kan inte makuleras.")
        order["Cancelled"] = True
        return json_response({"Order": order})


# -- invoices ------------------------------------------------------------------------------


@api.get("/invoices")
def list_invoices() -> Response:
    return listing(
        tenant().invoices.values(),
        "Invoices",
        search={
            "customername": "CustomerName",
            "customernumber": "CustomerNumber",
            "documentnumber": "DocumentNumber",
            "ocr": "OCR",
            "ourreference": "OurReference",
            "yourreference": "YourReference",
            "yourordernumber": "YourOrderNumber",
            "externalinvoicereference1": "ExternalInvoiceReference1",
            "externalinvoicereference2": "ExternalInvoiceReference2",
            "currency": "Currency",
            "invoicetype": "InvoiceType",
            "credit": "Credit",
        },
        filters={
            "cancelled": lambda i: i["Cancelled"],
            "fullypaid": lambda i: not i["Cancelled"] and Decimal(str(i["Balance"])) == 0,
            "unpaid": lambda i: not i["Cancelled"] and Decimal(str(i["Balance"])) != 0,
            "unpaidoverdue": lambda i: (
                not i["Cancelled"]
                and Decimal(str(i["Balance"])) != 0
                and i["DueDate"] < today().isoformat()
            ),
            "unbooked": lambda i: not i["Booked"] and not i["Cancelled"],
        },
        date_field="InvoiceDate",
        sort={
            "customername": "CustomerName",
            "customernumber": "CustomerNumber",
            "documentnumber": "DocumentNumber",
            "invoicedate": "InvoiceDate",
            "ocr": "OCR",
            "total": "Total",
        },
        modified=_modified("invoice", "DocumentNumber"),
        subset=lambda i: docs.list_subset(i, INVOICE_LIST_FIELDS),
    )


@api.post("/invoices")
def create_invoice() -> Response:
    body = parse_body("Invoice", "fortnox_InvoicePayload", "fortnox_Invoice")
    with state().lock:
        invoice = docs.create_invoice(tenant(), body, base_url=base_url(), round_off=round_off())
        return created({"Invoice": invoice})


@api.get("/invoices/<number>")
def get_invoice(number: str) -> Response:
    return json_response({"Invoice": docs.get_invoice(tenant(), number)})


@api.put("/invoices/<number>")
def update_invoice(number: str) -> Response:
    body = parse_body("Invoice", "fortnox_InvoicePayload", "fortnox_Invoice")
    with state().lock:
        invoice = docs.update_invoice(tenant(), number, body, round_off=round_off())
        return json_response({"Invoice": invoice})


@api.put("/invoices/<number>/bookkeep")
def invoice_bookkeep(number: str) -> Response:
    with state().lock:
        return json_response({"Invoice": docs.bookkeep_invoice(tenant(), number)})


@api.put("/invoices/<number>/cancel")
def invoice_cancel(number: str) -> Response:
    with state().lock:
        invoice = docs.get_invoice(tenant(), number)
        if invoice["Booked"]:
            raise bad(GENERIC_CODE, "En bokförd faktura kan inte makuleras.")
        invoice["Cancelled"] = True
        return json_response({"Invoice": invoice})


@api.put("/invoices/<number>/credit")
def invoice_credit(number: str) -> Response:
    with state().lock:
        invoice = docs.credit_invoice(tenant(), number, base_url=base_url(), round_off=round_off())
        return json_response({"Invoice": invoice})


@api.put("/invoices/<number>/externalprint")
def invoice_externalprint(number: str) -> Response:
    with state().lock:
        invoice = docs.get_invoice(tenant(), number)
        invoice["Sent"] = True
        return json_response({"Invoice": invoice})


@api.get("/invoices/<number>/email")
def invoice_email(number: str) -> Response:
    with state().lock:
        invoice = docs.get_invoice(tenant(), number)
        customer = tenant().customers.get(invoice["CustomerNumber"], {})
        address = (
            (invoice.get("EmailInformation") or {}).get("EmailAddressTo")
            or customer.get("EmailInvoice")
            or customer.get("Email")
        )
        if not address:
            raise bad(GENERIC_CODE, "E-postadress saknas för fakturan.")
        invoice["Sent"] = True
        tenant().record("email", number, to=address)
        return json_response({"Invoice": invoice})


@api.get("/invoices/<number>/preview")
def invoice_preview(number: str) -> Response:
    invoice = docs.get_invoice(tenant(), number)
    return Response(invoice_pdf(invoice, tenant().name), mimetype="application/pdf")


# -- payments ------------------------------------------------------------------------------


@api.get("/invoicepayments")
def list_payments() -> Response:
    fields = (
        "Amount",
        "Booked",
        "Currency",
        "CurrencyRate",
        "CurrencyUnit",
        "InvoiceNumber",
        "Number",
        "PaymentDate",
        "Source",
    )
    rows = tenant().payments.values()
    wanted = request.args.get("invoicenumber")
    if wanted:
        rows = [p for p in rows if str(p["InvoiceNumber"]) == wanted]
    return listing(
        rows,
        "InvoicePayments",
        sort={"paymentdate": "PaymentDate"},
        subset=lambda p: {**{k: p.get(k) for k in ("@url", *fields)}, "WriteOffExist": False},
    )


@api.post("/invoicepayments")
def create_payment() -> Response:
    body = parse_body("InvoicePayment", "fortnox_InvoicePayment")
    with state().lock:
        return created({"InvoicePayment": docs.create_payment(tenant(), body, base_url=base_url())})


@api.get("/invoicepayments/<number>")
def get_payment(number: str) -> Response:
    payment = tenant().payments.get(number)
    if payment is None:
        raise not_found(2000434, "Kan inte hitta inbetalningen.")
    return json_response({"InvoicePayment": payment})


@api.put("/invoicepayments/<number>/bookkeep")
def payment_bookkeep(number: str) -> Response:
    with state().lock:
        return json_response({"InvoicePayment": docs.bookkeep_payment(tenant(), number)})


# -- vouchers ------------------------------------------------------------------------------


def _year_param() -> dict[str, Any]:
    company = tenant()
    wanted = request.args.get("financialyear")
    if wanted:
        year = company.financial_years.get(int(decimal_of(wanted, "financialyear")))
        if year is None:
            raise bad(GENERIC_CODE, "Räkenskapsåret finns inte.")
        return year
    year = company.financial_year_for(today())
    if year is None:
        raise bad(GENERIC_CODE, "Räkenskapsår saknas.")
    return year


def _voucher_list(series: str | None) -> Response:
    year = _year_param()
    fields = (
        "ApprovalState",
        "Comments",
        "Description",
        "ReferenceNumber",
        "ReferenceType",
        "TransactionDate",
        "VoucherNumber",
        "VoucherSeries",
        "Year",
    )
    rows = [
        v
        for (year_id, code, _), v in sorted(tenant().vouchers.items())
        if year_id == year["Id"] and (series is None or code == series)
    ]
    return listing(
        rows,
        "Vouchers",
        date_field="TransactionDate",
        sort={
            "referencenumber": "ReferenceNumber",
            "vouchernumber": "VoucherNumber",
            "voucherseries": "VoucherSeries",
        },
        subset=lambda v: {k: v.get(k) for k in ("@url", *fields)},
    )


@api.get("/vouchers")
def list_vouchers() -> Response:
    return _voucher_list(None)


@api.get("/vouchers/sublist/<series>")
def list_series_vouchers(series: str) -> Response:
    return _voucher_list(series)


@api.get("/vouchers/<series>/<int:number>")
def get_voucher(series: str, number: int) -> Response:
    year = _year_param()
    voucher = tenant().vouchers.get((year["Id"], series, number))
    if voucher is None:
        raise not_found(2000423, "Kan inte hitta verifikationen.")
    return json_response({"Voucher": voucher})


@api.post("/vouchers")
def create_voucher() -> Response:
    body = parse_body("Voucher", "fortnox_Voucher")
    company = tenant()
    with state().lock:
        for required in ("VoucherSeries", "TransactionDate", "Description"):
            if not body.get(required):
                raise bad(GENERIC_CODE, f"{required} saknas.")
        try:
            day = date.fromisoformat(str(body["TransactionDate"]))
        except ValueError:
            raise bad(GENERIC_CODE, f"Felaktigt datum ({body['TransactionDate']})") from None
        year = company.financial_year_for(day)
        if year is None:
            raise bad(GENERIC_CODE, "Fiscal year not available")
        if (
            body.get("Year") not in (None, "")
            and int(decimal_of(body["Year"], "Year")) != year["Id"]
        ):
            raise bad(GENERIC_CODE, "Verifikationsdatumet ligger inte i angivet räkenskapsår.")
        rows = body.get("VoucherRows")
        if not isinstance(rows, list):
            raise bad(GENERIC_CODE, "VoucherRows saknas.")
        checked = []
        for row in rows:
            if not isinstance(row, dict) or row.get("Account") in (None, ""):
                raise bad(GENERIC_CODE, "Konto saknas på en rad.")
            account = int(decimal_of(row["Account"], "Account"))
            if account not in company.accounts or not company.accounts[account].get("Active", True):
                raise bad(2001304, f"Kunde inte hitta konto ({account})")
            debit = decimal_of(row.get("Debit"), "Debit", default=Decimal(0))
            credit = decimal_of(row.get("Credit"), "Credit", default=Decimal(0))
            if debit < 0 or credit < 0:
                raise bad(GENERIC_CODE, "Debet och kredit kan inte vara negativa.")
            checked.append({**row, "Account": account, "Debit": debit, "Credit": credit})
        voucher = docs.add_voucher(
            company,
            str(body["VoucherSeries"]),
            day,
            str(body["Description"]),
            checked,
            year,
            comments=str(body.get("Comments") or ""),
            base_url=base_url(),
        )
        return created({"Voucher": voucher})


# -- reference data -------------------------------------------------------------------------


def _reference(key: str, table: dict[Any, dict[str, Any]], **kwargs: Any) -> Response:
    rows = [
        dict(row, **{"@url": f"{base_url()}{request.path.rstrip('/')}/{code}"})
        for code, row in table.items()
    ]
    return listing(rows, key, **kwargs)


@api.get("/accounts")
def list_accounts() -> Response:
    year = _year_param()
    rows = [dict(a, Year=year["Id"]) for a in tenant().accounts.values()]
    return listing(
        rows,
        "Accounts",
        sort={"number": "Number"},
        subset=lambda a: dict(a, **{"@url": f"{base_url()}/3/accounts/{a['Number']}"}),
    )


@api.get("/currencies")
def list_currencies() -> Response:
    return _reference("Currencies", tenant().currencies)


@api.get("/currencies/<code>")
def get_currency(code: str) -> Response:
    currency = tenant().currencies.get(code.upper())
    if currency is None:
        raise not_found(GENERIC_CODE, "Kan inte hitta valutan.")
    return json_response(
        {"Currency": dict(currency, **{"@url": f"{base_url()}/3/currencies/{code}"})}
    )


@api.get("/wayofdeliveries")
def list_ways() -> Response:
    return _reference("WayOfDeliveries", tenant().ways_of_delivery, sort={"code": "Code"})


@api.get("/termsofpayments")
def list_terms() -> Response:
    return _reference("TermsOfPayments", tenant().terms_of_payment, sort={"code": "Code"})


@api.get("/modesofpayments")
def list_modes() -> Response:
    return _reference("ModesOfPayments", tenant().modes_of_payment)


@api.get("/predefinedaccounts")
def list_predefined() -> Response:
    return _reference("PreDefinedAccounts", tenant().predefined_accounts)


@api.get("/units")
def list_units() -> Response:
    return _reference("Units", tenant().units, sort={"code": "Code"})


@api.get("/pricelists")
def list_price_lists() -> Response:
    return _reference("PriceLists", tenant().price_lists, sort={"code": "Code"})


@api.get("/voucherseries")
def list_voucher_series() -> Response:
    year = _year_param()
    rows = {code: dict(row, Year=year["Id"]) for code, row in tenant().voucher_series.items()}
    return _reference("VoucherSeriesCollection", rows)


@api.get("/financialyears")
def list_financial_years() -> Response:
    wanted = request.args.get("date") or request.args.get("Date")
    years = list(tenant().financial_years.values())
    if wanted:
        years = [y for y in years if y["FromDate"] <= wanted <= y["ToDate"]]
    rows = [dict(y, **{"@url": f"{base_url()}/3/financialyears/{y['Id']}"}) for y in years]
    return listing(rows, "FinancialYears")


@api.get("/companyinformation")
def company_information() -> Response:
    company = tenant()
    return json_response(
        {
            "CompanyInformation": {
                "Address": "Sandvägen 1",
                "City": "Stockholm",
                "CompanyName": company.name,
                "CountryCode": "SE",
                "DatabaseNumber": company.id,
                "OrganizationNumber": company.organisation_number,
                "VisitAddress": "Sandvägen 1",
                "VisitCity": "Stockholm",
                "VisitCountryCode": "SE",
                "VisitZipCode": "11122",
                "ZipCode": "11122",
            }
        }
    )


@api.get("/settings/company")
def company_settings() -> Response:
    company = tenant()
    return json_response(
        {
            "CompanySettings": {
                "Name": company.name,
                "OrganizationNumber": company.organisation_number,
                "DatabaseNumber": str(company.id),
                "Address": "Sandvägen 1",
                "ZipCode": "11122",
                "City": "Stockholm",
                "Country": "Sverige",
                "CountryCode": "SE",
                "Email": "info@example.se",
                "TaxEnabled": True,
                "VATNumber": "SE" + company.organisation_number.replace("-", "") + "01",
                "BG": "123-4567",
            }
        }
    )


def snapshot(company: Tenant) -> dict[str, Any]:
    """A deep copy of a company's documents (for the admin API)."""
    return copy.deepcopy(
        {
            "customers": list(company.customers.values()),
            "articles": list(company.articles.values()),
            "orders": list(company.orders.values()),
            "invoices": list(company.invoices.values()),
            "payments": list(company.payments.values()),
            "vouchers": list(company.vouchers.values()),
        }
    )


def boolean_arg(name: str) -> bool:
    """A boolean query argument."""
    return boolean_of(request.args.get(name), default=False)
