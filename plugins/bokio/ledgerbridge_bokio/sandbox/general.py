"""The sandbox's General API: OAuth2 authorize (auto-approving), token (code, refresh with
single-use rotation, client credentials) and connections."""

from __future__ import annotations

import secrets
import time

from flask import Flask, Response, request

from ledgerbridge_bokio.sandbox.app import (
    basic_credentials,
    error_response,
    json_response,
    paged,
    principal_of_request,
    redirect_with,
)
from ledgerbridge_bokio.sandbox.documents import ApiFailure
from ledgerbridge_bokio.sandbox.state import DEMO_COMPANY_ID, Principal, SandboxState, new_id

CODE_SECONDS = 300


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def register_general(app: Flask, state: SandboxState) -> None:
    """Add ``/v1/authorize``, ``/v1/token`` and ``/v1/connections``."""

    @app.get("/v1/authorize")
    def authorize() -> Response:
        args = request.args
        if args.get("response_type") != "code":
            return _oauth_error("unsupported_response_type", "response_type must be code")
        if args.get("client_id") not in state.clients:
            return _oauth_error("invalid_client", "Unknown client_id")
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri.startswith(("http://", "https://")):
            return _oauth_error("invalid_request", "redirect_uri is required")
        if not args.get("state"):
            return _oauth_error("invalid_request", "state is required")
        tenant = args.get("bokio_tenantid") or DEMO_COMPANY_ID
        if tenant not in state.companies:
            return _oauth_error("invalid_request", "Unknown bokio_tenantid")
        code = "sbx-code-" + secrets.token_urlsafe(24)
        with state.lock:
            state.codes[code] = {
                "client_id": args["client_id"],
                "redirect_uri": redirect_uri,
                "company_id": tenant,
                "expires": time.time() + CODE_SECONDS,
                "scope": args.get("scope", ""),
            }
        return redirect_with(redirect_uri, {"code": code, "state": args["state"]})

    @app.post("/v1/token")
    def token() -> Response:
        credentials = basic_credentials()
        client = state.clients.get(credentials[0]) if credentials else None
        if credentials is None or client is None or client["secret"] != credentials[1]:
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        client_id = credentials[0]
        form = request.form
        grant = form.get("grant_type")
        with state.lock:
            if grant == "authorization_code":
                code = state.codes.pop(form.get("code", ""), None)
                if (
                    code is None
                    or code["client_id"] != client_id
                    or code["expires"] < time.time()
                    or code["redirect_uri"] != form.get("redirect_uri")
                ):
                    return _oauth_error("invalid_grant", "The authorization code is invalid")
                connection = next(
                    (
                        c
                        for c in state.connections.values()
                        if c["client_id"] == client_id and c["tenantId"] == code["company_id"]
                    ),
                    None,
                )
                if connection is None:
                    connection = {
                        "id": new_id(),
                        "tenantId": code["company_id"],
                        "tenantName": state.companies[code["company_id"]].name,
                        "type": "company",
                        "client_id": client_id,
                    }
                    state.connections[connection["id"]] = connection
                return json_response(
                    state.issue_tokens(client_id, code["company_id"], connection["id"])
                )
            if grant == "refresh_token":
                stored = state.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if (
                    stored is None
                    or stored["client_id"] != client_id
                    or stored["connection_id"] not in state.connections
                ):
                    return _oauth_error("invalid_grant", "The refresh token is invalid")
                return json_response(
                    state.issue_tokens(client_id, stored["company_id"], stored["connection_id"])
                )
            if grant == "client_credentials":
                access = "sbx-gt-" + secrets.token_urlsafe(32)
                ttl = state.knobs.access_token_ttl
                state.tokens[access] = Principal(
                    kind="general", client_id=client_id, expires=time.time() + ttl
                )
                # The spec calls tenant_id "empty" for general tokens but types it uuid:
                # the sandbox leaves it out, which satisfies both readings.
                return json_response(
                    {
                        "tenant_type": "general",
                        "access_token": access,
                        "token_type": "bearer",
                        "expires_in": ttl,
                    }
                )
        return _oauth_error("unsupported_grant_type", "Unsupported grant_type")

    def _general_client() -> str:
        principal = principal_of_request(state)
        if principal is None or principal.kind != "general":
            raise ApiFailure(401, "unauthorized", "A General API token is required")
        return principal.client_id

    @app.get("/v1/connections")
    def connections() -> Response:
        try:
            client_id = _general_client()
        except ApiFailure as failure:
            return error_response(failure)
        tenant = request.args.get("tenantId")
        mine = [
            {key: value for key, value in c.items() if key != "client_id"}
            for c in state.connections.values()
            if c["client_id"] == client_id and (not tenant or c["tenantId"] == tenant)
        ]
        try:
            return paged(mine, {}, default_size=20)
        except ApiFailure as failure:
            return error_response(failure)

    @app.route("/v1/connections/<connection_id>", methods=["GET", "DELETE"])
    def connection(connection_id: str) -> Response:
        try:
            client_id = _general_client()
        except ApiFailure as failure:
            return error_response(failure)
        with state.lock:
            found = state.connections.get(connection_id)
            if found is None or found["client_id"] != client_id:
                return error_response(
                    ApiFailure(404, "not-found", f"Connection {connection_id} was not found")
                )
            if request.method == "DELETE":
                del state.connections[connection_id]
                for key, principal in list(state.tokens.items()):
                    if principal.connection_id == connection_id:
                        del state.tokens[key]
                for key, stored in list(state.refresh_tokens.items()):
                    if stored["connection_id"] == connection_id:
                        del state.refresh_tokens[key]
                return Response(status=204)
        return json_response({key: value for key, value in found.items() if key != "client_id"})
