"""The Bokio sandbox: a local Company API and General API (OAuth) for tests, demo and benchmarks.

Faithful to the reference and the OpenAPI files: 200 on create, 204 on delete, the paging
envelope with ``query`` filters, the invoice state machine (draft → published → recorded, edits
only on drafts), flat ``apiError`` bodies with JSON-pointer fields, 429 after 200 requests per
60 s per token with ``Bokio-RateLimit-*`` headers, 403 ``quota-exceeded`` past the monthly budget
of private integrations, and 409 when a second write to one method and path arrives while the
first is in flight (the code ``concurrent-write`` is invented: the real one is undocumented).

The admin API under ``/_sandbox`` turns the knobs and lists everything created (see
``docs/connectors/bokio.md``).
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

from ledgerbridge import jsonnum
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.testing.pdf import simple_pdf
from ledgerbridge_bokio.sandbox import documents as docs
from ledgerbridge_bokio.sandbox.documents import ApiFailure, not_found
from ledgerbridge_bokio.sandbox.rules import FilterError, Problems, check_line, matches, parse_query
from ledgerbridge_bokio.sandbox.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_COMPANY_ID,
    DEMO_TOKEN,
    STOCKHOLM,
    Company,
    Principal,
    SandboxState,
    new_id,
    seed_company,
)

COMPANY = "/v1/companies/<company_id>"
INVOICE_FIELDS = {
    "type": "string",
    "customerRef": "string",
    "orderNumberReference": "string",
    "projectReference": "string",
    "buyerReference": "string",
    "contractReference": "string",
    "currency": "string",
    "totalAmount": "number",
    "status": "string",
    "invoiceDate": "date",
    "dueDate": "date",
    "metadata": "string",
}
CREDIT_FIELDS = {**INVOICE_FIELDS, "creditDate": "date"}
CUSTOMER_FIELDS = {
    "name": "string",
    "type": "string",
    "vatNumber": "string",
    "orgNumber": "string",
    "modifiedDateTime": "date",
}
JOURNAL_FIELDS = {
    "title": "string",
    "journalEntryNumber": "string",
    "date": "date",
    "reversingJournalEntryId": "string",
    "reversedByJournalEntryId": "string",
}
PAYMENT_FIELDS = {"date": "date", "sumBaseCurrency": "number"}
FISCAL_FIELDS = {
    "startDate": "date",
    "endDate": "date",
    "accountingMethod": "string",
    "status": "string",
}
ACCOUNT_FIELDS = {"account": "number", "name": "string", "accountType": "string"}
ITEM_FIELDS = {
    "description": "string",
    "itemType": "string",
    "productType": "string",
    "unitType": "string",
    "unitPrice": "number",
    "taxRate": "number",
}
UPLOAD_FIELDS = {"description": "string", "journalEntryId": "string"}


#: Fields the spec types as non-nullable objects: left out rather than sent as null.
_OMIT_WHEN_NULL = frozenset({"billingAddress", "deliveryAddress", "taxReduction", "address"})


def public(value: Any) -> Any:
    """A stored object without the sandbox's private ``_`` keys."""
    if isinstance(value, dict):
        return {
            key: public(item)
            for key, item in value.items()
            if not key.startswith("_") and not (item is None and key in _OMIT_WHEN_NULL)
        }
    if isinstance(value, list):
        return [public(item) for item in value]
    return value


def json_response(body: Any, status: int = 200) -> Response:
    """JSON with exact numbers."""
    return Response(jsonnum.dumps(public(body)), status=status, mimetype="application/json")


def error_response(failure: ApiFailure) -> Response:
    """The flat ``apiError`` body."""
    body: dict[str, Any] = {
        "code": failure.code,
        "message": failure.message,
        "bokioErrorId": new_id(),
    }
    if failure.errors:
        body["errors"] = failure.errors
    return json_response(body, failure.status)


def body_json() -> Any:
    """The request's JSON body (numbers as Decimal); 400 when it is not JSON."""
    try:
        return jsonnum.loads(request.get_data() or b"null")
    except ValueError as exc:
        raise ApiFailure(400, "validation-error", "The request body is not valid JSON") from exc


