"""The export flows: invoice, order then invoice, voucher, and their corrections.

Every creating step runs through ``progress.run(step, action, recover=...)``: when an earlier
attempt started a step without recording its result (a timeout after the request left, a
killed worker), ``recover`` looks the object up in Fortnox first, so a retry never creates a
second invoice, order, credit, voucher or payment.

After a create the document is read back and its totals compared with the accounting
document; a difference makes the result "needs review" with both figures, and no further
automation (bookkeeping, e-mail, payment) runs on it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model import AccountingDocument, DocumentType, ExportResult, Totals
from ledgerbridge.money import quantize
from ledgerbridge.progress import ExportProgress
from ledgerbridge_fortnox.articles import ensure_articles
from ledgerbridge_fortnox.client import FortnoxClient, segment
from ledgerbridge_fortnox.customers import ensure_customer
from ledgerbridge_fortnox.lookup import (
    financial_year,
    find_invoice,
    find_order,
    find_payment,
    find_voucher,
    read_invoice,
    read_order,
)
from ledgerbridge_fortnox.payloads import (
    credit_invoice_payload,
    expected_totals,
    fortnox_reference,
    invoice_payload,
    paid_on,
    payment_payload,
    plan_rows,
    voucher_payload,
)
from ledgerbridge_fortnox.settings import RouteOptions, load_route_options

VOUCHER_TYPES = (DocumentType.CASH_SALE, DocumentType.DAILY_SUMMARY)


def _number(value: Any) -> str:
    return str(value or "").strip()


def _linked(value: Any) -> str:
    """A document reference field, '' when Fortnox says "0" (none)."""
    text = _number(value)
    return "" if text in ("", "0") else text


class Exporter:
    """One document's export into one Fortnox company."""

    def __init__(
        self,
        client: FortnoxClient,
        route: RouteContext,
        document: AccountingDocument,
        progress: ExportProgress,
    ) -> None:
        self.client = client
        self.route = route
        self.document = document
        self.progress = progress
        self.options: RouteOptions = load_route_options(route.target_settings)
        self.details: dict[str, str] = {}
        # Invoices as Fortnox answered this attempt's writes (create, bookkeep): reading them
        # back would cost an API call each and tell nothing new.
        self._answered: dict[str, dict[str, Any]] = {}

    # -- entry points -------------------------------------------------------------------

    def export(self) -> ExportResult:
        """Create the document (invoice flow or voucher) and run the route's automation."""
        problems = self.document.check()
        if problems:
            raise DataError(f"Document {self.document.reference} is unsound: {'; '.join(problems)}")
        if self.document.document_type in VOUCHER_TYPES:
            return self._voucher()
        if self.document.is_credit:
            raise DataError("A credit note is exported against its original, not on its own.")
        customer = self._customer()
        self._articles()
        if self.options.flow == "order_invoice":
            number = self._order_then_invoice(customer)
        else:
            number = self._invoice(customer)
        return self._finish_invoice(number, paid=bool(paid_on(self.document)))

    def credit(self, original: ExportResult) -> ExportResult:
        """Correct ``original`` for a refund: a credit invoice, or a reversing voucher."""
        if original.document_kind == "voucher":
            return self._voucher()
        source = read_invoice(self.client, original.target_id)
        credit = self.document.credit
        full = credit is not None and credit.full
        if full and not _linked(source.get("CreditInvoiceReference")):
            number = self._full_credit(source)
        else:
            number = self._partial_credit(source)
        self.details["credits"] = _number(source.get("DocumentNumber"))
        return self._finish_invoice(number, paid=bool(paid_on(self.document)))

    # -- steps --------------------------------------------------------------------------

    def _customer(self) -> str:
        def ensure() -> dict[str, Any]:
            return {"number": ensure_customer(self.client, self.route, self.options, self.document)}

        number = self.progress.run("customer", ensure, recover=ensure)["number"]
        self.details["customer_number"] = number
        return number

    def _articles(self) -> None:
        if not self.options.use_articles:
            return
        plans = plan_rows(self.document, vat_included=False, use_articles=True)
        numbers = {plan.article for plan in plans if plan.article}
        if not numbers:
            return
        names = {plan.article: plan.row.description for plan in plans if plan.article}

        def ensure() -> dict[str, Any]:
            return {"created": ensure_articles(self.client, numbers, names)}

        self.progress.run("articles", ensure, recover=ensure)

    def _send_email(self) -> bool:
        if self.options.email_invoice is not None:
            return self.options.email_invoice
        return self.route.settings.send_document

    def _invoice(self, customer: str) -> str:
        reference = fortnox_reference(self.document)

        def create() -> dict[str, Any]:
            body = invoice_payload(
                self.document, self.route, self.options, customer, send_email=self._send_email()
            )
            created = self.client.post("invoices", {"Invoice": body}, what="creating the invoice")
            return {"number": self._keep(created["Invoice"])}

        def recover() -> dict[str, Any] | None:
            found = find_invoice(self.client, reference)
            return {"number": _number(found["DocumentNumber"])} if found else None

        return self.progress.run("invoice", create, recover=recover)["number"]

    def _order_then_invoice(self, customer: str) -> str:
        reference = fortnox_reference(self.document)

        def create_order() -> dict[str, Any]:
            body = invoice_payload(
                self.document, self.route, self.options, customer, send_email=False, order=True
            )
            created = self.client.post("orders", {"Order": body}, what="creating the order")
            return {"number": _number(created["Order"]["DocumentNumber"])}

        def recover_order() -> dict[str, Any] | None:
            found = find_order(self.client, reference)
            return {"number": _number(found["DocumentNumber"])} if found else None

        order = self.progress.run("order", create_order, recover=recover_order)["number"]
        self.details["order_number"] = order

        def create_invoice() -> dict[str, Any]:
            created = self.client.put(
                f"orders/{segment(order)}/createinvoice",
                what=f"creating the invoice of order {order}",
            )
            return {"number": self._keep(created["Invoice"])}

        def recover_invoice() -> dict[str, Any] | None:
            invoice = _linked(read_order(self.client, order).get("InvoiceReference"))
            return {"number": invoice} if invoice else None

        return self.progress.run("invoice", create_invoice, recover=recover_invoice)["number"]

    def _full_credit(self, source: dict[str, Any]) -> str:
        original = _number(source["DocumentNumber"])
        if not source.get("Booked"):
            self._bookkeep(original, step="bookkeep_original")

        def credit() -> dict[str, Any]:
            updated = self.client.put(
                f"invoices/{segment(original)}/credit", what=f"crediting invoice {original}"
            )
            return {"number": _linked(updated["Invoice"].get("CreditInvoiceReference"))}

        def recover() -> dict[str, Any] | None:
            number = _linked(read_invoice(self.client, original).get("CreditInvoiceReference"))
            return {"number": number} if number else None

        number = self.progress.run("credit", credit, recover=recover)["number"]
        reference = fortnox_reference(self.document)

        def tag() -> dict[str, Any]:
            body: dict[str, Any] = {
                "CustomerNumber": _number(source.get("CustomerNumber")),
                "ExternalInvoiceReference1": reference,
            }
            self.client.put(
                f"invoices/{segment(number)}",
                {"Invoice": body},
                what=f"marking credit invoice {number} with the refund",
            )
            return {"tagged": reference}

        def recover_tag() -> dict[str, Any] | None:
            current = read_invoice(self.client, number)
            return (
                {"tagged": reference}
                if current.get("ExternalInvoiceReference1") == reference
                else None
            )

        self.progress.run("credit_reference", tag, recover=recover_tag)
        return number

    def _partial_credit(self, source: dict[str, Any]) -> str:
        reference = fortnox_reference(self.document)

        def create() -> dict[str, Any]:
            body = credit_invoice_payload(self.document, self.route, self.options, source)
            created = self.client.post(
                "invoices", {"Invoice": body}, what="creating the credit invoice"
            )
            return {"number": self._keep(created["Invoice"])}

        def recover() -> dict[str, Any] | None:
            found = find_invoice(self.client, reference)
            return {"number": _number(found["DocumentNumber"])} if found else None

        return self.progress.run("credit", create, recover=recover)["number"]

    def _bookkeep(self, number: str, *, step: str = "bookkeep") -> None:
        self._answered.pop(number, None)  # booking changes it: Fortnox's answer replaces it

        def action() -> dict[str, Any]:
            booked = self.client.put(
                f"invoices/{segment(number)}/bookkeep", what=f"booking invoice {number}"
            )
            if isinstance(booked, dict) and isinstance(booked.get("Invoice"), dict):
                self._keep(booked["Invoice"])
            return {"booked": number}

        def recover() -> dict[str, Any] | None:
            return {"booked": number} if read_invoice(self.client, number).get("Booked") else None

        self.progress.run(step, action, recover=recover)

    def _email(self, number: str) -> None:
        def action() -> dict[str, Any]:
            self.client.get(f"invoices/{segment(number)}/email", what=f"e-mailing invoice {number}")
            return {"sent": number}

        def recover() -> dict[str, Any] | None:
            return {"sent": number} if read_invoice(self.client, number).get("Sent") else None

        self.progress.run("email", action, recover=recover)

    def _payment(self, invoice: dict[str, Any]) -> None:
        number = _number(invoice["DocumentNumber"])
        amount = Decimal(str(invoice.get("Total") or 0))
        body = payment_payload(self.document, self.options, invoice, amount=amount)
        sek = Decimal(str(body["Amount"]))

        def action() -> dict[str, Any]:
            created = self.client.post(
                "invoicepayments", {"InvoicePayment": body}, what=f"paying invoice {number}"
            )
            return {"number": _number(created["InvoicePayment"]["Number"])}

        def recover() -> dict[str, Any] | None:
            found = find_payment(self.client, number, sek)
            return {"number": _number(found["Number"])} if found else None

        payment = self.progress.run("payment", action, recover=recover)["number"]
        self.details["payment_number"] = payment

        def book() -> dict[str, Any]:
            self.client.put(
                f"invoicepayments/{segment(payment)}/bookkeep", what=f"booking payment {payment}"
            )
            return {"booked": payment}

        def recover_book() -> dict[str, Any] | None:
            data = self.client.get(
                f"invoicepayments/{segment(payment)}", what=f"reading payment {payment}"
            )
            return {"booked": payment} if data["InvoicePayment"].get("Booked") else None

        self.progress.run("payment_bookkeep", book, recover=recover_book)

    # -- finishing ----------------------------------------------------------------------

    def _keep(self, invoice: dict[str, Any]) -> str:
        """Remember an invoice as Fortnox just answered a write; its number."""
        number = _number(invoice["DocumentNumber"])
        self._answered[number] = invoice
        return number

    def _current(self, number: str) -> dict[str, Any]:
        """The invoice as Fortnox last answered this attempt, else as read from Fortnox."""
        invoice = self._answered.get(number)
        if invoice is None:
            invoice = self._answered[number] = read_invoice(self.client, number)
        return invoice

    def _finish_invoice(self, number: str, *, paid: bool) -> ExportResult:
        invoice = self._current(number)
        totals, review = self._compare(invoice)
        result = ExportResult(
            target_id=number,
            document_kind="invoice",
            url=str(invoice.get("@url") or ""),
            totals=totals,
            review=review,
            details=self.details,
        )
        if review:
            return result.replace(details=dict(self.details))
        settings = self.route.settings
        booked = bool(invoice.get("Booked"))
        if settings.bookkeep and not booked:
            self._bookkeep(number)
            booked = True
        if self._send_email() and not self.document.is_credit:
            self._email(number)
        if settings.register_payment and paid and not Decimal(str(invoice.get("Total") or 0)):
            self.details["payment"] = "not registered: the invoice total is 0.00"
        elif settings.register_payment and paid:
            if booked:
                self._payment(self._current(number))
            else:
                self.details["payment"] = (
                    "not registered: Fortnox registers payments on booked invoices only, and "
                    "this route does not book them"
                )
        self.details["booked"] = "yes" if booked else "no"
        return result.replace(details=dict(self.details))

    def _compare(self, invoice: dict[str, Any]) -> tuple[Totals, str]:
        total = Decimal(str(invoice.get("Total") or 0))
        round_off = Decimal(str(invoice.get("RoundOff") or 0))
        vat = Decimal(str(invoice.get("TotalVAT") or 0))
        currency = str(invoice.get("Currency") or self.document.currency)
        totals = Totals(total=total, vat=vat, currency=currency)
        expected_gross, expected_vat = expected_totals(self.document)
        gross = total - round_off
        if round_off:
            self.details["round_off"] = str(round_off)
        if (gross, vat) == (expected_gross, expected_vat):
            return totals, ""
        kind = "credit invoice" if self.document.is_credit else "invoice"
        return totals, (
            f"Fortnox's totals for {kind} {invoice.get('DocumentNumber')} differ from the shop's: "
            f"Fortnox {gross} {currency} incl. VAT {vat}, shop {expected_gross} {currency} incl. "
            f"VAT {expected_vat}. Check the document in Fortnox; it was not booked, e-mailed or "
            "paid by ledgerbridge."
        )

    def _voucher(self) -> ExportResult:
        year = financial_year(self.client, self.document.date)

        def create() -> dict[str, Any]:
            body = voucher_payload(self.document, self.route, self.options, financial_year=year)
            created = self.client.post("vouchers", {"Voucher": body}, what="creating the voucher")[
                "Voucher"
            ]
            step = {
                "series": str(created["VoucherSeries"]),
                "number": str(created["VoucherNumber"]),
                "year": str(created.get("Year") or year),
            }
            if created.get("VoucherRows"):
                # What Fortnox stored, as it answered the create: no read-back needed.
                step["debit"] = str(_debits(created))
                step["url"] = str(created.get("@url") or "")
            return step

        def recover() -> dict[str, Any] | None:
            found = find_voucher(self.client, self.document)
            if found is None:
                return None
            return {
                "series": str(found["VoucherSeries"]),
                "number": str(found["VoucherNumber"]),
                "year": str(found.get("Year") or year),
            }

        step = self.progress.run("voucher", create, recover=recover)
        return self._voucher_result(step)

    def _voucher_result(self, step: dict[str, Any]) -> ExportResult:
        series, number, year = step["series"], step["number"], step["year"]
        if "debit" in step:
            booked, url = Decimal(step["debit"]), str(step.get("url") or "")
        else:
            data = self.client.get(
                f"vouchers/{segment(series)}/{segment(number)}",
                {"financialyear": year},
                what=f"reading voucher {series}{number}",
            )["Voucher"]
            booked, url = _debits(data), str(data.get("@url") or "")
        expected = sum((line.debit for line in self.document.journal), Decimal(0))
        review = ""
        if quantize(booked) != quantize(expected):
            review = (
                f"Voucher {series}{number} in Fortnox debits {booked} SEK but the journal of "
                f"{self.document.reference} debits {expected} SEK. Check it in Fortnox."
            )
        return ExportResult(
            target_id=f"{series}{number}",
            document_kind="voucher",
            url=url,
            totals=Totals(total=quantize(booked), vat=self.document.total_vat, currency="SEK"),
            review=review,
            details={"series": series, "number": number, "year": year},
        )


