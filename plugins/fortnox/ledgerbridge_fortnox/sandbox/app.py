"""``ledgerbridge sandbox fortnox``: a local Fortnox (API v3 under ``/3``, OAuth2 under
``/oauth-v1``, admin API under ``/_sandbox``).

Options (``--option KEY=VALUE``, all optional): ``client_id``, ``client_secret``,
``tenants`` (number of companies, default 2), and every knob of
:class:`~ledgerbridge_fortnox.sandbox.state.Knobs` (``access_token_ttl``, ``rate_limit``,
``rate_window``, ``latency_jitter_ms``, ``error_rate``, ``timeout_after_create``,
``timeout_seconds``, ``burst_429``, ``round_off``...). ``--latency-ms`` adds a delay to
every API response.
"""

from __future__ import annotations

import random
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ledgerbridge_fortnox.sandbox.admin import admin
from ledgerbridge_fortnox.sandbox.oauth import oauth
from ledgerbridge_fortnox.sandbox.resources import SCOPES, api
from ledgerbridge_fortnox.sandbox.state import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    Knobs,
    SandboxState,
)
from ledgerbridge_fortnox.sandbox.wire import FortnoxError, json_response

STATE_OPTIONS = ("client_id", "client_secret", "tenants")


def create_app(options: Any = None) -> Flask:
    """The sandbox WSGI app for ``options`` (a ``SandboxOptions``; None for defaults)."""
    extra = dict(getattr(options, "extra", {}) or {})
    knobs = Knobs()
    knobs.update({k: v for k, v in extra.items() if k not in STATE_OPTIONS})
    latency = int(getattr(options, "latency_ms", 0) or 0)
    if latency:
        knobs.latency_ms = latency
    state = SandboxState(
        tenants=int(extra.get("tenants", 2)),
        seed=bool(getattr(options, "seed", True)),
        client_id=str(extra.get("client_id", DEFAULT_CLIENT_ID)),
        client_secret=str(extra.get("client_secret", DEFAULT_CLIENT_SECRET)),
        knobs=knobs,
    )
    app = Flask("ledgerbridge_fortnox.sandbox")
    app.url_map.strict_slashes = False
    app.extensions["fortnox_sandbox"] = state
    app.register_blueprint(api, url_prefix="/3")
    app.register_blueprint(oauth, url_prefix="/oauth-v1")
    app.register_blueprint(admin, url_prefix="/_sandbox")
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(FortnoxError, lambda error: error.response())
    app.register_error_handler(HTTPException, _http_error)
    return app


def sandbox_state(app: Flask) -> SandboxState:
    """The state behind a sandbox app (tests and benchmarks inspect it)."""
    return app.extensions["fortnox_sandbox"]


def _http_error(error: HTTPException) -> Response:
    if request.path.startswith("/3/") and error.code == 404:
        return FortnoxError(404, 2000729, "A valid identifier was not provided.").response()
    return json_response({"message": error.description}, error.code or 500)


def _before() -> Response | None:
    if not request.path.startswith("/3/"):
        return None
    state: SandboxState = sandbox_state_of_request()
    knobs = state.knobs
    with state.lock:
        state.stats.requests += 1
    # The delay is spent before the request is counted: on its way in, as on a network.
    delay = knobs.latency_ms + random.uniform(0, knobs.latency_jitter_ms)
    if delay:
        time.sleep(delay / 1000)
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    with state.lock:
        grant = state.access_tokens.get(token)
        if grant is None or grant.expires_at < time.time():
            return json_response({"message": "unauthorized"}, 401)
        if knobs.burst_429 > 0:
            knobs.burst_429 -= 1
            state.stats.rate_limited += 1
            return json_response({"message": "Too Many Requests"}, 429)
    if not state.rate_check(token):
        with state.lock:
            state.stats.rate_limited += 1
        return json_response({"message": "Too Many Requests"}, 429)
    if knobs.error_rate and random.random() < knobs.error_rate:
        with state.lock:
            state.stats.injected_errors += 1
        return FortnoxError(500, 1000003, "System exception").response()
    resource = request.path[3:].split("/", 1)[0]
    scope = SCOPES.get(resource)
    if scope is not None and scope not in grant.scopes:
        return FortnoxError(403, 2000663, "Har inte behörighet för scope").response()
    accept = request.headers.get("Accept", "*/*")
    if not request.path.endswith(("/preview", "/print")) and not any(
        kind in accept for kind in ("application/json", "*/*", "application/*")
    ):
        return FortnoxError(400, 1000030, "Invalid response type").response()
    g.fortnox_tenant = state.tenants[grant.tenant]
    return None


def _after(response: Response) -> Response:
    if not request.path.startswith("/3/"):
        return response
    state = sandbox_state_of_request()
    creating = response.status_code == 201 or request.path.endswith("/createinvoice")
    if creating and response.status_code < 300:
        with state.lock:
            delay = state.knobs.timeout_seconds if state.knobs.timeout_after_create > 0 else 0.0
            if delay:
                state.knobs.timeout_after_create -= 1
        if delay:
            time.sleep(delay)  # the object exists; the client gives up before the answer
    response.headers.setdefault("X-Build", "sandbox")
    response.headers.setdefault(
        "X-Uid", str(getattr(g, "fortnox_tenant", None) and g.fortnox_tenant.id)
    )
    return response


def sandbox_state_of_request() -> SandboxState:
    """The state of the app serving the current request."""
    return current_app.extensions["fortnox_sandbox"]


def describe(app: Flask, base_url: str) -> list[str]:
    """What ``ledgerbridge sandbox fortnox`` prints at start."""
    state = sandbox_state(app)
    client_id, client_secret = next(iter(state.clients.items()))
    tenants = ", ".join(f"{t.id} ({t.name})" for t in state.tenants.values())
    return [
        f"API base URL:   {base_url}   (resources under /3/)",
        f"OAuth base URL: {base_url}/oauth-v1   (auth approves at once; ?tenant=<id> picks one)",
        f"Client id:      {client_id}",
        f"Client secret:  {client_secret}",
        f"Tenants:        {tenants}",
        f"Rate limit:     {state.knobs.rate_limit} requests per {state.knobs.rate_window:g} s "
        "per access token",
        f"Admin API:      {base_url}/_sandbox/tenants, /_sandbox/stats, /_sandbox/knobs",
        "Ledger settings: api_base_url and auth_base_url as above, client id and secret as above.",
    ]