def paged(items: list[dict[str, Any]], fields: dict[str, str], default_size: int = 25) -> Response:
    """Filter with ``query`` and page with ``page``/``pageSize`` into Bokio's envelope."""
    query = request.args.get("query")
    if query:
        try:
            groups = parse_query(query, fields)
        except FilterError as exc:
            message = (
                f"The provided filter '{query}' is not valid. Please check the format of the "
                "query parameter"
            )
            raise ApiFailure(
                400, "validation-error", message, [{"field": "query", "message": message}]
            ) from exc
        items = [item for item in items if matches(item, groups, fields)]
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("pageSize", default_size))
    except ValueError as exc:
        raise ApiFailure(400, "validation-error", "page and pageSize must be integers") from exc
    if page < 1 or not 1 <= size <= 100:
        raise ApiFailure(
            400,
            "validation-error",
            "page must be at least 1 and pageSize between 1 and 100",
            [{"field": "pageSize", "message": "pageSize must be between 1 and 100"}],
        )
    total = len(items)
    pages = max(1, -(-total // size))
    start = (page - 1) * size
    return json_response(
        {
            "totalItems": total,
            "totalPages": pages,
            "currentPage": page,
            "items": items[start : start + size],
        }
    )


def _seconds_to_next_month() -> int:
    now = datetime.now(STOCKHOLM)
    first = (now.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return int((first - now).total_seconds())


def create_app(options: SandboxOptions | None = None) -> Flask:
    """The sandbox WSGI app. ``options.extra`` sets knobs (``rounding``, ``monthly_budget``...)."""
    options = options or SandboxOptions()
    state = SandboxState()
    app = Flask("ledgerbridge_bokio.sandbox")
    app.config["BOKIO_STATE"] = state
    state.knobs.latency_ms = options.latency_ms
    extra = dict(options.extra)
    rounding = str(extra.pop("rounding", "krona"))
    _apply_knobs(state, extra)
    demo = state.add_company("Sandlådan Webbshop AB", DEMO_COMPANY_ID)
    demo.rounding = rounding
    if options.seed:
        seed_company(demo)
    state.add_private_token(demo.id, DEMO_TOKEN)
    state.add_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "ledgerbridge sandbox app")

    def company_route(
        rule: str, methods: list[str], endpoint: str, handler: Callable[..., Response]
    ) -> None:
        def view(company_id: str, **kwargs: Any) -> Response:
            return _pipeline(state, company_id, handler, kwargs)

        app.add_url_rule(COMPANY + rule, endpoint, view, methods=methods)

    def get_or_404(mapping: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
        item = mapping.get(key)
        if item is None:
            raise not_found(kind, key)
        return item

    # -- customers ------------------------------------------------------------------------

    def customers(company: Company) -> Response:
        if request.method == "POST":
            return json_response(docs.customer_from(body_json(), company, None))
        return paged(list(company.customers.values()), CUSTOMER_FIELDS)

    def customer(company: Company, customer_id: str) -> Response:
        item = get_or_404(company.customers, customer_id, "customer")
        if request.method == "PUT":
            return json_response(docs.customer_from(body_json(), company, item))
        if request.method == "DELETE":
            if not item.get("_api"):
                raise ApiFailure(
                    400,
                    "operation-not-allowed",
                    "Only customers created through the API can be deleted",
                )
            del company.customers[customer_id]
            return Response(status=204)
        return json_response(item)

    company_route("/customers", ["GET", "POST"], "customers", customers)
    company_route("/customers/<customer_id>", ["GET", "PUT", "DELETE"], "customer", customer)

    # -- invoices -------------------------------------------------------------------------

    def invoices(company: Company) -> Response:
        if request.method == "POST":
            return json_response(docs.invoice_from(body_json(), company))
        return paged(list(company.invoices.values()), INVOICE_FIELDS)

    def invoice(company: Company, invoice_id: str) -> Response:
        item = get_or_404(company.invoices, invoice_id, "invoice")
        if request.method == "PUT":
            docs.require_draft(item, "invoice", "updated")
            return json_response(docs.invoice_from(body_json(), company, item))
        if request.method == "DELETE":
            docs.require_draft(item, "invoice", "deleted")
            del company.invoices[invoice_id]
            return Response(status=204)
        return json_response(item)

    def invoice_action(company: Company, invoice_id: str, action: str) -> Response:
        item = get_or_404(company.invoices, invoice_id, "invoice")
        if action == "line-items":
            return json_response(docs.add_line(item, body_json(), company))
        if action == "publish":
            docs.publish(item, company, credit=False)
        elif action == "record":
            docs.record(item, company, credit=False)
        elif action == "credit":
            return json_response(docs.credit_from_invoice(item, company))
        return json_response(item)

    def invoice_download(company: Company, invoice_id: str) -> Response:
        item = get_or_404(company.invoices, invoice_id, "invoice")
        return _pdf(item, "invoice")

    def payments(company: Company, invoice_id: str) -> Response:
        item = get_or_404(company.invoices, invoice_id, "invoice")
        if request.method == "POST":
            return json_response(docs.add_payment(item, body_json(), company))
        mine = [p for p in company.payments.values() if p["invoiceId"] == invoice_id]
        return paged(mine, PAYMENT_FIELDS)

    def payment(company: Company, invoice_id: str, payment_id: str, action: str = "") -> Response:
        payment_ = get_or_404(company.payments, payment_id, "payment")
        if payment_["invoiceId"] != invoice_id:
            raise not_found("payment", payment_id)
        if action == "record":
            return json_response(docs.record_payment(payment_, company))
        if request.method == "DELETE":
            if payment_["journalEntryRef"]:
                raise ApiFailure(
                    400, "operation-not-allowed", "A recorded payment cannot be deleted"
                )
            del company.payments[payment_id]
            docs._update_paid_status(company.invoices[invoice_id], company)
            return Response(status=204)
        return json_response(payment_)

    company_route("/invoices", ["GET", "POST"], "invoices", invoices)
    company_route("/invoices/<invoice_id>", ["GET", "PUT", "DELETE"], "invoice", invoice)
    for action in ("line-items", "publish", "record", "credit"):
        company_route(
            f"/invoices/<invoice_id>/{action}",
            ["POST"],
            f"invoice_{action}",
            lambda company, invoice_id, _action=action: invoice_action(
                company, invoice_id, _action
            ),
        )
    company_route("/invoices/<invoice_id>/download", ["GET"], "invoice_pdf", invoice_download)
    company_route("/invoices/<invoice_id>/payments", ["GET", "POST"], "payments", payments)
    company_route(
        "/invoices/<invoice_id>/payments/<payment_id>", ["GET", "DELETE"], "payment", payment
    )
    company_route(
        "/invoices/<invoice_id>/payments/<payment_id>/record",
        ["POST"],
        "payment_record",
        lambda company, invoice_id, payment_id: payment(company, invoice_id, payment_id, "record"),
    )

    # -- credit notes -----------------------------------------------------------------------

    def credit_notes(company: Company) -> Response:
        return paged(list(company.credit_notes.values()), CREDIT_FIELDS, default_size=20)

    def credit_note(company: Company, note_id: str) -> Response:
        note = get_or_404(company.credit_notes, note_id, "credit note")
        if request.method == "PUT":
            return json_response(docs.update_credit_note(note, body_json(), company))
        if request.method == "DELETE":
            docs.require_draft(note, "credit note", "deleted")
            del company.credit_notes[note_id]
            original = company.invoices[note["invoiceRef"]["id"]]
            original["creditNoteRefs"] = [
                ref for ref in original["creditNoteRefs"] if ref["id"] != note_id
            ]
            return Response(status=204)
        return json_response(note)

    def credit_action(company: Company, note_id: str, action: str) -> Response:
        note = get_or_404(company.credit_notes, note_id, "credit note")
        if action == "publish":
            docs.publish(note, company, credit=True)
        else:
            docs.record(note, company, credit=True)
        return json_response(note)

    def credit_download(company: Company, note_id: str) -> Response:
        return _pdf(get_or_404(company.credit_notes, note_id, "credit note"), "credit note")

    company_route("/credit-notes", ["GET"], "credit_notes", credit_notes)
    company_route("/credit-notes/<note_id>", ["GET", "PUT", "DELETE"], "credit_note", credit_note)
    for action in ("publish", "record"):
        company_route(
            f"/credit-notes/<note_id>/{action}",
            ["POST"],
            f"credit_{action}",
            lambda company, note_id, _action=action: credit_action(company, note_id, _action),
        )
    company_route("/credit-notes/<note_id>/download", ["GET"], "credit_pdf", credit_download)

    # -- journal entries ----------------------------------------------------------------------

    def journal_entries(company: Company) -> Response:
        if request.method == "POST":
            return json_response(docs.journal_from(body_json(), company))
        return paged(list(company.journal_entries.values()), JOURNAL_FIELDS)

    def journal_entry(company: Company, entry_id: str) -> Response:
        return json_response(get_or_404(company.journal_entries, entry_id, "journal entry"))

    def journal_reverse(company: Company, entry_id: str) -> Response:
        entry = get_or_404(company.journal_entries, entry_id, "journal entry")
        return json_response(docs.reverse(entry, company))

    company_route("/journal-entries", ["GET", "POST"], "journal_entries", journal_entries)
    company_route("/journal-entries/<entry_id>", ["GET"], "journal_entry", journal_entry)
    company_route(
        "/journal-entries/<entry_id>/reverse", ["POST"], "journal_reverse", journal_reverse
    )

    # -- reference data, items, uploads ---------------------------------------------------------

    def chart(company: Company) -> Response:
        accounts = [
            {"account": number, "name": name, "accountType": kind}
            for number, (name, kind) in sorted(company.accounts.items())
        ]
        query = request.args.get("query")
        if query:
            try:
                groups = parse_query(query, ACCOUNT_FIELDS)
            except FilterError as exc:
                raise ApiFailure(
                    400,
                    "validation-error",
                    f"The provided filter '{query}' is not valid. Please check the format of "
                    "the query parameter",
                    [{"field": "query", "message": "invalid filter"}],
                ) from exc
            accounts = [item for item in accounts if matches(item, groups, ACCOUNT_FIELDS)]
        return json_response(accounts)

    def account(company: Company, number: int) -> Response:
        if number not in company.accounts:
            raise not_found("account", str(number))
        name, kind = company.accounts[number]
        return json_response(
            {"account": number, "name": name, "accountType": kind, "accountBalance": None}
        )

    def fiscal_years(company: Company) -> Response:
        return paged(list(company.fiscal_years), FISCAL_FIELDS)

    def fiscal_year(company: Company, year_id: str) -> Response:
        for year in company.fiscal_years:
            if year["id"] == year_id:
                return json_response({"fiscalYear": year})
        raise not_found("fiscal year", year_id)

    def company_information(company: Company) -> Response:
        return json_response(
            {
                "companyInformation": {
                    "id": company.id,
                    "companyType": "limitedCompany",
                    "name": company.name,
                    "organizationNumber": company.organisation_number,
                    "phone": "+4631000000",
                    "email": "ekonomi@example.se",
                    "hasBBA": True,
                    "address": {
                        "line1": "Sandlådegatan 1",
                        "line2": None,
                        "city": "Göteborg",
                        "postalCode": "411 01",
                        "country": "SE",
                    },
                }
            }
        )

    def items(company: Company) -> Response:
        if request.method == "POST":
            return json_response(_item(body_json(), company, None))
        return paged(list(company.items.values()), ITEM_FIELDS)

    def item(company: Company, item_id: str) -> Response:
        found = get_or_404(company.items, item_id, "item")
        if request.method == "PUT":
            return json_response(_item(body_json(), company, found))
        if request.method == "DELETE":
            del company.items[item_id]
            return Response(status=204)
        return json_response(found)

    def uploads(company: Company) -> Response:
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None:
                raise ApiFailure(
                    400,
                    "validation-error",
                    "The file field is required",
                    [{"field": "#/file", "message": "The file field is required"}],
                )
            if upload.mimetype not in ("application/pdf", "image/jpeg", "image/png"):
                raise ApiFailure(
                    400,
                    "validation-error",
                    "Invalid file type. Only application/pdf, image/jpeg and image/png files "
                    "are allowed.",
                )
            entry_id = request.form.get("journalEntryId") or None
            if entry_id and entry_id not in company.journal_entries:
                raise not_found("journal entry", entry_id)
            stored = {
                "id": new_id(),
                "description": request.form.get("description") or upload.filename or "upload",
                "contentType": upload.mimetype,
                "journalEntryId": entry_id,
                "_content": upload.read(),
            }
            company.uploads[stored["id"]] = stored
            return json_response(stored)
        return paged(list(company.uploads.values()), UPLOAD_FIELDS)

    def upload(company: Company, upload_id: str) -> Response:
        return json_response(get_or_404(company.uploads, upload_id, "upload"))

    def upload_download(company: Company, upload_id: str) -> Response:
        found = get_or_404(company.uploads, upload_id, "upload")
        return Response(found["_content"], mimetype="application/octet-stream")

    company_route("/chart-of-accounts", ["GET"], "chart", chart)
    company_route("/chart-of-accounts/<int:number>", ["GET"], "account", account)
    company_route("/fiscal-years", ["GET"], "fiscal_years", fiscal_years)
    company_route("/fiscal-years/<year_id>", ["GET"], "fiscal_year", fiscal_year)
    company_route("/company-information", ["GET"], "company_information", company_information)
    company_route("/items", ["GET", "POST"], "items", items)
    company_route("/items/<item_id>", ["GET", "PUT", "DELETE"], "item", item)
    company_route("/uploads", ["GET", "POST"], "uploads", uploads)
    company_route("/uploads/<upload_id>", ["GET"], "upload", upload)
    company_route("/uploads/<upload_id>/download", ["GET"], "upload_download", upload_download)

    from ledgerbridge_bokio.sandbox.admin import register_admin
    from ledgerbridge_bokio.sandbox.general import register_general

    register_general(app, state)
    register_admin(app, state)
    return app


def _item(body: Any, company: Company, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and store a catalogue item (sales or description-only)."""
    if not isinstance(body, dict):
        raise ApiFailure(400, "validation-error", "The request body must be a JSON object")
    problems = Problems()
    line = {**body, "quantity": 1}
    check_line(line, "", problems, frozenset(company.accounts), lambda product, rate: -1)
    if body.get("itemType") == "salesItem" and not body.get("unitType"):
        problems.add("/unitType", "The unit type field is required")
    if problems:
        raise docs.validation(problems)
    stored = {key: value for key, value in body.items() if key != "id"}
    stored["id"] = existing["id"] if existing else new_id()
    company.items[stored["id"]] = stored
    return stored


def _pdf(document: dict[str, Any], kind: str) -> Response:
    if document["status"] == "draft":
        raise ApiFailure(
            400,
            "operation-not-allowed",
            f"The {kind} must be in a published status to download",
        )
    lines = [
        f"{kind.capitalize()} {document['invoiceNumber']}",
        f"Customer: {document['customerRef']['name']}",
        f"Total: {document['totalAmount'] + document['totalTax']} {document['currency']}",
        f"VAT: {document['totalTax']}",
    ]
    return Response(simple_pdf(lines), mimetype="application/pdf")


def _apply_knobs(state: SandboxState, values: dict[str, Any]) -> None:
    """Set knobs from strings (``--option``) or JSON values (admin API)."""
    knobs = state.knobs
    casts: dict[str, Callable[[Any], Any]] = {
        "latency_ms": int,
        "write_delay_ms": int,
        "rate_limit": int,
        "rate_window": float,
        "monthly_budget": int,
        "error_rate": float,
        "access_token_ttl": int,
    }
    for key, value in values.items():
        if key in casts:
            setattr(knobs, key, casts[key](value))
        elif key in ("fail_next", "after_create"):
            setattr(knobs, key, list(value if isinstance(value, list) else jsonnum.loads(value)))
        else:
            raise ValueError(f"Unknown Bokio sandbox knob {key!r}")


def _rule_matches(rule: dict[str, Any], method: str, path: str) -> bool:
    return rule.get("method", method).upper() == method and str(rule.get("path", "")) in path


def _take(rules: list[dict[str, Any]], method: str, path: str) -> dict[str, Any] | None:
    for rule in rules:
        if _rule_matches(rule, method, path):
            rule["count"] = int(rule.get("count", 1)) - 1
            if rule["count"] <= 0:
                rules.remove(rule)
            return rule
    return None


def _pipeline(
    state: SandboxState,
    company_id: str,
    handler: Callable[..., Response],
    kwargs: dict[str, Any],
) -> Response:
    """Auth, rate limit, budget, faults, the one-write rule, then the handler."""
    knobs = state.knobs
    if knobs.latency_ms:
        time.sleep(knobs.latency_ms / 1000)
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    principal = state.principal(token) if token else None
    if principal is None or principal.kind == "general":
        return Response(status=401)
    allowed, remaining, retry_after = state.allow(token)
    headers = {
        "Bokio-RateLimit-Limit": str(knobs.rate_limit),
        "Bokio-RateLimit-Remaining": str(remaining),
        "Bokio-RateLimit-RetryAfter": str(int(retry_after + 0.999)),
    }
    method, path = request.method, request.path
    with state.lock:
        state.stats.requests += 1
        company = state.companies.get(company_id)
    if not allowed:
        with state.lock:
            state.stats.rate_limited += 1
        response = error_response(
            ApiFailure(429, "rate-limit-exceeded", "Rate limit of requests per minute exceeded")
        )
        response.headers.update(headers)
        return response
    if company is None or principal.company_id != company_id:
        return error_response(not_found("company", company_id))
    month = datetime.now(STOCKHOLM).strftime("%Y-%m")
    with state.lock:
        used = company.requests_by_month.get(month, 0) + 1
        company.requests_by_month[month] = used
        over = principal.kind == "private" and used > knobs.monthly_budget
        if over:
            state.stats.quota_exceeded += 1
        fault = _take(knobs.fail_next, method, path) or (
            {"status": 500} if knobs.error_rate and random.random() < knobs.error_rate else None
        )
        if fault:
            state.stats.injected_faults += 1
            if int(fault.get("status", 500)) == 429:
                state.stats.rate_limited += 1  # a 429 is a 429, injected or not
    if over:
        response = error_response(
            ApiFailure(
                403,
                "quota-exceeded",
                f"The monthly quota of {knobs.monthly_budget} requests for this company is used up",
            )
        )
        response.headers["Retry-After"] = str(_seconds_to_next_month())
        return response
    if fault:
        failure = ApiFailure(
            int(fault.get("status", 500)), "internal-server-error", "Injected fault"
        )
        response = error_response(failure)
        response.headers.update(headers)
        return response
    write = method in ("POST", "PUT", "DELETE")
    key = (company_id, method, path)
    if write:
        with state.lock:
            if key in state.in_flight:
                state.stats.write_conflicts += 1
                conflict = True
            else:
                state.in_flight.add(key)
                conflict = False
        if conflict:
            response = error_response(
                ApiFailure(
                    409,
                    "concurrent-write",
                    "Another write to this resource is in progress; only one write per method "
                    "and path at a time",
                )
            )
            response.headers.update(headers)
            return response
    try:
        if write and knobs.write_delay_ms:
            time.sleep(knobs.write_delay_ms / 1000)
        with state.lock:
            try:
                response = handler(company, **kwargs)
            except ApiFailure as failure:
                response = error_response(failure)
            after = _take(knobs.after_create, method, path) if response.status_code < 300 else None
    finally:
        if write:
            with state.lock:
                state.in_flight.discard(key)
    if after is not None:
        with state.lock:
            state.stats.injected_faults += 1
        if after.get("mode") == "timeout":
            time.sleep(float(after.get("sleep", 2.0)))
        failure = ApiFailure(
            500, "internal-server-error", "Injected fault after the change was made"
        )
        response = error_response(failure)
    response.headers.update(headers)
    return response


def basic_credentials() -> tuple[str, str] | None:
    """The (client id, secret) of an HTTP Basic header."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except ValueError:
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def redirect_with(uri: str, params: dict[str, str]) -> Response:
    """A 302 to ``uri`` with ``params`` added."""
    separator = "&" if "?" in uri else "?"
    response = Response(status=302)
    response.headers["Location"] = f"{uri}{separator}{urlencode(params)}"
    return response


def principal_of_request(state: SandboxState) -> Principal | None:
    """The bearer token's owner."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return state.principal(header[7:].strip())
