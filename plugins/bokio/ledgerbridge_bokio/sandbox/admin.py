"""The sandbox's admin API under ``/_sandbox`` (no authentication: loopback tool).

* ``GET /_sandbox/knobs`` / ``POST /_sandbox/knobs`` (JSON object of knobs to change)
* ``GET /_sandbox/stats`` — requests, write conflicts, 429s, quota refusals, injected faults
* ``POST /_sandbox/companies`` ``{"name", "rounding"?}`` → ``{"companyId", "token"}``
* ``GET /_sandbox/companies`` — every company with document counts
* ``GET /_sandbox/companies/<id>/documents`` — everything created in a company (stable JSON:
  ``customers``, ``invoices``, ``creditNotes``, ``payments``, ``journalEntries``, ``items``,
  ``uploads``, ``counts``, ``requestsThisMonth``)
* ``POST /_sandbox/companies/<id>/settings`` ``{"rounding": "krona"|"none",
  "accounts": {"3151": "Försäljning OSS Frankrike"}, "closeYear": 2026}``
* ``POST /_sandbox/reset`` — forget every document and counter (companies and tokens stay)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, request

from ledgerbridge import jsonnum
from ledgerbridge_bokio.sandbox.app import _apply_knobs, json_response
from ledgerbridge_bokio.sandbox.state import STOCKHOLM, Company, SandboxState, Stats


def _counts(company: Company) -> dict[str, int]:
    return {
        "customers": len(company.customers),
        "invoices": len(company.invoices),
        "creditNotes": len(company.credit_notes),
        "payments": len(company.payments),
        "journalEntries": len(company.journal_entries),
        "items": len(company.items),
        "uploads": len(company.uploads),
    }


def documents_of(company: Company) -> dict[str, Any]:
    """Everything created in ``company``, as the listing endpoint returns it."""
    month = datetime.now(STOCKHOLM).strftime("%Y-%m")
    return {
        "companyId": company.id,
        "name": company.name,
        "rounding": company.rounding,
        "requestsThisMonth": company.requests_by_month.get(month, 0),
        "counts": _counts(company),
        "customers": list(company.customers.values()),
        "invoices": list(company.invoices.values()),
        "creditNotes": list(company.credit_notes.values()),
        "payments": list(company.payments.values()),
        "journalEntries": list(company.journal_entries.values()),
        "items": list(company.items.values()),
        "uploads": [
            {key: value for key, value in upload.items() if key != "_content"}
            for upload in company.uploads.values()
        ],
    }


def register_admin(app: Flask, state: SandboxState) -> None:
    """Add the ``/_sandbox`` routes."""

    def bad(message: str) -> Response:
        return json_response({"code": "validation-error", "message": message}, 400)

    def payload() -> dict[str, Any]:
        body = jsonnum.loads(request.get_data() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("send a JSON object")
        return body

    @app.route("/_sandbox/knobs", methods=["GET", "POST"])
    def knobs() -> Response:
        if request.method == "POST":
            try:
                with state.lock:
                    _apply_knobs(state, payload())
            except (ValueError, TypeError) as exc:
                return bad(str(exc))
        return json_response(state.knobs.as_dict())

    @app.get("/_sandbox/stats")
    def stats() -> Response:
        return json_response(state.stats.as_dict())

    @app.route("/_sandbox/companies", methods=["GET", "POST"])
    def companies() -> Response:
        if request.method == "POST":
            try:
                body = payload()
            except ValueError as exc:
                return bad(str(exc))
            company = state.add_company(str(body.get("name") or "Sandbox AB"))
            company.rounding = str(body.get("rounding") or "krona")
            token = state.add_private_token(company.id)
            return json_response({"companyId": company.id, "token": token})
        with state.lock:
            listed = [
                {"companyId": c.id, "name": c.name, "counts": _counts(c)}
                for c in state.companies.values()
            ]
        return json_response({"companies": listed})

    @app.get("/_sandbox/companies/<company_id>/documents")
    def company_documents(company_id: str) -> Response:
        with state.lock:
            company = state.companies.get(company_id)
            if company is None:
                return json_response({"code": "not-found", "message": "Unknown company"}, 404)
            return json_response(documents_of(company))

    @app.post("/_sandbox/companies/<company_id>/settings")
    def company_settings(company_id: str) -> Response:
        company = state.companies.get(company_id)
        if company is None:
            return json_response({"code": "not-found", "message": "Unknown company"}, 404)
        try:
            body = payload()
        except ValueError as exc:
            return bad(str(exc))
        with state.lock:
            if "rounding" in body:
                if body["rounding"] not in ("krona", "none"):
                    return bad("rounding is krona or none")
                company.rounding = body["rounding"]
            for number, name in (body.get("accounts") or {}).items():
                company.accounts[int(number)] = (str(name), "customAccount")
            if body.get("closeYear"):
                for year in company.fiscal_years:
                    if year["startDate"].startswith(str(body["closeYear"])):
                        year["status"] = "closed"
        return json_response({"companyId": company.id, "rounding": company.rounding})

    @app.post("/_sandbox/reset")
    def reset() -> Response:
        with state.lock:
            for company in state.companies.values():
                for collection in (
                    company.customers,
                    company.items,
                    company.invoices,
                    company.credit_notes,
                    company.payments,
                    company.journal_entries,
                    company.uploads,
                    company.numbers,
                    company.requests_by_month,
                ):
                    collection.clear()
            state.windows.clear()
            state.stats = Stats()
        return json_response({"reset": True})
