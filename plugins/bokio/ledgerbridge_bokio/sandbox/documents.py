"""Bokio's document behaviour in the sandbox: customers, invoices and their state machine,
payments, credit notes, journal entries (balanced, in an open fiscal year) and reversal."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge_bokio.sandbox.rules import (
    VAT_ACCOUNTS,
    Problems,
    automatic_account,
    check_address,
    check_line,
    check_metadata,
    krona,
    line_amounts,
    number,
    ore,
    valid_date,
)
from ledgerbridge_bokio.sandbox.state import PAYMENT_ACCOUNTS, Company, new_id, today

ZERO = Decimal("0.00")


class ApiFailure(Exception):
    """An error answer: status, Bokio code, message and field errors."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


def validation(problems: Problems) -> ApiFailure:
    """The 400 for collected field errors."""
    count = len(problems.items)
    return ApiFailure(
        400,
        "validation-error",
        f"Validation failed with {count} error{'s' if count != 1 else ''}",
        problems.items,
    )


def not_found(kind: str, value: str) -> ApiFailure:
    """Bokio's 404 wording."""
    return ApiFailure(
        404, "not-found", f"The requested resource {kind} with value {value} was not found"
    )


def now_utc() -> str:
    """A UTC date-time as Bokio writes them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- customers ----------------------------------------------------------------------------


def customer_from(body: Any, company: Company, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and build a customer (create or full replacement)."""
    problems = Problems()
    if not isinstance(body, dict):
        raise validation(_single("", "The request body must be a JSON object"))
    if not body.get("name"):
        problems.add("/name", "The name field is required")
    if body.get("type") not in ("company", "private"):
        problems.add("/type", "The type field is required")
    check_address(body.get("address"), "/address", problems, subdivision=True)
    contacts = body.get("contactsDetails") or []
    if not isinstance(contacts, list):
        problems.add("/contactsDetails", "The contacts must be a list")
        contacts = []
    if body.get("language", "sv") not in ("sv", "en"):
        problems.add("/language", "The language must be sv or en")
    if problems:
        raise validation(problems)
    previous = {c.get("id"): c for c in (existing or {}).get("contactsDetails") or []}
    customer = {
        "id": existing["id"] if existing else new_id(),
        "name": body["name"],
        "type": body["type"],
        "vatNumber": body.get("vatNumber") or "",
        "orgNumber": body.get("orgNumber") or "",
        "paymentTerms": body.get("paymentTerms") or "",
        "contactsDetails": [
            {
                "id": contact.get("id") if contact.get("id") in previous else new_id(),
                "name": contact.get("name") or "",
                "email": contact.get("email") or "",
                "phone": contact.get("phone") or "",
                "isDefault": bool(contact.get("isDefault")),
            }
            for contact in contacts
            if isinstance(contact, dict)
        ],
        "language": body.get("language") or "sv",
        "modifiedDateTime": now_utc(),
        "_api": True,
    }
    if body.get("address"):
        address = dict(body["address"])
        address.setdefault("line2", None)
        customer["address"] = address
    company.customers[customer["id"]] = customer
    return customer


def _single(pointer: str, message: str) -> Problems:
    problems = Problems()
    problems.add(pointer, message)
    return problems


# -- invoices and credit notes --------------------------------------------------------------


def _check_lines(
    lines: Any, company: Company, customer: dict[str, Any] | None, problems: Problems
) -> None:
    if not isinstance(lines, list) or not lines:
        problems.add("/lineItems", "The line items field is required")
        return
    accounts = frozenset(company.accounts)
    for index, line in enumerate(lines):
        check_line(
            line,
            f"/lineItems/{index}",
            problems,
            accounts,
            lambda product, rate: automatic_account(customer, product, rate),
        )


def _stored_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stored = []
    for index, line in enumerate(lines, start=1):
        item = {"id": index, "itemRef": line.get("itemRef"), "description": line["description"]}
        item["itemType"] = line["itemType"]
        if line["itemType"] == "salesItem":
            item.update(
                productType=line["productType"],
                unitType=line.get("unitType") or "unspecified",
                quantity=number(line["quantity"]),
                unitPrice=number(line["unitPrice"]),
                taxRate=number(line["taxRate"]),
                bookkeepingAccountNumber=line.get("bookkeepingAccountNumber"),
            )
        stored.append(item)
    return stored


