"""Browser tests: the web UI served over real HTTP (threads) on an embedded installation,
the sandboxes in-process, and Debian's chromium driven by Playwright (never a downloaded
browser: ``LEDGERBRIDGE_BROWSER``, default /usr/bin/chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ledgerbridge.demo import world
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.users import create_user
from ledgerbridge.testing.servers import serve_wsgi
from ledgerbridge_webui.app import create_app
from tests.support.installations import embedded_installation

CHROMIUM = os.environ.get("LEDGERBRIDGE_BROWSER", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USER, PASSWORD = "anna", "correct horse battery"


@dataclass
class Ui:
    """The served UI, its installation and the sandboxes behind it."""

    url: str
    runtime: Runtime
    boxes: world.Sandboxes


@pytest.fixture
def ui(tmp_path, database_url) -> Iterator[Ui]:
    """The UI on a free port (also the public URL: webhooks and OAuth come back to it)."""
    with embedded_installation(tmp_path / "instance", database_url, "browser") as (runtime, port):
        with runtime.transaction() as session:
            create_user(session, USER, PASSWORD, role="admin", language="sv")
        app = create_app(runtime)
        with world.sandboxes(runtime, 12) as boxes, serve_wsgi(app, port=port) as server:
            yield Ui(server.url, runtime, boxes)


@pytest.fixture
def configured(ui) -> world.Installation:
    """The demo's site, ledgers and routes (set up without the browser)."""
    return world.configure(ui.runtime, ui.boxes)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, ui):
    """A fresh browser tab, logged in as the admin."""
    context = browser.new_context(base_url=ui.url, locale="sv-SE")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    tab.goto("/login")
    tab.fill("#username", USER)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{ui.url}/")
    yield tab
    context.close()
