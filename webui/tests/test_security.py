"""Security of the web UI: CSRF and login on every state-changing route, roles, cookies,
throttling, session timeout, redirects, and no stored secret in any page or API answer."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledgerbridge.store.models import AuditRecord, Export, Ledger, OrderRecord, Route, Site
from ledgerbridge_webui.app import create_app
from ledgerbridge_webui.security import SELF_SERVICE_ENDPOINTS, flask_secret_key

pytestmark = pytest.mark.db
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes outside the session rules: signed webhooks and the token-authenticated API.
OWN_AUTH = ("webhooks.", "api.")


def _changing_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every state-changing route with placeholder arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(OWN_AUTH) or rule.endpoint == "auth.login":
            continue
        for method in sorted((rule.methods or set()) & CHANGING):
            values = {name: 1 if name.endswith("_id") else "retry" for name in rule.arguments}
            with app.test_request_context():
                from flask import url_for

                routes.append((rule.endpoint, method, url_for(rule.endpoint, **values)))
    return routes


def _audit_count(runtime) -> int:
    with runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def test_every_state_changing_route_refuses_a_missing_csrf_token_and_anonymous_users(
    app, runtime, admin, web
):
    routes = _changing_routes(app)
    endpoints = {endpoint for endpoint, _, _ in routes}
    # the list is complete: every page that changes something is in it
    assert {"sites.new", "ledgers.plan", "routes.edit", "orders.act", "bulk.start"} <= endpoints
    assert {"oauth.connect", "account.create_token", "auth.logout", "auth.language"} <= endpoints
    before = _audit_count(runtime)
    anonymous = app.test_client()
    token = web.csrf_token(anonymous)
    for endpoint, method, url in routes:
        # no CSRF token: refused before anything else, logged in or not
        assert admin.open(url, method=method).status_code == 400, (endpoint, url)
        assert anonymous.open(url, method=method).status_code == 400, (endpoint, url)
        # a valid CSRF token but nobody logged in: refused
        answer = anonymous.open(url, method=method, data={"csrf_token": token})
        assert answer.status_code == 401, (endpoint, url, answer.status_code)
    assert _audit_count(runtime) == before


def test_a_viewer_cannot_change_anything_but_their_own_session(app, runtime, viewer, web):
    before = _audit_count(runtime)
    token = web.csrf_token(viewer, "/")
    checked = 0
    for endpoint, method, url in _changing_routes(app):
        if endpoint in SELF_SERVICE_ENDPOINTS:
            continue
        answer = viewer.open(url, method=method, data={"csrf_token": token})
        assert answer.status_code == 403, (endpoint, url, answer.status_code)
        checked += 1
    assert checked >= 15
    assert _audit_count(runtime) == before
    # but may look
    for page in ("/", "/orders", "/sites/", "/ledgers/", "/routes/", "/bulk/", "/audit"):
        assert viewer.get(page).status_code == 200, page
    assert viewer.get("/admin/jobs").status_code == 403


def test_pages_need_a_login(app):
    client = app.test_client()
    answer = client.get("/orders?state=failed")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


def test_session_cookie_is_hardened(app, web):
    client = app.test_client()
    answer = web.login(client, "anna")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain http here


def test_cookies_are_secure_when_served_over_https(runtime, users, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(runtime, "config", replace(runtime.config, public_url="https://lb.example"))
    client = create_app(runtime, TESTING=True).test_client()
    answer = client.get("/login", base_url="https://lb.example")
    assert "Secure" in answer.headers["Set-Cookie"]


def test_failed_logins_are_throttled_even_for_the_right_password(runtime, users, web):
    app = create_app(runtime, TESTING=True, LEDGERBRIDGE_LOGIN_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert web.login(client, "anna", "wrong password!").status_code == 401
    answer = web.login(client, "anna", web.password)
    assert answer.status_code == 429
    assert "Too many failed attempts" in answer.get_data(as_text=True) or (
        "För många" in answer.get_data(as_text=True)
    )
    # another user name from another client is not affected by anna's failures
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    assert web.login(other, "ville").status_code == 302


def test_sessions_time_out(runtime, users, web):
    app = create_app(runtime, TESTING=True, PERMANENT_SESSION_LIFETIME=timedelta(seconds=1))
    client = app.test_client()
    assert web.login(client, "anna").status_code == 302
    assert client.get("/").status_code == 200
    time.sleep(2.1)
    assert client.get("/").status_code == 302


def test_login_redirects_only_to_local_paths(app, web):
    client = app.test_client()
    token = web.csrf_token(client)
    answer = client.post(
        "/login",
        data={
            "username": "anna",
            "password": web.password,
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
    )
    assert answer.headers["Location"] == "/"


def test_the_session_key_is_derived_from_the_installation_key(runtime, tmp_path):
    from dataclasses import replace

    key = flask_secret_key(runtime)
    assert key == flask_secret_key(runtime) and len(key) == 32
    other = replace(runtime.config, secret_key="another installation's passphrase")
    runtime_b = type("R", (), {"config": other})()
    assert flask_secret_key(runtime_b) != key
    assert key not in (runtime.config.instance_path / "secret.key").read_bytes()


def _secrets(runtime) -> set[str]:
    values: set[str] = set()
    with runtime.transaction() as session:
        for model in (Site, Ledger):
            for row in session.scalars(select(model)):
                values.update(str(v) for v in runtime.box.decrypt(row.secrets).values())
    # numbers (a Fortnox tenant id) and short demo keys are not meaningful to search for
    return {value for value in values if len(value) >= 8 and not value.isdigit()}


def test_no_page_or_api_answer_contains_a_stored_secret(app, runtime, admin, users, synced):
    secrets = _secrets(runtime)
    assert len(secrets) >= 5  # consumer secret, webhook secret, client secret, tokens...
    with runtime.transaction() as session:
        orders = list(session.scalars(select(OrderRecord.id)))
        exports = list(session.scalars(select(Export.id)))
        sites = list(session.scalars(select(Site.id)))
        ledgers = list(session.scalars(select(Ledger.id)))
        routes = list(session.scalars(select(Route.id)))
    pages = [
        "/",
        "/orders",
        "/sites/",
        "/ledgers/",
        "/routes/",
        "/bulk/",
        "/plugins",
        "/audit",
        "/admin/jobs",
        "/account/",
        "/metrics",
        "/healthz",
        "/bulk/1",
        "/bulk/1/progress",
    ]
    pages += [f"/orders/{i}" for i in orders]
    pages += [f"/sites/{i}" for i in sites] + [f"/ledgers/{i}" for i in ledgers]
    pages += [f"/routes/{i}" for i in routes]
    headers = {"Authorization": f"Bearer {users.admin_token}"}
    api = ["/api/v1/exports?limit=200", "/api/v1/bulk/1"] + [
        f"/api/v1/exports/{i}" for i in exports
    ]
    bodies = [(page, admin.get(page)) for page in pages]
    bodies += [(url, app.test_client().get(url, headers=headers)) for url in api]
    for url, answer in bodies:
        assert answer.status_code == 200, (url, answer.status_code)
        text = answer.get_data(as_text=True)
        leaked = [secret[-6:] for secret in secrets if secret in text]
        assert not leaked, (url, leaked)
    # the masked form is what the settings pages show instead
    site_page = admin.get(f"/sites/{sites[0]}").get_data(as_text=True)
    assert "stored: ••••" in site_page or "sparat: ••••" in site_page
