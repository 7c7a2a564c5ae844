"""The export flows: invoice, journal entry and credit note, each step run exactly once.

Every creating step goes through ``progress.run(step, action, recover=...)``. Bokio has no
idempotency key, so ``recover`` looks the object up by what ledgerbridge wrote into it:

* invoices and credit notes: ``metadata.lbReference == <document reference>`` (a filter Bokio
  offers), checked exactly on the answer;
* journal entries: the ``[reference]`` marker at the end of the title (``title~`` filter plus
  an exact check, narrowed to the entry date);
* state changes (publish, record, payments): the object's current state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model import AccountingDocument, DocumentType, ExportResult, Totals
from ledgerbridge.money import ZERO, quantize
from ledgerbridge.progress import ExportProgress
from ledgerbridge_bokio import payloads
from ledgerbridge_bokio.client import BokioClient, query_value
from ledgerbridge_bokio.customers import CustomerDirectory
from ledgerbridge_bokio.settings import RouteConfig, route_config

log = logging.getLogger(__name__)
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
JOURNAL_ENTRY = "journal_entry"
#: Requests a flow needs at most, checked against the monthly budget before it starts.
INVOICE_REQUESTS = 10
CREDIT_REQUESTS = 8
JOURNAL_REQUESTS = 3


def _dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def _summary(invoice: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of an invoice or credit note a step records."""
    return {
        "id": str(invoice["id"]),
        "number": invoice.get("invoiceNumber") or "",
        "status": invoice.get("status") or "",
        "totalAmount": str(_dec(invoice.get("totalAmount"))),
        "totalTax": str(_dec(invoice.get("totalTax"))),
        "currency": invoice.get("currency") or "SEK",
        "currencyRate": str(_dec(invoice.get("currencyRate") or 1)),
        "journalEntryId": (invoice.get("journalEntryRef") or {}).get("id") or "",
        "deliveryAddress": payloads_plain(invoice.get("deliveryAddress")),
        "lineCount": len(invoice.get("lineItems") or []),
    }


