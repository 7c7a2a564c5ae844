"""The sandbox's OAuth2 server (``/oauth-v1/auth`` and ``/oauth-v1/token``), as Fortnox's.

* ``/auth`` approves at once (there is no user to ask) and redirects back with a code that
  lives 10 minutes and works once; ``tenant=<id>`` (sandbox only) picks the company.
  ``account_type=service`` also records a service-account consent.
* ``/token`` takes Basic client authentication and the grants ``authorization_code``,
  ``refresh_token`` (single use: every refresh returns a new refresh token and kills the old
  one) and ``client_credentials`` (with a ``TenantId`` header and a consent).
* Errors are Fortnox's: ``invalid_client`` (401, ``text/plain``), ``invalid_grant``
  (400, ``text/html``) — JSON bodies whatever the content type says.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request

from ledgerbridge_fortnox.sandbox.state import Grant, SandboxState

oauth = Blueprint("fortnox_oauth", __name__)


def _state() -> SandboxState:
    return current_app.extensions["fortnox_sandbox"]


def _error(status: int, error: str, description: str, content_type: str) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, content_type=content_type)


@oauth.get("/auth")
def authorize() -> Response:
    state = _state()
    args = request.args
    if args.get("client_id") not in state.clients:
        return _error(400, "invalid_client", "Unknown client_id", "application/json")
    if args.get("response_type") != "code":
        return _error(
            400, "unsupported_response_type", "response_type must be code", "application/json"
        )
    scopes = frozenset(args.get("scope", "").split())
    if not scopes:
        return _error(400, "invalid_scope", "scope is required", "application/json")
    with state.lock:
        tenant_id = int(args.get("tenant") or state.default_tenant().id)
        if tenant_id not in state.tenants:
            return _error(400, "invalid_request", f"Unknown tenant {tenant_id}", "application/json")
        service = args.get("account_type") == "service"
        code = secrets.token_urlsafe(24)
        state.codes[code] = Grant(
            value=code,
            client_id=args["client_id"],
            tenant=tenant_id,
            scopes=scopes,
            expires_at=time.time() + state.knobs.code_ttl,
            redirect_uri=args.get("redirect_uri", ""),
            offline=args.get("access_type") == "offline",
            service=service,
        )
        if service:
            state.consents.add((args["client_id"], tenant_id))
    query = {"code": code, "state": args.get("state", "")}
    if not args.get("redirect_uri"):
        return Response(json.dumps(query), content_type="application/json")
    separator = "&" if "?" in args["redirect_uri"] else "?"
    return redirect(f"{args['redirect_uri']}{separator}{urlencode(query)}", code=302)


def _client() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    if _state().clients.get(client_id) != secret:
        return None
    return client_id


def _issue(
    state: SandboxState, client_id: str, tenant: int, scopes: frozenset[str], *, refresh: bool
) -> Response:
    access = secrets.token_urlsafe(32)
    now = time.time()
    state.access_tokens[access] = Grant(
        access, client_id, tenant, scopes, now + state.knobs.access_token_ttl
    )
    body: dict[str, object] = {
        "access_token": access,
        "expires_in": int(state.knobs.access_token_ttl),
        "token_type": "bearer",
        "scope": " ".join(sorted(scopes)),
    }
    if refresh:
        token = secrets.token_urlsafe(32)
        state.refresh_tokens[token] = Grant(
            token, client_id, tenant, scopes, now + state.knobs.refresh_token_ttl
        )
        body["refresh_token"] = token
    response = Response(json.dumps(body), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@oauth.post("/token")
def token() -> Response:
    state = _state()
    client_id = _client()
    if client_id is None:
        return _error(401, "invalid_client", "The client credentials are invalid", "text/plain")
    grant_type = request.form.get("grant_type", "")
    now = time.time()
    with state.lock:
        if grant_type == "authorization_code":
            code = state.codes.get(request.form.get("code", ""))
            if code is None or code.used or code.expires_at < now or code.client_id != client_id:
                return _error(400, "invalid_grant", "Invalid authorization code", "text/html")
            if code.redirect_uri and request.form.get("redirect_uri") != code.redirect_uri:
                return _error(400, "invalid_grant", "redirect_uri does not match", "text/html")
            code.used = True
            state.stats.codes_exchanged += 1
            return _issue(state, client_id, code.tenant, code.scopes, refresh=code.offline)
        if grant_type == "refresh_token":
            old = state.refresh_tokens.get(request.form.get("refresh_token", ""))
            if old is None or old.used or old.expires_at < now or old.client_id != client_id:
                state.stats.refresh_rejected += 1
                return _error(400, "invalid_grant", "Invalid refresh token", "text/html")
            old.used = True
            state.stats.token_refreshes += 1
            return _issue(state, client_id, old.tenant, old.scopes, refresh=True)
        if grant_type == "client_credentials":
            tenant_header = request.headers.get("TenantId", "")
            if not tenant_header.isdigit() or (client_id, int(tenant_header)) not in state.consents:
                return _error(
                    400, "invalid_grant", "No service account consent for this tenant", "text/html"
                )
            state.stats.client_credentials += 1
            scopes = frozenset(request.form.get("scope", "").split()) or frozenset(
                {
                    "companyinformation",
                    "customer",
                    "article",
                    "order",
                    "invoice",
                    "payment",
                    "price",
                    "currency",
                    "bookkeeping",
                    "settings",
                }
            )
            return _issue(state, client_id, int(tenant_header), scopes, refresh=False)
    return _error(
        400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}", "text/html"
    )
