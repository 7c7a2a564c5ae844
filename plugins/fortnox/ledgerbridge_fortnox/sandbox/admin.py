"""The sandbox's admin API (``/_sandbox/...``): what was created, statistics and knobs.

Stable JSON, used by tests, benchmarks and ``ledgerbridge demo --check``:

* ``GET  /_sandbox/tenants`` → ``{"tenants": [{"id", "name", "counts"}]}``
* ``GET  /_sandbox/tenants/<id>/created[?kind=invoice]`` → ``{"tenant", "counts",
  "created": [{"kind", "id", "created_at", "reference", "total", ...}]}``; kinds are
  ``customer, article, price, order, invoice, credit_invoice, payment, voucher, email``
* ``GET  /_sandbox/tenants/<id>/documents`` → full copies of customers, articles, orders,
  invoices, payments and vouchers
* ``GET  /_sandbox/stats`` → request, 429, refresh and fault counters
* ``GET|POST /_sandbox/knobs`` → read or change knobs (JSON object of knob → value)
* ``POST /_sandbox/tokens/expire`` → every access token expires now
* ``POST /_sandbox/consents`` ``{"client_id", "tenant"}`` → a service-account consent
* ``POST /_sandbox/reset`` → forget everything, seed again
"""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, current_app, request

from ledgerbridge_fortnox.sandbox.resources import snapshot
from ledgerbridge_fortnox.sandbox.state import SandboxState, Tenant
from ledgerbridge_fortnox.sandbox.wire import json_response

admin = Blueprint("fortnox_admin", __name__)


def _state() -> SandboxState:
    return current_app.extensions["fortnox_sandbox"]


def _counts(tenant: Tenant) -> dict[str, int]:
    counts = Counter(item["kind"] for item in tenant.created)
    return {
        kind: counts.get(kind, 0)
        for kind in (
            "customer",
            "article",
            "price",
            "order",
            "invoice",
            "credit_invoice",
            "payment",
            "voucher",
            "email",
        )
    }


def _tenant(tenant_id: int) -> Tenant | Response:
    tenant = _state().tenants.get(tenant_id)
    if tenant is None:
        return json_response({"error": f"no tenant {tenant_id}"}, 404)
    return tenant


@admin.get("/tenants")
def tenants() -> Response:
    state = _state()
    with state.lock:
        return json_response(
            {
                "tenants": [
                    {"id": t.id, "name": t.name, "counts": _counts(t)}
                    for t in state.tenants.values()
                ]
            }
        )


@admin.get("/tenants/<int:tenant_id>/created")
def created(tenant_id: int) -> Response:
    with _state().lock:
        tenant = _tenant(tenant_id)
        if isinstance(tenant, Response):
            return tenant
        items = list(tenant.created)
        kind = request.args.get("kind")
        if kind:
            items = [item for item in items if item["kind"] == kind]
        return json_response({"tenant": tenant.id, "counts": _counts(tenant), "created": items})


@admin.get("/tenants/<int:tenant_id>/documents")
def documents(tenant_id: int) -> Response:
    with _state().lock:
        tenant = _tenant(tenant_id)
        if isinstance(tenant, Response):
            return tenant
        return json_response({"tenant": tenant.id, **snapshot(tenant)})


@admin.get("/stats")
def stats() -> Response:
    state = _state()
    return json_response({**state.stats.as_dict(), "live_access_tokens": len(state.access_tokens)})


@admin.route("/knobs", methods=["GET", "POST"])
def knobs() -> Response:
    state = _state()
    if request.method == "POST":
        values = request.get_json(silent=True)
        if not isinstance(values, dict):
            return json_response({"error": "send a JSON object of knob -> value"}, 400)
        with state.lock:
            try:
                state.knobs.update(values)
            except (KeyError, AttributeError, ValueError) as exc:
                return json_response({"error": f"bad knob: {exc}"}, 400)
    return json_response(state.knobs.as_dict())


@admin.post("/tokens/expire")
def expire_tokens() -> Response:
    state = _state()
    with state.lock:
        for grant in state.access_tokens.values():
            grant.expires_at = 0.0
    return json_response({"expired": len(state.access_tokens)})


@admin.post("/consents")
def consent() -> Response:
    state = _state()
    values = request.get_json(silent=True) or {}
    client_id = str(values.get("client_id", ""))
    tenant_id = int(values.get("tenant", 0) or 0)
    if client_id not in state.clients or tenant_id not in state.tenants:
        return json_response({"error": "unknown client_id or tenant"}, 400)
    with state.lock:
        state.consents.add((client_id, tenant_id))
    return json_response({"client_id": client_id, "tenant": tenant_id})


@admin.post("/reset")
def reset() -> Response:
    _state().reset()
    return json_response({"reset": True})
