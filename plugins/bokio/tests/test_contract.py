"""Contract tests: every request the client sends and every answer the sandbox gives, held
against Bokio's own OpenAPI files (``ledgerbridge_bokio/spec``).

openapi-core is used rather than bare jsonschema because the files are OpenAPI 3.0: it resolves
paths and parameters, understands ``nullable``/``readOnly``/``oneOf`` the 3.0 way and checks
the security requirement, which a JSON-Schema validator alone would not.
"""

from __future__ import annotations

import json
import warnings
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from ledgerbridge.errors import DataError
from ledgerbridge.http import recording
from ledgerbridge.progress import MemoryProgress
from ledgerbridge_bokio.client import BokioClient
from ledgerbridge_bokio.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from ledgerbridge_bokio.spec import COMPANY_API, GENERAL_API, load_spec
from ledgerbridge_bokio.target import BokioTarget

HOST = "https://api.bokio.se"
target = BokioTarget()


@pytest.fixture(scope="module")
def company_api() -> OpenAPI:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OpenAPI.from_dict(load_spec(COMPANY_API))


@pytest.fixture(scope="module")
def general_api() -> OpenAPI:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OpenAPI.from_dict(load_spec(GENERAL_API))


def _api_error_validator() -> OAS30Validator:
    spec = load_spec(COMPANY_API)
    return OAS30Validator(spec["components"]["schemas"]["apiError"])


def _mock_request(method, url, body, content_type="application/json", headers=None):
    parts = urlsplit(url)
    args = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return MockRequest(
        HOST,
        method.lower(),
        parts.path,
        args=args,
        headers=headers or {"Authorization": "Bearer contract"},
        data=json.dumps(body) if body is not None else None,
        content_type=content_type,
    )


def _session(sandbox, ledger, route, docs, make_route):
    """Every kind of call the connector makes, against the sandbox."""
    progress = MemoryProgress
    invoice = docs.domestic_invoice()
    original = target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=invoice, progress=progress()
    )
    mug = [row for row in docs.domestic_rows() if row.description == "Mugg"]
    target.ledgerbridge_target_export_credit_note(
        ledger=ledger,
        route=route,
        document=docs.credit_of(invoice, "1", mug),
        original=original,
        progress=progress(),
    )
    target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=docs.eu_consumer_eur(), progress=progress()
    )
    sale = docs.cash_sale()
    sold = target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=sale, progress=progress()
    )
    target.ledgerbridge_target_export_credit_note(
        ledger=ledger,
        route=route,
        document=docs.credit_of(sale, "2", docs.domestic_rows(), full=True),
        original=sold,
        progress=progress(),
    )
    draft_route = make_route(ledger, publish=False)
    drafted = target.ledgerbridge_target_export_document(
        ledger=ledger,
        route=draft_route,
        document=docs.domestic_invoice("WC-1900"),
        progress=progress(),
    )
    target.ledgerbridge_target_find_document(ledger=ledger, document=docs.oss_germany())
    target.ledgerbridge_target_fetch_pdf(ledger=ledger, result=original)
    for kind in ("accounts", "fiscal_years", "company"):
        target.ledgerbridge_target_reference_data(ledger=ledger, kind=kind)
    with BokioClient(ledger) as client:
        client.post(
            f"/invoices/{drafted.target_id}/line-items",
            {
                "itemType": "salesItem",
                "description": "Presentkort",
                "productType": "services",
                "unitType": "piece",
                "quantity": 1,
                "unitPrice": 100,
                "taxRate": 25,
            },
        )
        client.get(f"/invoices/{drafted.target_id}/payments")
        with pytest.raises(DataError):
            client.post("/journal-entries", {"title": "", "date": "x", "items": []})
        with pytest.raises(DataError):
            client.get("/invoices/00000000-0000-0000-0000-000000000000")
        with pytest.raises(DataError):
            client.get("/invoices", params={"query": "totalAmount~12"})


