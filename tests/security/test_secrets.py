"""No configured secret ever shows: a whole demo run (the shop, Fortnox connected through
OAuth with rotating tokens, Bokio with a private token, webhooks delivered to the served web
app, a bulk sync of every order through the real pipeline) is searched afterwards — every log
record (debug level, through the production scrubbing filter), every audit record, every
export attempt with its recorded exchanges, and every page and API answer an admin can open
— for every secret value the installation held or was issued along the way."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ledgerbridge.demo import world
from ledgerbridge.masking import ScrubFilter
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store import models
from ledgerbridge.store.users import create_user, issue_token
from ledgerbridge.testing.servers import serve_wsgi
from tests.security.conftest import PASSWORD
from tests.support.installations import embedded_installation

pytestmark = pytest.mark.db
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Kept with the secrets but not credentials: an expiry time, Fortnox's company number.
NOT_CREDENTIALS = {"access_token_expires_at", "tenant_id"}


class Capture(logging.Handler):
    """Keeps every formatted record (as an operator's log file would)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(ScrubFilter())
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Capture]:
    root = logging.getLogger()
    capture = Capture()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(level)


@pytest.fixture
def demo(tmp_path, database_url, logs) -> Iterator[dict[str, Any]]:
    with embedded_installation(tmp_path / "instance", database_url, "secrets") as (runtime, port):
        from ledgerbridge_webui.app import create_app

        app = create_app(runtime)
        with runtime.transaction() as session:
            admin = create_user(session, "anna", PASSWORD, role="admin")
            api_token = issue_token(session, admin, "demo")
        with world.sandboxes(runtime, 16) as boxes, serve_wsgi(app, port=port):
            installation = world.configure(runtime, boxes)
            issued = _issued_tokens(boxes)
            world.register_webhooks(runtime, installation.site_id)
            world.start_bulk_sync(runtime, installation)
            assert runtime.queue.wait_idle(240)
            for order_id in list(_shop(boxes).shop.orders)[:5]:  # webhooks for a few changes
                _shop(boxes).shop.update_order(order_id, {"customer_note": "Lämna vid dörren"})
            world.deliveries(boxes, wait=5)
            assert runtime.queue.wait_idle(120)
            issued |= _issued_tokens(boxes)
            yield {
                "runtime": runtime,
                "app": app,
                "boxes": boxes,
                "installation": installation,
                "issued": issued,
                "api_token": api_token,
            }


def _shop(boxes) -> Any:
    from ledgerbridge_woocommerce.sandbox import sandbox_of

    return sandbox_of(boxes.shop.app)


def _issued_tokens(boxes) -> set[str]:
    from ledgerbridge_fortnox.sandbox.app import sandbox_state

    state = sandbox_state(boxes.fortnox.app)
    with state.lock:
        return set(state.access_tokens) | set(state.refresh_tokens)


def _stored_secrets(runtime: Runtime) -> set[str]:
    found: set[str] = set()
    with runtime.transaction() as session:
        contexts = [runtime.site_context(site) for site in session.scalars(select(models.Site))]
        contexts += [runtime.ledger_context(led) for led in session.scalars(select(models.Ledger))]
    for context in contexts:
        for key in context.secrets.keys():  # noqa: SIM118 (a Secrets object, not a dict)
            value = context.secrets.get(key) or ""
            if key not in NOT_CREDENTIALS and len(value) >= 6:
                found.add(value)
    return found


def _pages(app, runtime: Runtime, api_token: str) -> dict[str, str]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token})
    with runtime.transaction() as session:
        ids = {
            "site_id": list(session.scalars(select(models.Site.id))),
            "ledger_id": list(session.scalars(select(models.Ledger.id))),
            "route_id": list(session.scalars(select(models.Route.id))),
            "order_id": list(session.scalars(select(models.OrderRecord.id))),
            "export_id": list(session.scalars(select(models.Export.id))),
            "run_id": list(session.scalars(select(models.BulkRun.id))),
        }
    answers: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        arguments = sorted(rule.arguments)
        if len(arguments) > 1 or any(name not in ids for name in arguments):
            continue
        values = [{}] if not arguments else [{arguments[0]: i} for i in ids[arguments[0]]]
        for value in values:
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **value)
            headers = {"Authorization": f"Bearer {api_token}"} if url.startswith("/api/") else {}
            answer = client.get(url, headers=headers)
            answers[url] = (
                answer.get_data(as_text=True)
                if answer.is_json or answer.mimetype.startswith("text")
                else ""
            )
    return answers


def _records(runtime: Runtime) -> dict[str, str]:
    texts: dict[str, str] = {}
    with runtime.transaction() as session:
        for table in (
            models.AuditRecord,
            models.ExportAttempt,
            models.Export,
            models.Notice,
            models.BulkRun,
            models.BulkRunItem,
            models.KeyValue,
            models.Site,
            models.Ledger,
        ):
            for row in session.scalars(select(table)):
                values = {
                    column.name: getattr(row, column.key, None)
                    for column in table.__table__.columns
                    if column.name != "secrets"  # encrypted at rest: the ciphertext
                }
                texts[f"{table.__tablename__}:{id(row)}"] = json.dumps(values, default=str)
    return texts


def test_no_secret_in_logs_audit_records_or_pages(demo, logs):
    runtime: Runtime = demo["runtime"]
    secrets = _stored_secrets(runtime) | demo["issued"] | {PASSWORD, demo["api_token"]}
    secrets.add(demo["boxes"].fortnox_client[1])
    secrets.add(demo["boxes"].bokio_token)
    assert len(secrets) >= 8, secrets  # the run really handled secrets of every kind

    with runtime.transaction() as session:
        attempts = session.scalars(select(models.ExportAttempt)).all()
        assert sum(len(attempt.exchanges or []) for attempt in attempts) > 20
        done = session.scalars(select(models.Export).where(models.Export.state == "done")).all()
        assert len(done) >= 8
    haystacks = {f"log {i}": line for i, line in enumerate(logs.lines)}
    haystacks |= _records(runtime)
    haystacks |= _pages(demo["app"], runtime, demo["api_token"])
    assert len(logs.lines) > 100 and any("oauth" in line.lower() for line in logs.lines)

    leaks = [
        (where, secret[:4] + "…")
        for where, text in haystacks.items()
        for secret in secrets
        if secret in text
    ]
    assert not leaks, [(where, haystacks[where][:300]) for where, _ in leaks[:5]]
