"""Fixtures for the web UI's server tests: an embedded installation on the test database, the
app, logged-in clients, and the demo's sandboxes (real HTTP on loopback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledgerbridge.demo import world
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.store.users import create_user, issue_token
from ledgerbridge_webui.app import create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """A CSRF token of the client's session, read from a page's form."""
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the form; the response."""
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


class Helpers:
    """The helpers above, for tests (conftest is not importable under importlib mode)."""

    password = PASSWORD
    csrf_token = staticmethod(csrf_token)
    login = staticmethod(login)


@pytest.fixture
def web() -> type[Helpers]:
    """Login and CSRF helpers."""
    return Helpers


@dataclass
class Users:
    """The test users and their API tokens."""

    admin_token: str
    viewer_token: str


@pytest.fixture
def runtime(tmp_path, database_url) -> Iterator[Runtime]:
    """An embedded installation (jobs in threads) on a fresh test database."""
    config = load_config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        queue_mode="embedded",
        queue_prefix="webtest",
        secret_key=None,
        public_url="http://127.0.0.1:8000",
    )
    built = Runtime(config)
    built.migrate()
    install(built)
    yield built
    install(None)
    built.close()


@pytest.fixture
def users(runtime) -> Users:
    """An admin and a viewer, each with an API token."""
    with runtime.transaction() as session:
        admin = create_user(session, "anna", PASSWORD, role="admin", language="sv")
        viewer = create_user(session, "ville", PASSWORD, role="viewer", language="sv")
        return Users(issue_token(session, admin, "test"), issue_token(session, viewer, "test"))


@pytest.fixture
def app(runtime, users) -> Flask:
    """The web app (CSRF on, as in production)."""
    return create_app(runtime, TESTING=True)


@pytest.fixture
def admin(app) -> FlaskClient:
    """A client logged in as the admin."""
    client = app.test_client()
    assert login(client, "anna").status_code == 302
    return client


@pytest.fixture
def viewer(app) -> FlaskClient:
    """A client logged in as the viewer."""
    client = app.test_client()
    assert login(client, "ville").status_code == 302
    return client


@pytest.fixture
def sandboxes(runtime) -> Iterator[world.Sandboxes]:
    """The WooCommerce (12 seeded orders), Fortnox and Bokio sandboxes."""
    with world.sandboxes(runtime, 12) as boxes:
        yield boxes


@pytest.fixture
def installation(runtime, sandboxes) -> world.Installation:
    """The demo's site, ledgers and routes, configured through the setup layer."""
    return world.configure(runtime, sandboxes)


@pytest.fixture
def synced(runtime, installation) -> world.Installation:
    """The demo installation after a bulk sync of every order went through the pipeline.

    The site is marked OSS-registered first, so the shop's German consumer orders (charged
    Swedish VAT) are refused as data errors: the pages then show orders that need review.
    """
    from ledgerbridge.setup.sites import get_site, update_site

    with runtime.transaction() as session:
        update_site(
            runtime,
            session,
            get_site(session, installation.site_id),
            actor="test",
            oss_registered=True,
        )
    world.start_bulk_sync(runtime, installation)
    assert runtime.queue.wait_idle(180)
    return installation
