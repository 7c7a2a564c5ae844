"""The web UI's doors: anonymous visitors and viewers, CSRF, session fixation, login throttling.

(The UI's own tests check every route's CSRF and role rules; these look at the same doors
from an attacker's side, with a snapshot proving nothing changed behind a closed one.)
"""

from __future__ import annotations

import re

import pytest

from tests.security.conftest import PASSWORD

pytestmark = [pytest.mark.db, pytest.mark.redis]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "ledgerbridge_session"


def csrf_token(client, path: str = "/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        headers=headers,
    )


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie is not None else None


def _get_pages(app) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()) and not rule.arguments:
            pages.append(rule.rule)
    return pages


def test_anonymous_visitors_see_only_the_login_health_and_documents(app, installation):
    client = app.test_client()
    before = installation.snapshot()
    public = {"/login", "/healthz", "/metrics", "/api/v1/openapi.json"}
    for page in _get_pages(app):
        answer = client.get(page)
        if page in public or page.startswith("/static"):
            continue
        assert answer.status_code in (302, 401), (page, answer.status_code)
        if answer.status_code == 302:
            assert answer.headers["Location"].startswith("/login"), page
        assert "anna" not in answer.get_data(as_text=True), page
    assert installation.snapshot() == before


def test_a_viewer_with_a_valid_csrf_token_changes_nothing(app, installation):
    viewer = app.test_client()
    assert login(viewer, "ville").status_code == 302
    token = csrf_token(viewer, "/")
    before = installation.snapshot()
    refused = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("webhooks.", "api.", "auth.", "account.", "static")):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            values = {name: 1 if name.endswith("_id") else "retry" for name in rule.arguments}
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            answer = viewer.open(url, method=method, data={"csrf_token": token})
            assert answer.status_code == 403, (rule.endpoint, answer.status_code)
            refused += 1
    assert refused >= 10
    assert installation.snapshot() == before


def test_a_csrf_token_of_another_session_is_refused(app, installation):
    attacker, admin = app.test_client(), app.test_client()
    assert login(admin, "anna").status_code == 302
    stolen = csrf_token(attacker)
    before = installation.snapshot()
    answer = admin.post("/logout", data={"csrf_token": stolen})
    assert answer.status_code == 400
    assert admin.get("/").status_code == 200  # still logged in: the forged logout was refused
    assert installation.snapshot() == before


def test_session_fixation_a_planted_session_is_not_the_logged_in_one(app, installation):
    attacker = app.test_client()
    attacker.get("/login")
    planted = session_cookie(attacker)
    assert planted

    victim = app.test_client()
    victim.set_cookie(COOKIE, planted)  # the attacker fixed the victim's session cookie
    planted_token = csrf_token(victim)
    assert login(victim, "anna").status_code == 302
    assert session_cookie(victim) != planted
    assert csrf_token(victim, "/") != planted_token  # a new session, with a new CSRF token

    # the attacker's copy of the planted cookie is still anonymous
    assert attacker.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie(COOKIE, planted)
    assert replay.get("/").status_code == 302


def test_a_tampered_session_cookie_is_ignored(app, installation):
    client = app.test_client()
    assert login(client, "ville").status_code == 302
    cookie = session_cookie(client)
    forged = app.test_client()
    forged.set_cookie(COOKIE, cookie[:-3] + ("aaa" if not cookie.endswith("aaa") else "bbb"))
    assert forged.get("/").status_code == 302


def test_login_throttling_holds_per_user_name_across_addresses(app, installation):
    before = installation.snapshot()["counts"]["users"]
    for attempt in range(10):
        answer = login(
            app.test_client(),
            "anna",
            "wrong password",
            **{"X-Forwarded-For": f"203.0.113.{attempt}"},
        )
        assert answer.status_code == 401
    # the right password, from yet another claimed address, after ten failures: still refused
    client = app.test_client()
    answer = login(client, "anna", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
    assert answer.status_code == 429
    assert client.get("/").status_code == 302
    assert installation.snapshot()["counts"]["users"] == before


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, installation):
    client = app.test_client()
    assert login(client, "anna").status_code == 302
    copied = session_cookie(client)
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)
    assert thief.get("/").status_code == 302