def payloads_plain(value: Any) -> Any:
    """A JSON-able copy (Decimals as strings)."""
    if isinstance(value, dict):
        return {key: payloads_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [payloads_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _entry_summary(entry: dict[str, Any]) -> dict[str, Any]:
    items = entry.get("items") or []
    return {
        "id": str(entry["id"]),
        "number": entry.get("journalEntryNumber") or "",
        "title": entry.get("title") or "",
        "debit": str(sum((_dec(item.get("debit")) for item in items), ZERO)),
        "credit": str(sum((_dec(item.get("credit")) for item in items), ZERO)),
        "items": len(items),
    }


class BokioFlows:
    """Runs the export of one document for one route (or looks one up)."""

    def __init__(self, ledger: LedgerContext, client: BokioClient) -> None:
        self.ledger = ledger
        self.client = client

    # -- look-ups (recover and find_document) ---------------------------------------------

    def _by_metadata(self, path: str, reference: str) -> dict[str, Any] | None:
        safe = query_value(reference)
        query = f"metadata.{payloads.METADATA_REFERENCE}=={safe}" if safe else None
        for item in self.client.pages(path, query=query, what="looking for an earlier export"):
            if (item.get("metadata") or {}).get(payloads.METADATA_REFERENCE) == reference:
                return item
        return None

    def find_invoice(self, reference: str) -> dict[str, Any] | None:
        """The invoice ledgerbridge created for ``reference``, or None."""
        return self._by_metadata("/invoices", reference)

    def find_credit_note(self, reference: str) -> dict[str, Any] | None:
        """The credit note ledgerbridge created for ``reference``, or None."""
        return self._by_metadata("/credit-notes", reference)

    def find_journal_entry(
        self, document: AccountingDocument, marker: str | None = None, *, dated: bool = True
    ) -> dict[str, Any] | None:
        """The journal entry whose title ends with the marker (the document's by default)."""
        marker = marker or payloads.reference_marker(document.reference)
        terms = []
        safe = query_value(marker)
        if safe:
            terms.append(f"title~{safe}")
        if dated or not safe:
            terms.append(f"date=={document.date.isoformat()}")
        for entry in self.client.pages(
            "/journal-entries", query="&&".join(terms), what="looking for an entry"
        ):
            if str(entry.get("title") or "").endswith(marker):
                return entry
        return None

    def find_reversal(self, document: AccountingDocument) -> dict[str, Any] | None:
        """The reversal Bokio made of the credited cash sale's entry, or None."""
        if document.credit is None:
            return None
        marker = payloads.reference_marker(document.credit.original_reference)
        original = self.find_journal_entry(document, marker, dated=False)
        reversal_id = (original or {}).get("reversedByJournalEntryId")
        if not reversal_id:
            return None
        return self.client.get(f"/journal-entries/{reversal_id}", what="reading the reversal")

    def find(self, document: AccountingDocument) -> ExportResult | None:
        """``find_document``: what already exists in Bokio for this document."""
        if payloads.goes_as_journal_entry(document):
            entry = self.find_journal_entry(document)
            return self._journal_result(document, _entry_summary(entry)) if entry else None
        if document.is_credit:
            credit = self.find_credit_note(document.reference)
            if credit is not None:
                return self._invoice_result(CREDIT_NOTE, _summary(credit))
            entry = self.find_journal_entry(document)
            if entry is None and document.credit is not None and document.credit.full:
                entry = self.find_reversal(document)
            return self._journal_result(document, _entry_summary(entry)) if entry else None
        invoice = self.find_invoice(document.reference)
        return self._invoice_result(INVOICE, _summary(invoice)) if invoice else None

    # -- results ---------------------------------------------------------------------------

    def _details(self, **values: str) -> dict[str, str]:
        status = self.client.budget_status()
        details = {key: value for key, value in values.items() if value}
        details["budget"] = status.describe()
        if status.warning:
            details["budget_warning"] = status.describe()
        return details

    def _invoice_result(
        self, kind: str, state: dict[str, Any], review: str = "", **details: str
    ) -> ExportResult:
        net, tax = _dec(state["totalAmount"]), _dec(state["totalTax"])
        return ExportResult(
            target_id=state["id"],
            document_kind=kind,
            totals=Totals(total=net + tax, vat=tax, currency=state.get("currency") or "SEK"),
            review=review,
            details=self._details(
                number=state.get("number") or "",
                status=state.get("status") or "",
                journal_entry_id=state.get("journalEntryId") or "",
                **details,
            ),
        )

    def _journal_result(
        self, document: AccountingDocument, entry: dict[str, Any], review: str = ""
    ) -> ExportResult:
        return ExportResult(
            target_id=entry["id"],
            document_kind=JOURNAL_ENTRY,
            totals=Totals(
                total=quantize(document.total * document.sek_rate),
                vat=quantize(document.total_vat * document.sek_rate),
                currency="SEK",
            ),
            review=review,
            details=self._details(number=entry.get("number") or "", title=entry.get("title", "")),
        )

    # -- journal entries --------------------------------------------------------------------

    def export_journal(
        self,
        route: RouteContext,
        document: AccountingDocument,
        progress: ExportProgress,
        *,
        step: str = "journal_entry",
        kind: str = "",
    ) -> ExportResult:
        """Cash sale, daily summary, OSS sale or correcting entry: one balanced entry."""
        config = route_config(route)
        payload = payloads.journal_payload(document, config, route.filters, kind=kind)
        self.client.budget.ensure_room(
            JOURNAL_REQUESTS, f"the journal entry for {document.reference}"
        )
        entry = progress.run(
            step,
            lambda: _entry_summary(
                self.client.post("/journal-entries", payload, what="creating the journal entry")
            ),
            recover=self._recover_entry(document),
        )
        review = ""
        wanted = sum((item["debit"] for item in payload["items"]), ZERO)
        if _dec(entry["debit"]) != wanted or _dec(entry["credit"]) != wanted:
            review = (
                f"Bokio's journal entry {entry.get('number')} has debit {entry['debit']} and "
                f"credit {entry['credit']}; the document's journal is {wanted}."
            )
        return self._journal_result(document, entry, review)

    def _recover_entry(
        self, document: AccountingDocument, marker: str | None = None
    ) -> Callable[[], dict[str, Any] | None]:
        def recover() -> dict[str, Any] | None:
            entry = self.find_journal_entry(document, marker)
            return _entry_summary(entry) if entry else None

        return recover

    # -- invoices ---------------------------------------------------------------------------

    def export_invoice(
        self, route: RouteContext, document: AccountingDocument, progress: ExportProgress
    ) -> ExportResult:
        """Customer, draft, rounding protection, publish, record, payment."""
        config = route_config(route)
        if document.customer is None:
            raise DataError(f"{document.reference} has no customer; an invoice needs one.")
        self.client.budget.ensure_room(INVOICE_REQUESTS, f"the invoice for {document.reference}")
        directory = CustomerDirectory(self.client)
        customer_payload = route.filters.customer(
            payloads.customer_payload(document.customer, config), document
        )
        customer_id = directory.ensure(document.customer, customer_payload, progress)
        payload = payloads.invoice_payload(document, customer_id, config, route.filters)
        state = progress.run(
            "invoice",
            lambda: _summary(self.client.post("/invoices", payload, what="creating the invoice")),
            recover=self._recover_invoice(document.reference),
        )
        invoice_id = state["id"]
        state, review = self._protect_totals(
            document, state, config, progress, f"/invoices/{invoice_id}"
        )
        if review:
            return self._invoice_result(INVOICE, state, review, customer_id=customer_id)
        if not config.publish:
            return self._invoice_result(INVOICE, state, customer_id=customer_id)
        state = self._transition(progress, "publish", f"/invoices/{invoice_id}", "publish", state)
        if route.settings.bookkeep:
            state = self._transition(progress, "record", f"/invoices/{invoice_id}", "record", state)
        payment_details: dict[str, str] = {}
        if route.settings.register_payment and route.settings.bookkeep:
            if document.total == 0:
                # Bokio refuses a payment of 0.00; a zero-total invoice is settled as it stands.
                payment_details = {"payment": "not registered: the invoice total is 0.00"}
            elif payloads.paid_on(document):
                payment_details, review = self._register_payment(
                    route, config, document, progress, state
                )
            else:
                payment_details = {"payment": "not registered: the order is not marked paid"}
        return self._invoice_result(
            INVOICE, state, review, customer_id=customer_id, **payment_details
        )

    def _recover_invoice(self, reference: str) -> Callable[[], dict[str, Any] | None]:
        def recover() -> dict[str, Any] | None:
            found = self.find_invoice(reference)
            return _summary(found) if found else None

        return recover

    def _mismatch(self, document: AccountingDocument, state: dict[str, Any]) -> tuple[Decimal, str]:
        """(gross difference, message) between Bokio's totals and the document's."""
        sign = Decimal(-1) if document.is_credit and document.total < 0 else Decimal(1)
        wanted_gross, wanted_vat = document.total * sign, document.total_vat * sign
        net, tax = _dec(state["totalAmount"]), _dec(state["totalTax"])
        if net + tax == wanted_gross and tax == wanted_vat:
            return ZERO, ""
        currency = state.get("currency") or document.currency
        return wanted_gross - (net + tax), (
            f"Bokio computed {net + tax} {currency} including VAT {tax}; the shop's document "
            f"says {wanted_gross} including VAT {wanted_vat}. The draft was left unpublished "
            "in Bokio for you to check."
        )

    def _protect_totals(
        self,
        document: AccountingDocument,
        state: dict[str, Any],
        config: RouteConfig,
        progress: ExportProgress,
        path: str,
    ) -> tuple[dict[str, Any], str]:
        """Compare Bokio's totals with the document; fix öre by a rounding line where allowed."""
        difference, message = self._mismatch(document, state)
        if not message or state.get("status") not in ("draft", ""):
            return state, message
        vat_equal = _dec(state["totalTax"]) == abs(document.total_vat)
        if not (config.rounding_line and vat_equal and abs(difference) < 1):
            return state, message
        line = {
            "itemType": "salesItem",
            "description": "Öresutjämning",
            "productType": "goods",
            "unitType": "unspecified",
            "quantity": Decimal(1),
            "unitPrice": difference,
            "taxRate": 0,
            "bookkeepingAccountNumber": int(config.rounding_account),
        }

        def add_line() -> dict[str, Any]:
            self.client.post(f"{path}/line-items", line, what="adding the rounding line")
            return _summary(self.client.get(path, what="reading the totals back"))

        def recover() -> dict[str, Any] | None:
            current = _summary(self.client.get(path, what="reading the totals back"))
            return current if current["lineCount"] > state["lineCount"] else None

        state = progress.run("rounding_line", add_line, recover=recover)
        _difference, message = self._mismatch(document, state)
        return state, message

    def _transition(
        self,
        progress: ExportProgress,
        step: str,
        path: str,
        action: str,
        state: dict[str, Any],
    ) -> dict[str, Any]:
        """Publish or record, once; recovery reads the object's state."""
        done_when: Callable[[dict[str, Any]], bool] = (
            (lambda s: s["status"] not in ("draft", ""))
            if action == "publish"
            else (lambda s: bool(s["journalEntryId"]))
        )
        if done_when(state):
            return state

        def run() -> dict[str, Any]:
            return _summary(self.client.post(f"{path}/{action}", what=f"{action}ing {path}"))

        def recover() -> dict[str, Any] | None:
            current = _summary(self.client.get(path, what=f"checking {path}"))
            return current if done_when(current) else None

        return progress.run(step, run, recover=recover)

    def _payment_account(self, route: RouteContext, config: RouteConfig, method: str) -> str:
        return (
            config.bank_accounts.get(method)
            or route.settings.payment_accounts.get(method)
            or config.bank_accounts.get("default")
            or route.settings.default_payment_account
        )

    def _register_payment(
        self,
        route: RouteContext,
        config: RouteConfig,
        document: AccountingDocument,
        progress: ExportProgress,
        state: dict[str, Any],
    ) -> tuple[dict[str, str], str]:
        invoice_id = state["id"]
        account = self._payment_account(route, config, document.payment_method)
        amount = payloads.payment_amount_sek(document)
        body = {
            "date": payloads.paid_on(document),
            "sumBaseCurrency": amount,
            "bookkeepingAccountNumber": int(account),
        }
        path = f"/invoices/{invoice_id}/payments"

        def create() -> dict[str, Any]:
            created = self.client.post(path, body, what="registering the payment")
            return {"id": str(created["id"]), "journalEntryId": ""}

        def recover() -> dict[str, Any] | None:
            for payment in self.client.pages(path, what="looking for the payment"):
                if (
                    _dec(payment.get("sumBaseCurrency")) == amount
                    and str(payment.get("bookkeepingAccountNumber")) == account
                ):
                    ref = (payment.get("journalEntryRef") or {}).get("id") or ""
                    return {"id": str(payment["id"]), "journalEntryId": ref}
            return None

        payment = progress.run("payment", create, recover=recover)
        payment_path = f"{path}/{payment['id']}"

        def record() -> dict[str, Any]:
            recorded = self.client.post(f"{payment_path}/record", what="recording the payment")
            return {"journalEntryId": (recorded.get("journalEntryRef") or {}).get("id") or ""}

        def recover_record() -> dict[str, Any] | None:
            current = self.client.get(payment_path, what="checking the payment")
            ref = (current.get("journalEntryRef") or {}).get("id")
            return {"journalEntryId": ref} if ref else None

        if not payment.get("journalEntryId"):
            progress.run("payment_record", record, recover=recover_record)
        details = {"payment_id": payment["id"], "payment_account": account}
        gross_sek = (_dec(state["totalAmount"]) + _dec(state["totalTax"])) * _dec(
            state["currencyRate"]
        )
        if state.get("currency", "SEK") == "SEK" and gross_sek == gross_sek.to_integral():
            return details, ""
        current = self.client.get(f"/invoices/{invoice_id}", what="checking the payment status")
        status = current.get("status") or ""
        details["status_after_payment"] = status
        if status in ("underPaid", "overPaid"):
            gross = _dec(current.get("totalAmount")) + _dec(current.get("totalTax"))
            return details, (
                f"Bokio marks invoice {state.get('number')} {status} after the payment of "
                f"{amount} SEK: its öresavrundning rounds the invoice total "
                f"{gross} {current.get('currency')} to whole kronor. Switch off öresavrundning in "
                "Bokio's invoice settings, or settle the difference in Bokio."
            )
        return details, ""

    # -- credit notes -------------------------------------------------------------------------

    def export_credit(
        self,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """A refund: a credit note of an invoice, or a reversing/correcting journal entry."""
        if original.document_kind == JOURNAL_ENTRY:
            return self._credit_journal(route, document, original, progress)
        if original.document_kind != INVOICE:
            raise DataError(
                f"Cannot credit a Bokio {original.document_kind!r}; only invoices and journal "
                "entries can be corrected."
            )
        return self._credit_invoice(route, document, original, progress)

    def _credit_invoice(
        self,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        config = route_config(route)
        self.client.budget.ensure_room(CREDIT_REQUESTS, f"the credit note {document.reference}")
        invoice_path = f"/invoices/{original.target_id}"

        def create() -> dict[str, Any]:
            return _summary(
                self.client.post(f"{invoice_path}/credit", what="creating a credit note")
            )

        def recover() -> dict[str, Any] | None:
            found = self.find_credit_note(document.reference)
            if found is not None:
                return _summary(found)
            invoice = self.client.get(invoice_path, what="reading the credited invoice")
            for ref in invoice.get("creditNoteRefs") or []:
                note = self.client.get(f"/credit-notes/{ref['id']}", what="reading a credit note")
                if note.get("status") == "draft" and not (note.get("metadata") or {}).get(
                    payloads.METADATA_REFERENCE
                ):
                    return _summary(note)
            return None

        draft = progress.run("credit_note", create, recover=recover)
        path = f"/credit-notes/{draft['id']}"
        body = payloads.credit_note_payload(document, draft, config, route.filters)

        def put_lines() -> dict[str, Any]:
            return _summary(self.client.put(path, body, what="setting the credited rows"))

        def recover_lines() -> dict[str, Any] | None:
            current = self.client.get(path, what="reading the credit note")
            marked = (current.get("metadata") or {}).get(payloads.METADATA_REFERENCE)
            return _summary(current) if marked == document.reference else None

        state = progress.run("credit_lines", put_lines, recover=recover_lines)
        _difference, review = self._mismatch(document, state)
        if review:
            return self._invoice_result(CREDIT_NOTE, state, review)
        state = self._transition(progress, "credit_publish", path, "publish", state)
        payout = ""
        if route.settings.bookkeep:
            state = self._transition(progress, "credit_record", path, "record", state)
            if route.settings.register_payment and original.details.get("payment_id"):
                payout = self._refund_payout(route, config, document, original, progress)
        return self._invoice_result(
            CREDIT_NOTE,
            state,
            credited_invoice=original.details.get("number", ""),
            payout_journal_entry_id=payout,
        )

    def _refund_payout(
        self,
        route: RouteContext,
        config: RouteConfig,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> str:
        """The money going back: receivable against the payment account it came in on.

        Bokio's credit note moves revenue and VAT back onto the receivable; the invoice had
        been paid, so the refund itself is booked as its own entry (Bokio has no credit-note
        payments in its API).
        """
        account = original.details.get("payment_account") or self._payment_account(
            route, config, document.payment_method
        )
        amount = abs(quantize(document.total * document.sek_rate))
        marker = payloads.reference_marker(f"{document.reference}/payout")
        payload = route.filters.document(
            {
                "title": f"Återbetalning {document.order_number or document.reference} {marker}",
                "date": document.date.isoformat(),
                "items": [
                    {"account": int(document.receivable_account), "debit": amount, "credit": ZERO},
                    {"account": int(account), "debit": ZERO, "credit": amount},
                ],
            },
            document,
        )
        entry = progress.run(
            "refund_payout",
            lambda: _entry_summary(
                self.client.post("/journal-entries", payload, what="booking the refund payout")
            ),
            recover=self._recover_entry(document, marker),
        )
        return str(entry["id"])

    def _credit_journal(
        self,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """Full refund of an API-created entry: Bokio's reverse; anything else: own entry."""
        if document.credit is not None and document.credit.full:
            entry = self.client.get(
                f"/journal-entries/{original.target_id}", what="reading the original entry"
            )
            if _mirrors(entry, document) and not entry.get("reversedByJournalEntryId"):
                return self._reverse(document, original, progress)
        return self.export_journal(route, document, progress, step="credit_entry")

    def _reverse(
        self, document: AccountingDocument, original: ExportResult, progress: ExportProgress
    ) -> ExportResult:
        self.client.budget.ensure_room(JOURNAL_REQUESTS, f"reversing {original.target_id}")

        def run() -> dict[str, Any]:
            return _entry_summary(
                self.client.post(
                    f"/journal-entries/{original.target_id}/reverse",
                    what="reversing the journal entry",
                )
            )

        def recover() -> dict[str, Any] | None:
            query = f"reversingJournalEntryId=={original.target_id}"
            for entry in self.client.pages("/journal-entries", query=query, what="reversal"):
                return _entry_summary(entry)
            return None

        entry = progress.run("reverse", run, recover=recover)
        return self._journal_result(document, entry)


def _mirrors(entry: dict[str, Any], document: AccountingDocument) -> bool:
    """Whether the document's journal is exactly the entry with debit and credit swapped."""
    original = sorted(
        (int(item["account"]), _dec(item.get("credit")), _dec(item.get("debit")))
        for item in entry.get("items") or []
    )
    refund = sorted(
        (int(item["account"]), item["debit"], item["credit"])
        for item in payloads.journal_items(document.journal)
    )
    return original == refund and bool(original)


def flow_for(document: AccountingDocument) -> str:
    """Which Bokio object a document becomes (``invoice`` or ``journal_entry``)."""
    if document.document_type is DocumentType.CREDIT_NOTE:
        return CREDIT_NOTE
    return JOURNAL_ENTRY if payloads.goes_as_journal_entry(document) else INVOICE
