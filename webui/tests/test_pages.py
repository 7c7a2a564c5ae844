"""The pages as an admin uses them (server side): add a site and ledgers through the forms,
connect Fortnox through its OAuth redirect, edit a route's mapping, follow orders and act on
them, bulk sync, plugins, audit, jobs, metrics, health and the language switch."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from ledgerbridge.store.models import AuditRecord, Export, ExportState, Ledger, Route, Site

pytestmark = pytest.mark.db


def _post(client, web, url, data=None, page=None):
    data = dict(data or {})
    data["csrf_token"] = web.csrf_token(client, page or "/")
    return client.post(url, data=data)


def _flashes(answer) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', answer.get_data(as_text=True)))


def test_add_a_site_and_both_ledgers_through_the_forms(admin, web, runtime, sandboxes):
    answer = _post(
        admin,
        web,
        "/sites/new",
        {
            "connector": "woocommerce",
            "key": "butiken",
            "name": "Butiken",
            "url": sandboxes.shop.url,
            "reference_prefix": "B-",
            "allow_private_network": "on",
            "setting-consumer_key": "ck_demo",
            "setting-consumer_secret": "cs_demo",
            "setting-api_path": "/wp-json/wc/v3",
            "setting-auth_mode": "auto",
            "setting-oauth_signature_method": "HMAC-SHA256",
            "setting-verify_tls": "on",
        },
        "/sites/new",
    )
    assert answer.status_code == 302, _flashes(admin.get("/sites/new"))
    site_url = answer.headers["Location"]
    tested = admin.post(
        f"{site_url}/test",
        data={"csrf_token": web.csrf_token(admin, site_url)},
        follow_redirects=True,
    )
    assert "12 orders" in _flashes(tested)
    hooked = admin.post(
        f"{site_url}/webhooks",
        data={"csrf_token": web.csrf_token(admin, site_url)},
        follow_redirects=True,
    )
    assert hooked.get_data(as_text=True).count('data-test="webhook-row"') >= 3
    with runtime.transaction() as session:
        site = session.scalar(select(Site).where(Site.key == "butiken"))
        assert site.webhooks["ok"] is True
        assert runtime.box.decrypt(site.secrets)["consumer_secret"] == "cs_demo"

    # Bokio: company id and token, with the help text that says where to find them
    form = admin.get("/ledgers/new?connector=bokio").get_data(as_text=True)
    assert "app.bokio.se/&lt;company id&gt;" in form or "app.bokio.se/<company id>" in form
    answer = _post(
        admin,
        web,
        "/ledgers/new",
        {
            "connector": "bokio",
            "key": "bokio",
            "name": "Bokio AB",
            "plan": "pro",
            "setting-integration": "private",
            "setting-company_id": sandboxes.bokio_company,
            "setting-token": sandboxes.bokio_token,
            "setting-api_url": f"{sandboxes.bokio.url}/v1",
        },
    )
    assert answer.status_code == 302
    bokio_url = answer.headers["Location"]
    tested = admin.post(
        f"{bokio_url}/test",
        data={"csrf_token": web.csrf_token(admin, bokio_url)},
        follow_redirects=True,
    )
    assert "Demobutiken AB" in _flashes(tested)

    # Fortnox: client id and secret, then the OAuth redirect flow
    answer = _post(
        admin,
        web,
        "/ledgers/new",
        {
            "connector": "fortnox",
            "key": "fortnox",
            "name": "Fortnox AB",
            "plan": "growth",
            "setting-auth_mode": "oauth",
            "setting-client_id": sandboxes.fortnox_client[0],
            "setting-client_secret": sandboxes.fortnox_client[1],
            "setting-api_base_url": sandboxes.fortnox.url,
            "setting-auth_base_url": f"{sandboxes.fortnox.url}/oauth-v1",
        },
    )
    assert answer.status_code == 302
    ledger_url = answer.headers["Location"]
    leaving = admin.post(
        f"{ledger_url}/connect", data={"csrf_token": web.csrf_token(admin, ledger_url)}
    )
    assert leaving.status_code == 303
    consent = httpx.get(leaving.headers["Location"], follow_redirects=False)
    back = urlsplit(consent.headers["location"])
    assert back.path == "/oauth/callback"
    connected = admin.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Ansluten" in _flashes(connected) or "Connected" in _flashes(connected)
    with runtime.transaction() as session:
        ledger = session.scalar(select(Ledger).where(Ledger.key == "fortnox"))
        assert runtime.box.decrypt(ledger.secrets).get("refresh_token")
        assert ledger.status == "ok"
    # a callback replayed (or forged) is refused
    assert admin.get(f"{back.path}?{back.query}").status_code == 400
    assert admin.get("/oauth/callback?code=x&state=forged").status_code == 400


def test_invalid_settings_are_explained_and_change_nothing(admin, web, runtime):
    answer = _post(
        admin,
        web,
        "/sites/new",
        {
            "connector": "woocommerce",
            "key": "Bad Key",
            "url": "ftp://x",
            "setting-consumer_key": "nope",
        },
        "/sites/new",
    )
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "field-error" in text
    with runtime.transaction() as session:
        assert session.scalar(select(Site)) is None


def test_edit_a_route_mapping(admin, web, runtime, installation):
    route_id = installation.route_ids[0]
    page = admin.get(f"/routes/{route_id}").get_data(as_text=True)
    # fed by the ledger's reference data: accounts, modes of payment, ways of delivery
    assert 'id="ref-accounts"' in page and '<option value="1930">' in page
    assert '<option value="KORT">' in page and '<option value="HAMT">' in page
    data = {
        "pm-method": ["stripe", "swish", "bacs", ""],
        "pm-type": ["cash_sale", "invoice", "invoice", ""],
        "pm-account": ["1581", "1930", "", ""],
        "default_document_type": "invoice",
        "default_payment_account": "1930",
        "export_statuses": "completed, processing",
        "accounts-key": ["sales_goods:25", ""],
        "accounts-value": ["3011", ""],
        "manual_rates-key": ["EUR"],
        "manual_rates-value": ["11.50"],
        "zero_total": "skip",
        "bookkeep": "on",
        "register_payment": "on",
        "enabled": "on",
        "target-flow": "order_invoice",
        "target-voucher_series": "A",
        "target-ways_of_delivery-key": ["flat_rate", ""],
        "target-ways_of_delivery-value": ["DHL", ""],
        "target-modes_of_payment-key": ["stripe"],
        "target-modes_of_payment-value": ["KORT"],
        "target-price_list": "A",
        "target-email_invoice": "",
        "target-language": "",
        "csrf_token": web.csrf_token(admin, f"/routes/{route_id}"),
    }
    answer = admin.post(f"/routes/{route_id}", data=data)
    assert answer.status_code == 302
    with runtime.transaction() as session:
        route = session.get(Route, route_id)
        assert route.settings["payment_accounts"] == {"stripe": "1581", "swish": "1930"}
        assert route.settings["document_types"]["swish"] == "invoice"
        assert route.settings["accounts"] == {"sales_goods:25": "3011"}
        assert route.settings["export_statuses"] == ["completed", "processing"]
        assert route.settings["send_document"] is False
        assert route.target_settings["flow"] == "order_invoice"
        assert route.target_settings["ways_of_delivery"] == {"flat_rate": "DHL"}
        assert route.target_settings["email_invoice"] is None
        audited = session.scalar(select(AuditRecord).where(AuditRecord.action == "route.changed"))
        assert audited is not None and audited.actor == "web:anna"
    # a bad account is refused with its field named, and nothing changes
    data["pm-account"] = ["15", "1930", "", ""]
    data["csrf_token"] = web.csrf_token(admin, f"/routes/{route_id}")
    refused = admin.post(f"/routes/{route_id}", data=data)
    assert refused.status_code == 200
    assert "four-digit account" in refused.get_data(as_text=True)
    with runtime.transaction() as session:
        assert session.get(Route, route_id).settings["payment_accounts"]["stripe"] == "1581"


def test_orders_list_detail_and_actions(admin, web, runtime, synced):
    listing = admin.get("/orders").get_data(as_text=True)
    assert listing.count('data-test="order-row"') == 12
    assert admin.get("/orders?q=1003").get_data(as_text=True).count('data-test="order-row"') == 1
    review = admin.get("/orders?state=needs_review").get_data(as_text=True)
    assert review.count('data-test="order-row"') >= 1
    with runtime.transaction() as session:
        done = session.scalars(select(Export).where(Export.state == ExportState.DONE)).first()
        stuck = session.scalars(
            select(Export).where(Export.state == ExportState.NEEDS_REVIEW)
        ).first()
        done_order, stuck_order, stuck_id = done.order_id, stuck.order_id, stuck.id
    detail = admin.get(f"/orders/{done_order}").get_data(as_text=True)
    assert 'data-test="document"' in detail and 'data-test="attempt"' in detail
    assert "Bearer ••••" in detail or "Authorization" not in detail  # masked exchanges
    # retry the one that needs review: a new attempt is made
    page = f"/orders/{stuck_order}"
    answer = admin.post(
        f"/exports/{stuck_id}/retry",
        data={"csrf_token": web.csrf_token(admin, page)},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert runtime.queue.wait_idle(60)
    with runtime.transaction() as session:
        assert session.get(Export, stuck_id).attempts == 2
    # then close it by hand
    admin.post(
        f"/exports/{stuck_id}/resolve",
        data={"csrf_token": web.csrf_token(admin, page), "note": "fixed in the ledger"},
    )
    with runtime.transaction() as session:
        assert session.get(Export, stuck_id).state == ExportState.RESOLVED
    # a PDF of a booked invoice (the Pro plan includes PDFs)
    with runtime.transaction() as session:
        invoice = next(
            e.id
            for e in session.scalars(select(Export).where(Export.state == ExportState.DONE))
            if (e.document or {}).get("document_type") == "invoice"
        )
    pdf = admin.get(f"/exports/{invoice}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_bulk_sync_dry_run_then_start_cancel_and_resume(admin, web, runtime, installation):
    answer = _post(admin, web, "/bulk/start", {"status": ["completed"], "mode": "dry_run"})
    assert answer.status_code == 302
    assert runtime.queue.wait_idle(60)
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'data-test="dry-run-summary"' in page and "invoice / domestic" in page
    answer = _post(admin, web, "/bulk/start", {"status": ["completed"], "mode": "start"})
    run_url = answer.headers["Location"]
    assert runtime.queue.wait_idle(180)
    progress = admin.get(f"{run_url}/progress").get_json()
    assert progress["percent"] == 100 and progress["state"] == "done"
    assert (
        admin.post(
            f"{run_url}/resume",
            data={"csrf_token": web.csrf_token(admin, run_url)},
            follow_redirects=True,
        ).status_code
        == 200
    )
    refused = _post(admin, web, "/bulk/start", {"mode": "start"})  # no status ticked
    assert "status" in _flashes(admin.get(refused.headers["Location"])).lower()


def test_plugins_audit_jobs_metrics_and_health(admin, viewer, app, runtime, synced, users):
    plugins = admin.get("/plugins").get_data(as_text=True)
    for name in ("woocommerce", "fortnox", "bokio"):
        assert f'data-test="plugin-{name}"' in plugins
    audit = admin.get("/audit?action=ledger.").get_data(as_text=True)
    assert "ledger.added" in audit and "site.added" not in audit
    assert 'data-test="depth-exports"' in admin.get("/admin/jobs").get_data(as_text=True)
    metrics = admin.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.get_data(as_text=True)
    assert 'ledgerbridge_exports_total{outcome="done"}' in text
    assert re.search(r'ledgerbridge_api_calls_total\{status="20[01]",target="fortnox"\}', text)
    assert "ledgerbridge_queue_depth" in text
    assert viewer.get("/metrics").status_code == 403
    assert app.test_client().get("/metrics").status_code == 401
    token = {"Authorization": f"Bearer {users.admin_token}"}
    assert app.test_client().get("/metrics", headers=token).status_code == 200
    health = app.test_client().get("/healthz").get_json()
    assert health["ok"] is True and health["checks"]["database"]["ok"] is True


def test_metrics_allow_list(runtime, users):
    from ledgerbridge_webui.app import create_app

    app = create_app(runtime, TESTING=True, LEDGERBRIDGE_METRICS_ALLOW="10.0.0.0/8, 127.0.0.1")
    assert app.test_client().get("/metrics").status_code == 200
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert other.get("/metrics").status_code == 401


def test_swedish_by_default_and_english_on_request(admin, web):
    page = admin.get("/").get_data(as_text=True)
    assert "Logga ut" in page and 'lang="sv"' in page
    answer = admin.post(
        "/language",
        data={"language": "en", "next": "/orders", "csrf_token": web.csrf_token(admin, "/")},
    )
    assert answer.headers["Location"] == "/orders"
    page = admin.get("/").get_data(as_text=True)
    assert "Log out" in page and 'lang="en"' in page


def test_the_dashboard_lists_what_needs_action(admin, runtime, installation):
    from ledgerbridge.store.models import Notice

    with runtime.transaction() as session:
        session.add(
            Notice(
                subject=f"site:{installation.site_id}",
                kind="webhook_repaired",
                period="p",
                level="warning",
                message="Demobutiken: webhooks re-enabled",
            )
        )
        ledger = session.get(Ledger, installation.fortnox_ledger_id)
        ledger.status, ledger.status_message = "reconnect", "Connect to Fortnox again."
    page = admin.get("/").get_data(as_text=True)
    assert "Demobutiken: webhooks re-enabled" in page
    assert "behöver anslutas igen" in page and "Connect to Fortnox again." in page
    assert 'data-test="ledger-fortnox-demo"' in page and "5000" in page


def test_force_re_export_links_the_existing_document_instead_of_duplicating(
    admin, web, runtime, sandboxes, synced
):
    with runtime.transaction() as session:
        export = next(
            e
            for e in session.scalars(select(Export).where(Export.state == ExportState.DONE))
            if e.route_id == synced.route_ids[1] and e.kind == "order"
        )
        export_id, order_id, target_id = export.id, export.order_id, export.target_id
    listing = f"{sandboxes.bokio.url}/_sandbox/companies/{sandboxes.bokio_company}/documents"
    before = httpx.get(listing).json()["counts"]
    page = f"/orders/{order_id}"
    answer = admin.post(
        f"/exports/{export_id}/force", data={"csrf_token": web.csrf_token(admin, page)}
    )
    assert answer.status_code == 302
    assert runtime.queue.wait_idle(60)
    with runtime.transaction() as session:
        again = session.get(Export, export_id)
        assert again.state == ExportState.DONE and again.target_id == target_id
    assert httpx.get(listing).json()["counts"] == before


def test_connect_a_public_bokio_integration_through_oauth(admin, web, runtime, sandboxes):
    from ledgerbridge_bokio.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    answer = _post(
        admin,
        web,
        "/ledgers/new",
        {
            "connector": "bokio",
            "key": "bokio-public",
            "plan": "pro",
            "setting-integration": "public",
            "setting-company_id": sandboxes.bokio_company,
            "setting-client_id": DEMO_CLIENT_ID,
            "setting-client_secret": DEMO_CLIENT_SECRET,
            "setting-api_url": f"{sandboxes.bokio.url}/v1",
        },
    )
    assert answer.status_code == 302, _flashes(admin.get("/ledgers/new?connector=bokio"))
    ledger_url = answer.headers["Location"]
    leaving = admin.post(
        f"{ledger_url}/connect", data={"csrf_token": web.csrf_token(admin, ledger_url)}
    )
    assert leaving.status_code == 303
    consent = httpx.get(leaving.headers["Location"], follow_redirects=False)
    back = urlsplit(consent.headers["location"])
    connected = admin.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Ansluten" in _flashes(connected), _flashes(connected)
    assert DEMO_CLIENT_SECRET not in connected.get_data(as_text=True)
