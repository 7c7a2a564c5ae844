"""Public integration (OAuth2 with rotating refresh tokens), refused credentials, error shapes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.errors import ConfigError, DataError, ReconnectNeeded, TransientError
from ledgerbridge.masking import scrub
from ledgerbridge.progress import MemoryProgress
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge_bokio.errors import error_for, parse_error
from ledgerbridge_bokio.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_COMPANY_ID
from ledgerbridge_bokio.target import BokioTarget

target = BokioTarget()
REDIRECT = "http://127.0.0.1:8000/oauth/bokio/callback"


def _public_ledger(sandbox):
    return memory_ledger(
        key="bokio-public",
        connector="bokio",
        settings={"integration": "public", "client_id": DEMO_CLIENT_ID, "api_url": sandbox.api_url},
        secrets=MemorySecrets({"client_secret": DEMO_CLIENT_SECRET}),
        services=MemoryServices(),
    )


def _connect(sandbox, ledger):
    url = target.ledgerbridge_target_authorize_url(ledger=ledger, redirect_uri=REDIRECT, state="s1")
    query = parse_qs(urlparse(url).query)
    assert query["state"] == ["s1"]
    assert "journal-entries:write" in query["scope"][0].split()
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
    assert params["state"] == "s1"
    return target.ledgerbridge_target_finish_authorization(
        ledger=ledger, redirect_uri=REDIRECT, params=params
    )


def test_public_integration_connects_exports_and_rotates_tokens(sandbox, docs, make_route):
    ledger = _public_ledger(sandbox)
    status = _connect(sandbox, ledger)
    assert status.ok
    assert ledger.secrets.get("company_id") == DEMO_COMPANY_ID
    assert status.details["connection_id"]
    first_refresh = ledger.secrets.get("refresh_token")

    ledger.secrets.update({"expires_at": str(int(time.time()) - 1)})  # the hour is over
    route = make_route(ledger)
    target.ledgerbridge_target_export_document(
        ledger=ledger, route=route, document=docs.cash_sale(), progress=MemoryProgress()
    )
    assert ledger.secrets.get("refresh_token") != first_refresh
    assert sandbox.documents()["counts"]["journalEntries"] == 1
    reused = httpx.post(
        f"{sandbox.api_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": first_refresh},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_revoked_connection_asks_to_reconnect(sandbox, docs, make_route):
    ledger = _public_ledger(sandbox)
    status = _connect(sandbox, ledger)
    general = httpx.post(
        f"{sandbox.api_url}/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    ).json()
    headers = {"Authorization": f"Bearer {general['access_token']}"}
    listed = httpx.get(f"{sandbox.api_url}/connections", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [status.details["connection_id"]]
    deleted = httpx.delete(
        f"{sandbox.api_url}/connections/{status.details['connection_id']}", headers=headers
    )
    assert deleted.status_code == 204
    with pytest.raises(ReconnectNeeded):
        target.ledgerbridge_target_export_document(
            ledger=ledger,
            route=make_route(ledger),
            document=docs.cash_sale(),
            progress=MemoryProgress(),
        )
    assert sandbox.documents()["counts"]["journalEntries"] == 0


def test_refused_authorization_code_is_a_config_error(sandbox):
    ledger = _public_ledger(sandbox)
    with pytest.raises(ConfigError, match="refused the authorization code"):
        target.ledgerbridge_target_finish_authorization(
            ledger=ledger, redirect_uri=REDIRECT, params={"code": "made-up", "state": "s1"}
        )
    with pytest.raises(ConfigError, match="did not grant"):
        target.ledgerbridge_target_finish_authorization(
            ledger=ledger, redirect_uri=REDIRECT, params={"error": "access_denied"}
        )


def test_private_integration_has_no_authorize_url(ledger):
    assert (
        target.ledgerbridge_target_authorize_url(ledger=ledger, redirect_uri=REDIRECT, state="x")
        is None
    )


def test_refused_private_token_is_reported_without_the_token(sandbox, make_ledger, secret_registry):
    ledger = make_ledger(sandbox)
    ledger.secrets.update({"token": "a-revoked-token-0123456789"})
    status = target.ledgerbridge_target_check_connection(ledger=ledger)
    assert not status.ok
    assert "create a new private integration token" in status.message.lower()
    assert "a-revoked-token-0123456789" not in scrub(status.message)


def test_incomplete_settings_are_a_config_error(sandbox):
    ledger = memory_ledger(connector="bokio", settings={"api_url": sandbox.api_url})
    status = target.ledgerbridge_target_check_connection(ledger=ledger)
    assert not status.ok
    assert "company id" in status.message


def _response(status, body=None, headers=None):
    request = httpx.Request("POST", "https://api.bokio.se/v1/companies/x/invoices")
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_both_error_shapes_are_parsed():
    flat = _response(
        400,
        {
            "code": "validation-error",
            "message": "Validation failed with 1 error",
            "bokioErrorId": "9b408943-7a1e-47ac-85a7-ac52b2c210d3",
            "errors": [
                {"field": "#/lineItems/0/taxRate", "message": "The tax rate field is required"}
            ],
        },
    )
    wrapped = _response(
        400, {"error": {"code": "validation-error", "innerCode": "x", "message": "Bad invoice"}}
    )
    plan = _response(
        403,
        {
            "error": "price_plan_feature_required",
            "message": "API access requires another plan",
            "details": {"availableIn": ["Plus", "Business"]},
        },
    )
    assert parse_error(flat).fields == (
        ("#/lineItems/0/taxRate", "The tax rate field is required"),
    )
    assert parse_error(wrapped).code == "validation-error"
    assert parse_error(wrapped).inner_code == "x"
    error = error_for(flat, public=False, what="creating the invoice")
    assert isinstance(error, DataError)
    assert "#/lineItems/0/taxRate: The tax rate field is required" in error.message
    assert isinstance(error_for(wrapped, public=False, what="x"), DataError)
    gated = error_for(plan, public=False, what="x")
    assert isinstance(gated, ConfigError)
    assert "Plus, Business" in gated.message
    account = _response(
        400,
        {
            "code": "validation-error",
            "errors": [{"field": "#/items/0/account", "message": "Account 1234 does not exist"}],
        },
    )
    assert isinstance(error_for(account, public=False, what="x"), ConfigError)
    empty = error_for(
        _response(429, b"", {"Bokio-RateLimit-RetryAfter": "7"}), public=False, what="x"
    )
    assert isinstance(empty, TransientError)
    assert empty.retry_after == 7
    assert isinstance(error_for(_response(401, b""), public=True, what="x"), ReconnectNeeded)


def test_sandbox_validation_errors_carry_json_pointers(sandbox, ledger):
    from ledgerbridge_bokio.client import BokioClient

    with BokioClient(ledger) as client, pytest.raises(DataError) as caught:
        client.post(
            "/invoices",
            {
                "lineItems": [
                    {
                        "itemType": "salesItem",
                        "description": "x",
                        "productType": "goods",
                        "quantity": 1,
                        "unitPrice": "10",
                        "taxRate": 19,
                    }
                ]
            },
        )
    fields = caught.value.details["fields"]
    assert "#/invoiceDate" in fields
    assert "#/lineItems/0/unitPrice" in fields
    assert "0%, 6%, 12%, or 25%" in fields["#/lineItems/0/taxRate"]