def test_requests_and_responses_follow_the_company_api(
    sandbox, ledger, route, docs, make_route, company_api
):
    with recording() as recorder:
        _session(sandbox, ledger, route, docs, make_route)
    exchanges = [e for e in recorder.exchanges if e.target == "bokio"]
    assert len(exchanges) > 30
    seen = set()
    error_schema = _api_error_validator()
    for exchange in exchanges:
        assert exchange.request_headers.get("authorization"), exchange.url
        request = _mock_request(exchange.method, exchange.url, exchange.request_body)
        seen.add((exchange.method, urlsplit(exchange.url).path.split("/", 4)[-1]))
        if exchange.status >= 400:  # the session's deliberately wrong calls
            error_schema.validate(exchange.response_body)
            assert exchange.response_body["message"]
            continue
        company_api.validate_request(request)
        pdf = (
            isinstance(exchange.response_body, str) and "application/pdf" in exchange.response_body
        )
        response = MockResponse(
            b"%PDF-1.4" if pdf else json.dumps(exchange.response_body).encode(),
            status_code=exchange.status,
            content_type="application/pdf" if pdf else "application/json",
        )
        company_api.validate_response(request, response)
    paths = {path for _, path in seen}
    for expected in ("customers", "invoices", "journal-entries", "chart-of-accounts"):
        assert any(path.startswith(expected) for path in paths), expected
    assert any(path.endswith("/reverse") for path in paths)
    assert any(path.startswith("credit-notes/") for path in paths)


def test_the_contract_check_catches_a_wrong_request(company_api, sandbox):
    wrong = _mock_request(
        "POST",
        f"{sandbox.api_url}/companies/5b3f7a52-8d1e-4c6a-9f0b-2a7c4e1d9b30/invoices",
        {"invoiceDate": "2026-01-01", "lineItems": "not a list"},
    )
    with pytest.raises(Exception, match=r"InvalidRequestBody|Request body validation"):
        company_api.validate_request(wrong)


def test_general_api_answers_follow_the_spec(sandbox, general_api):
    redirect = "http://127.0.0.1:8000/cb"
    authorize = httpx.get(
        f"{sandbox.api_url}/authorize",
        params={
            "response_type": "code",
            "client_id": DEMO_CLIENT_ID,
            "redirect_uri": redirect,
            "scope": "invoices:read",
            "state": "xyz",
        },
    )
    assert authorize.status_code == 302
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    auth = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    exchanges = []
    for form in (
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        {"grant_type": "client_credentials"},
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
    ):
        answer = httpx.post(f"{sandbox.api_url}/token", data=form, auth=auth)
        exchanges.append(("POST", "/v1/token", form, answer))
    tokens = exchanges[0][3].json()
    general = exchanges[1][3].json()["access_token"]
    refreshed = httpx.post(
        f"{sandbox.api_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=auth,
    )
    exchanges.append(("POST", "/v1/token", {"grant_type": "refresh_token"}, refreshed))
    assert exchanges[2][3].status_code == 400  # a code is single-use
    listed = httpx.get(
        f"{sandbox.api_url}/connections", headers={"Authorization": f"Bearer {general}"}
    )
    assert listed.json()["items"][0]["tenantId"] == tokens["tenant_id"]
    for method, path, form, answer in exchanges:
        request = MockRequest(
            HOST,
            method.lower(),
            path,
            headers={"Authorization": "Basic Y2xpZW50OnNlY3JldA=="},
            data="&".join(f"{k}={v}" for k, v in form.items()),
            content_type="application/x-www-form-urlencoded",
        )
        response = MockResponse(
            answer.content, status_code=answer.status_code, content_type="application/json"
        )
        general_api.validate_response(request, response)
    request = MockRequest(HOST, "get", "/v1/connections", headers={"Authorization": "Bearer x"})
    general_api.validate_response(
        request, MockResponse(listed.content, status_code=200, content_type="application/json")
    )