def totals(document: dict[str, Any], company: Company) -> None:
    """Bokio's arithmetic: per-line net and VAT, the payable (öresavrundning), paid status."""
    net = tax = ZERO
    for line in document["lineItems"]:
        line_net, line_tax = line_amounts(line)
        net += line_net
        tax += line_tax
    document["totalAmount"] = net
    document["totalTax"] = tax
    gross = net + tax
    rounds = company.rounding == "krona" and document.get("currency", "SEK") == "SEK"
    document["_payable"] = krona(gross) if rounds else gross


def invoice_from(
    body: Any, company: Company, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate and build a draft invoice (create, or PUT on a draft)."""
    if not isinstance(body, dict):
        raise validation(_single("", "The request body must be a JSON object"))
    problems = Problems()
    if body.get("type", "invoice") != "invoice":
        problems.add("/type", "The type can only be set to invoice when creating an invoice")
    customer_id = (body.get("customerRef") or {}).get("id")
    customer = company.customers.get(str(customer_id)) if customer_id else None
    if customer is None:
        problems.add("/customerRef/id", "A valid customer reference is required")
    if valid_date(body.get("invoiceDate")) is None:
        problems.add("/invoiceDate", "The invoice date field is required")
    if body.get("dueDate") is not None and valid_date(body.get("dueDate")) is None:
        problems.add("/dueDate", "The due date must be a date")
    currency = body.get("currency", "SEK")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
        problems.add("/currency", "Invalid currency code")
    rate = number(body.get("currencyRate", 1))
    if rate is None or rate <= 0:
        problems.add("/currencyRate", "The currency rate must be a positive number")
    check_address(body.get("deliveryAddress"), "/deliveryAddress", problems)
    check_metadata(body.get("metadata"), problems)
    _check_lines(body.get("lineItems"), company, customer, problems)
    if problems:
        raise validation(problems)
    assert customer is not None
    invoice_date = valid_date(body["invoiceDate"])
    due = valid_date(body.get("dueDate"))
    if due is None:
        terms = str(customer.get("paymentTerms") or "")
        days = int(terms) if terms.isdigit() else 30
        due = invoice_date.fromordinal(invoice_date.toordinal() + days)
    invoice = {
        "id": existing["id"] if existing else new_id(),
        "type": "invoice",
        "customerRef": {"id": customer["id"], "name": customer["name"]},
        "contactDetailRef": _contact(customer),
        "invoiceNumber": None,
        "paymentReference": None,
        "orderNumberReference": body.get("orderNumberReference"),
        "projectReference": body.get("projectReference"),
        "buyerReference": body.get("buyerReference"),
        "contractReference": body.get("contractReference"),
        "currency": currency,
        "currencyRate": rate,
        "paidAmount": ZERO,
        "status": "draft",
        "invoiceDate": invoice_date.isoformat(),
        "dueDate": due.isoformat(),
        "publishedDateTime": None,
        "lineItems": _stored_lines(body["lineItems"]),
        "billingAddress": customer.get("address"),
        "deliveryAddress": body.get("deliveryAddress"),
        "taxReduction": None,
        "attachmentRefs": [],
        "journalEntryRef": None,
        "creditNoteRefs": [],
        "metadata": dict(body.get("metadata") or {}),
        "_customer": customer,
    }
    totals(invoice, company)
    company.invoices[invoice["id"]] = invoice
    return invoice


def _contact(customer: dict[str, Any]) -> dict[str, Any] | None:
    for contact in customer.get("contactsDetails") or []:
        if contact.get("isDefault"):
            return {"id": contact["id"], "email": contact["email"], "phone": contact["phone"]}
    return None


def add_line(invoice: dict[str, Any], body: Any, company: Company) -> dict[str, Any]:
    """Append a line to a draft (pointers relative to the line)."""
    require_draft(invoice, "invoice", "updated")
    problems = Problems()
    customer = invoice["_customer"]
    check_line(
        body,
        "",
        problems,
        frozenset(company.accounts),
        lambda product, rate: automatic_account(customer, product, rate),
    )
    if problems:
        raise validation(problems)
    stored = _stored_lines([body])[0]
    stored["id"] = len(invoice["lineItems"]) + 1
    invoice["lineItems"].append(stored)
    totals(invoice, company)
    return stored


def require_draft(document: dict[str, Any], kind: str, verb: str) -> None:
    """Edits only on drafts (``operation-not-allowed`` otherwise)."""
    if document["status"] != "draft":
        raise ApiFailure(
            400,
            "operation-not-allowed",
            f"{kind.capitalize()} with value {document['id']} cannot be {verb} as it is not in "
            "draft status",
        )


def publish(document: dict[str, Any], company: Company, *, credit: bool) -> None:
    """Draft → published: number, OCR, publish time."""
    if document["status"] != "draft":
        kind = "credit note" if credit else "invoice"
        raise ApiFailure(
            400,
            "validation-error",
            f"Action cannot be performed on {kind} with value {document['id']}",
        )
    year = (document.get("creditDate") or document.get("invoiceDate"))[:4]
    if credit:
        document["invoiceNumber"] = f"CN-{year}-{company.next_number('credit'):03d}"
        original = company.invoices[document["invoiceRef"]["id"]]
        document["status"] = "published"
        _update_paid_status(original, company)
    else:
        number_ = company.next_number("invoice")
        document["invoiceNumber"] = str(number_)
        document["paymentReference"] = f"{number_:08d}"
        document["status"] = "published"
    document["publishedDateTime"] = now_utc()


def _sek(amount: Decimal, rate: Decimal) -> Decimal:
    return ore(amount * rate)


def record(document: dict[str, Any], company: Company, *, credit: bool) -> dict[str, Any]:
    """Book a published invoice (or credit note): receivable against revenue and VAT."""
    kind = "credit note" if credit else "invoice"
    if document["status"] == "draft" or document.get("journalEntryRef"):
        raise ApiFailure(
            400,
            "validation-error",
            f"Action cannot be performed on {kind} with value {document['id']}",
        )
    rate = document["currencyRate"]
    credits: dict[int, Decimal] = defaultdict(lambda: ZERO)
    customer = document["_customer"]
    for line in document["lineItems"]:
        if line["itemType"] != "salesItem":
            continue
        net, tax = line_amounts(line)
        account = line.get("bookkeepingAccountNumber") or automatic_account(
            customer, line["productType"], line["taxRate"]
        )
        credits[account] += _sek(net, rate)
        if tax:
            credits[VAT_ACCOUNTS[line["taxRate"]]] += _sek(tax, rate)
    receivable = _sek(document["_payable"], rate)
    difference = receivable - sum(credits.values(), ZERO)
    if difference:
        credits[3740] += difference
    items = [(1510, receivable, ZERO)] + [(acct, ZERO, amount) for acct, amount in credits.items()]
    if credit:
        items = [(acct, credit_, debit) for acct, debit, credit_ in items]
    date_ = document.get("creditDate") or document.get("invoiceDate")
    title = f"{'Kreditfaktura' if credit else 'Faktura'} {document['invoiceNumber']}"
    entry = add_journal_entry(company, title, date_, items, source=kind)
    document["journalEntryRef"] = {"id": entry["id"]}
    return entry


def _update_paid_status(invoice: dict[str, Any], company: Company) -> None:
    paid_sek = sum(
        (
            p["sumBaseCurrency"]
            for p in company.payments.values()
            if p["invoiceId"] == invoice["id"]
        ),
        ZERO,
    )
    rate = invoice["currencyRate"]
    invoice["paidAmount"] = ore(paid_sek / rate)
    credited = sum(
        (
            company.credit_notes[ref["id"]]["totalAmount"]
            + company.credit_notes[ref["id"]]["totalTax"]
            for ref in invoice["creditNoteRefs"]
            if company.credit_notes[ref["id"]]["status"] == "published"
        ),
        ZERO,
    )
    gross = invoice["totalAmount"] + invoice["totalTax"]
    if invoice["status"] == "draft":
        return
    if credited and credited >= gross:
        invoice["status"] = "credited"
        return
    payable_sek = _sek(invoice["_payable"] - credited, rate)
    if not paid_sek:
        overdue = invoice["dueDate"] < today().isoformat()
        invoice["status"] = "overdue" if overdue else "published"
    elif paid_sek == payable_sek:
        invoice["status"] = "paid"
    elif paid_sek < payable_sek:
        invoice["status"] = "underPaid"
    else:
        invoice["status"] = "overPaid"


def add_payment(invoice: dict[str, Any], body: Any, company: Company) -> dict[str, Any]:
    """Register a payment (SEK) on a published invoice."""
    problems = Problems()
    if not isinstance(body, dict):
        raise validation(_single("", "The request body must be a JSON object"))
    if valid_date(body.get("date")) is None:
        problems.add("/date", "The date field is required")
    amount = number(body.get("sumBaseCurrency"))
    if amount is None or amount <= 0:
        problems.add("/sumBaseCurrency", "The sum must be a positive number")
    account = body.get("bookkeepingAccountNumber")
    if account not in PAYMENT_ACCOUNTS or account not in company.accounts:
        problems.add(
            "/bookkeepingAccountNumber",
            f"Account {account} is not a payment account of the company",
        )
    if problems:
        raise validation(problems)
    if invoice["status"] == "draft":
        raise ApiFailure(
            400, "operation-not-allowed", f"Invoice with value {invoice['id']} is not published"
        )
    payment = {
        "id": new_id(),
        "invoiceId": invoice["id"],
        "date": body["date"],
        "sumBaseCurrency": ore(amount),
        "bookkeepingAccountNumber": account,
        "journalEntryRef": None,
    }
    company.payments[payment["id"]] = payment
    _update_paid_status(invoice, company)
    return payment


def record_payment(payment: dict[str, Any], company: Company) -> dict[str, Any]:
    """Book a payment: payment account against the receivable."""
    if payment["journalEntryRef"]:
        raise ApiFailure(
            400,
            "validation-error",
            f"Action cannot be performed on payment with value {payment['id']}",
        )
    amount = payment["sumBaseCurrency"]
    invoice = company.invoices[payment["invoiceId"]]
    entry = add_journal_entry(
        company,
        f"Inbetalning faktura {invoice['invoiceNumber']}",
        payment["date"],
        [(payment["bookkeepingAccountNumber"], amount, ZERO), (1510, ZERO, amount)],
        source="payment",
    )
    payment["journalEntryRef"] = {"id": entry["id"]}
    return payment


def credit_from_invoice(invoice: dict[str, Any], company: Company) -> dict[str, Any]:
    """``POST /invoices/{id}/credit``: a draft credit note copying the invoice."""
    if invoice["status"] == "draft":
        raise ApiFailure(
            400, "operation-not-allowed", f"Invoice with value {invoice['id']} is not published"
        )
    note = {
        "id": new_id(),
        "invoiceRef": {"id": invoice["id"], "invoiceNumber": invoice["invoiceNumber"]},
        "customerRef": dict(invoice["customerRef"]),
        "contactDetailRef": invoice["contactDetailRef"],
        "invoiceNumber": None,
        "orderNumberReference": invoice["orderNumberReference"],
        "projectReference": invoice["projectReference"],
        "buyerReference": invoice["buyerReference"],
        "contractReference": invoice["contractReference"],
        "currency": invoice["currency"],
        "currencyRate": invoice["currencyRate"],
        "paidAmount": ZERO,
        "status": "draft",
        "creditDate": today().isoformat(),
        "dueDate": today().isoformat(),
        "publishedDateTime": None,
        "lineItems": [dict(line) for line in invoice["lineItems"]],
        "billingAddress": invoice["billingAddress"],
        "deliveryAddress": invoice["deliveryAddress"],
        "attachmentRefs": [],
        "journalEntryRef": None,
        "metadata": {},
        "_customer": invoice["_customer"],
    }
    totals(note, company)
    company.credit_notes[note["id"]] = note
    invoice["creditNoteRefs"].append({"id": note["id"]})
    return note


def update_credit_note(note: dict[str, Any], body: Any, company: Company) -> dict[str, Any]:
    """PUT on a draft credit note (required: id, currency, creditDate, dueDate, lineItems)."""
    require_draft(note, "credit note", "updated")
    if not isinstance(body, dict):
        raise validation(_single("", "The request body must be a JSON object"))
    problems = Problems()
    if body.get("id") != note["id"]:
        problems.add("/id", "The id field is required and must match the credit note")
    if not body.get("currency"):
        problems.add("/currency", "The currency field is required")
    for name in ("creditDate", "dueDate"):
        if valid_date(body.get(name)) is None:
            label = "credit date" if name == "creditDate" else "due date"
            problems.add(f"/{name}", f"The {label} field is required")
    check_metadata(body.get("metadata"), problems)
    _check_lines(body.get("lineItems"), company, note["_customer"], problems)
    if problems:
        raise validation(problems)
    note.update(
        currency=body["currency"],
        currencyRate=number(body.get("currencyRate", note["currencyRate"])) or Decimal(1),
        creditDate=body["creditDate"],
        dueDate=body["dueDate"],
        orderNumberReference=body.get("orderNumberReference"),
        lineItems=_stored_lines(body["lineItems"]),
        metadata=dict(body.get("metadata") or {}),
    )
    if "deliveryAddress" in body:
        note["deliveryAddress"] = body["deliveryAddress"]
    totals(note, company)
    return note


# -- journal entries ------------------------------------------------------------------------


def add_journal_entry(
    company: Company,
    title: str,
    date_: str,
    items: list[tuple[int, Decimal, Decimal]],
    *,
    source: str,
    reversing: str | None = None,
) -> dict[str, Any]:
    """Store a (valid, balanced) entry with the next verification number."""
    entry = {
        "id": new_id(),
        "title": title,
        "journalEntryNumber": f"V{company.next_number('verification')}",
        "date": date_,
        "items": [
            {"id": index, "debit": debit, "credit": credit, "account": account, "tags": []}
            for index, (account, debit, credit) in enumerate(items, start=1)
        ],
        "tags": [],
        "reversingJournalEntryId": reversing,
        "reversedByJournalEntryId": None,
        "_source": source,
    }
    company.journal_entries[entry["id"]] = entry
    return entry


def journal_from(body: Any, company: Company) -> dict[str, Any]:
    """Validate and create an API journal entry: balanced, accounts exist, year open."""
    if not isinstance(body, dict):
        raise validation(_single("", "The request body must be a JSON object"))
    problems = Problems()
    if not body.get("title") or not isinstance(body.get("title"), str):
        problems.add("/title", "The title field is required")
    entry_date = valid_date(body.get("date"))
    if entry_date is None:
        problems.add("/date", "The date field is required")
    items = body.get("items")
    parsed: list[tuple[int, Decimal, Decimal]] = []
    if not isinstance(items, list) or not items:
        problems.add("/items", "The items field is required")
        items = []
    for index, item in enumerate(items):
        pointer = f"/items/{index}"
        if not isinstance(item, dict):
            problems.add(pointer, "An item must be an object")
            continue
        account = item.get("account")
        if account is None:
            problems.add(f"{pointer}/account", "The account field is required")
        elif not isinstance(account, int) or account not in company.accounts:
            problems.add(f"{pointer}/account", f"Account {account} does not exist")
        debit, credit = number(item.get("debit", 0)), number(item.get("credit", 0))
        if debit is None or credit is None or debit < 0 or credit < 0:
            problems.add(pointer, "Debit and credit must be non-negative numbers")
            continue
        if debit and credit:
            problems.add(pointer, "An item has either a debit or a credit")
        parsed.append((account if isinstance(account, int) else 0, ore(debit), ore(credit)))
    if not problems:
        debit_sum = sum((debit for _, debit, _ in parsed), ZERO)
        credit_sum = sum((credit for _, _, credit in parsed), ZERO)
        if debit_sum != credit_sum:
            problems.add(
                "/items",
                f"The journal entry is not balanced: debit {debit_sum}, credit {credit_sum}",
            )
    if problems:
        raise validation(problems)
    assert entry_date is not None
    check_open_year(company, entry_date)
    return add_journal_entry(company, body["title"], entry_date.isoformat(), parsed, source="api")


def check_open_year(company: Company, on: Any) -> None:
    """400 unless ``on`` falls in an open fiscal year."""
    year = company.open_year(on)
    if year is None:
        raise ApiFailure(400, "validation-error", f"There is no fiscal year for {on}.")
    if year["status"] != "open":
        raise ApiFailure(400, "validation-error", "No changes can be made in a closed fiscal year.")


def reverse(entry: dict[str, Any], company: Company) -> dict[str, Any]:
    """Reverse an API-created entry once (not invoice entries), dated today."""
    if entry["_source"] != "api":
        raise ApiFailure(
            400,
            "validation-error",
            "Only journal entries created through the API and not belonging to an invoice or "
            "similar can be reversed.",
        )
    if entry["reversedByJournalEntryId"] or entry["reversingJournalEntryId"]:
        raise ApiFailure(400, "validation-error", "The journal entry has already been reversed.")
    on = today()
    check_open_year(company, on)
    reversal = add_journal_entry(
        company,
        f"Omföring av {entry['journalEntryNumber']}: {entry['title']}",
        on.isoformat(),
        [(item["account"], item["credit"], item["debit"]) for item in entry["items"]],
        source="reversal",
        reversing=entry["id"],
    )
    entry["reversedByJournalEntryId"] = reversal["id"]
    return reversal
