"""The third-party SIE connector in the web UI: listed on the Plugins page, its ledger settings
form generated from its schema, and a ledger added and tested through that form.

ledgerbridge-sie is installed into this test process as a distribution (a dist-info folder
with its entry point on ``sys.path``), so it is found exactly like a pip-installed one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.store.models import Ledger
from ledgerbridge.store.users import create_user
from ledgerbridge_webui.app import create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sie_installed(tmp_path, monkeypatch, sie_package) -> None:
    """``ledgerbridge-sie 0.1.0`` as an installed distribution with its entry point."""
    dists = tmp_path / "dists"
    info = dists / "ledgerbridge_sie-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ledgerbridge-sie\nVersion: 0.1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[ledgerbridge]\nsie = ledgerbridge_sie.plugin\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(dists))


@pytest.fixture
def admin(tmp_path, sqlite_url, sie_installed) -> Iterator[tuple[FlaskClient, Runtime]]:
    """A logged-in admin of an embedded installation that has ledgerbridge-sie installed."""
    config = load_config(
        instance_path=tmp_path / "instance",
        database_url=sqlite_url,
        queue_mode="embedded",
        secret_key=None,
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    with runtime.transaction() as session:
        create_user(session, "anna", PASSWORD, role="admin", language="en")
    client = create_app(runtime, TESTING=True).test_client()
    answer = client.post(
        "/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": token(client, "/login")},
    )
    assert answer.status_code == 302
    try:
        yield client, runtime
    finally:
        install(None)
        runtime.close()


def token(client: FlaskClient, path: str) -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return html.unescape(answer.get_data(as_text=True))


def test_the_plugins_page_lists_the_installed_connector(admin):
    client, _ = admin
    text = page(client, "/plugins")
    row = re.search(r'<tr data-test="plugin-sie">(.*?)</tr>', text, re.S)
    assert row, "no row for the sie plugin"
    cells = row.group(1)
    for expected in ("SIE 4 files (target)", "ledgerbridge-sie", "0.1.0", "active"):
        assert expected in cells, expected
    assert "ledgerbridge_target_export_document" in cells


def test_the_ledger_form_is_generated_from_the_schema(admin):
    client, _ = admin
    text = page(client, "/ledgers/new?connector=sie")
    assert "Writes every exported order" in text  # the connector's help
    for name, label in (
        ("output_folder", "Output folder *"),
        ("company_name", "Company name *"),
        ("organisation_number", "Organisation number"),
        ("voucher_series", "Voucher series"),
    ):
        assert f'<label for="setting-{name}">{label}</label>' in text, name
        assert f'name="setting-{name}"' in text
    select = re.search(r'<select name="setting-file_mode".*?</select>', text, re.S)
    assert select and "per_day" in select.group(0) and "per_order" in select.group(0)
    assert 'type="number" step="any" name="setting-fiscal_year_start_month"' in text
    assert "Folder the .si files are written to" in text  # a field's help


def test_a_ledger_added_through_the_form_writes_to_its_folder(admin, tmp_path):
    client, runtime = admin
    folder = tmp_path / "sie-out"
    form = {
        "csrf_token": token(client, "/ledgers/new?connector=sie"),
        "connector": "sie",
        "key": "bokforing",
        "name": "Bokföring",
        "plan": "free",
        "setting-output_folder": str(folder),
        "setting-company_name": "Kaffebolaget i Åre AB",
        "setting-organisation_number": "5566778899",
        "setting-file_mode": "per_order",
        "setting-voucher_series": "W",
        "setting-fiscal_year_start_month": "7",
    }
    answer = client.post("/ledgers/new", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-2000:]
    with runtime.transaction() as session:
        ledger = session.query(Ledger).filter_by(key="bokforing").one()
        assert ledger.connector == "sie"
        assert ledger.settings["organisation_number"] == "556677-8899"
        assert ledger.settings["file_mode"] == "per_order"
        assert ledger.settings["fiscal_year_start_month"] == 7
        ledger_id = ledger.id
    tested = client.post(
        f"/ledgers/{ledger_id}/test",
        data={"csrf_token": token(client, f"/ledgers/{ledger_id}")},
        follow_redirects=True,
    )
    assert f"Writing SIE files for Kaffebolaget i Åre AB to {folder}" in html.unescape(
        tested.get_data(as_text=True)
    )
    assert folder.is_dir()


def test_a_bad_setting_is_shown_on_its_field_and_nothing_is_added(admin, tmp_path):
    client, runtime = admin
    form = {
        "csrf_token": token(client, "/ledgers/new?connector=sie"),
        "connector": "sie",
        "key": "bokforing",
        "plan": "free",
        "setting-output_folder": str(tmp_path / "out"),
        "setting-company_name": "Kaffebolaget AB",
        "setting-organisation_number": "123",
        "setting-file_mode": "per_day",
    }
    text = html.unescape(client.post("/ledgers/new", data=form).get_data(as_text=True))
    assert "'123' is not a valid Swedish organisation number." in text
    with runtime.transaction() as session:
        assert session.query(Ledger).filter_by(key="bokforing").count() == 0