def _debits(voucher: dict[str, Any]) -> Decimal:
    """The sum of a voucher's debit rows."""
    return sum(
        (Decimal(str(row.get("Debit") or 0)) for row in voucher.get("VoucherRows", [])), Decimal(0)
    )


def find_document(client: FortnoxClient, document: AccountingDocument) -> ExportResult | None:
    """The invoice or voucher an earlier attempt created for ``document``, or None."""
    reference = fortnox_reference(document)
    if document.document_type not in VOUCHER_TYPES:
        found = find_invoice(client, reference)
        if found is not None:
            invoice = read_invoice(client, _number(found["DocumentNumber"]))
            return ExportResult(
                target_id=_number(invoice["DocumentNumber"]),
                document_kind="invoice",
                url=str(invoice.get("@url") or ""),
                totals=Totals(
                    total=Decimal(str(invoice.get("Total") or 0)),
                    vat=Decimal(str(invoice.get("TotalVAT") or 0)),
                    currency=str(invoice.get("Currency") or document.currency),
                ),
                details={"found_by": "ExternalInvoiceReference1"},
            )
        if document.document_type is not DocumentType.CREDIT_NOTE:
            return None
    voucher = find_voucher(client, document)
    if voucher is None:
        return None
    series, number = str(voucher["VoucherSeries"]), str(voucher["VoucherNumber"])
    return ExportResult(
        target_id=f"{series}{number}",
        document_kind="voucher",
        url=str(voucher.get("@url") or ""),
        details={"series": series, "number": number, "year": str(voucher.get("Year") or "")},
    )
