"""The sandbox behaves like Fortnox: envelopes, both error casings, text rules, immutability,
balanced vouchers, substring search and pagination."""

from __future__ import annotations

import httpx
import pytest
from fortnox_contract import DELIBERATELY_INVALID

from ledgerbridge.errors import ConfigError, NotFound
from ledgerbridge_fortnox.client import FortnoxClient
from ledgerbridge_fortnox.errors import parse_error_body


def _api(sandbox, ledger, *, invalid=False):
    token = ledger.secrets.get("access_token")
    headers = {"Authorization": f"Bearer {token}"}
    if invalid:
        headers[DELIBERATELY_INVALID] = "1"
    return httpx.Client(base_url=f"{sandbox.url}/3", headers=headers)


def _customer(api, name="Test Kund", email="a@example.se"):
    answer = api.post("/customers", json={"Customer": {"Name": name, "Email": email}})
    assert answer.status_code == 201, answer.text
    return answer.json()["Customer"]["CustomerNumber"]


def test_error_casings_and_codes(sandbox, ledger):
    with _api(sandbox, ledger, invalid=True) as api:
        missing = api.get("/customers/999")
        assert missing.status_code == 404
        assert missing.json() == {
            "ErrorInformation": {"Error": 1, "Message": "Kan inte hitta kunden.", "Code": 2000433}
        }
        bad_filter = api.get("/invoices", params={"filter": "nonsense"})
        assert bad_filter.json()["ErrorInformation"]["code"] == 2000587
        emoji = api.post("/customers", json={"Customer": {"Name": "Kund 😀"}})
        assert emoji.status_code == 400 and emoji.json()["ErrorInformation"]["code"] == 2000359
        unknown = api.post("/customers", json={"Customer": {"Name": "Kund", "Nickname": "x"}})
        assert unknown.json()["ErrorInformation"]["code"] == 2001399
        broken = api.post("/customers", content=b"{", headers={"Content-Type": "application/json"})
        assert broken.json()["ErrorInformation"]["code"] == 2002115
    assert httpx.get(f"{sandbox.url}/3/customers").json() == {"message": "unauthorized"}
    for body in (missing.content, bad_filter.content):
        assert parse_error_body(body).code in (2000433, 2000587)


def test_client_classes_errors(sandbox, ledger):
    with FortnoxClient(ledger) as client:
        with pytest.raises(NotFound):
            client.get("invoices/77", what="reading")
        number = client.post("customers", {"Customer": {"Name": "K"}}, what="c")["Customer"][
            "CustomerNumber"
        ]
        row = {"Description": "x", "DeliveredQuantity": "1", "Price": 1, "AccountNumber": 9999}
        body = {"Invoice": {"CustomerNumber": number, "InvoiceRows": [row]}}
        with pytest.raises(ConfigError, match="2001304"):
            client.post("invoices", body, what="creating")


def test_booked_invoice_is_immutable_and_credit_is_once(sandbox, ledger):
    with _api(sandbox, ledger) as api:
        number = _customer(api)
        invoice = api.post(
            "/invoices",
            json={
                "Invoice": {
                    "CustomerNumber": number,
                    "InvoiceRows": [
                        {
                            "Description": "Kaffe",
                            "DeliveredQuantity": "2",
                            "Price": 100,
                            "VAT": 25,
                            "AccountNumber": 3001,
                        }
                    ],
                }
            },
        ).json()["Invoice"]
        assert invoice["Total"] == 250 and invoice["OCR"] == "133" and invoice["Credit"] == "false"
        assert api.put(f"/invoices/{invoice['DocumentNumber']}/credit").status_code == 400
        assert (
            api.put(f"/invoices/{invoice['DocumentNumber']}/bookkeep").json()["Invoice"]["Booked"]
            is True
        )
        change = api.put(
            f"/invoices/{invoice['DocumentNumber']}",
            json={"Invoice": {"CustomerNumber": number, "Remarks": "x"}},
        )
        assert change.status_code == 400
        credited = api.put(f"/invoices/{invoice['DocumentNumber']}/credit").json()["Invoice"]
        assert credited["CreditInvoiceReference"] == "2"
        assert api.put(f"/invoices/{invoice['DocumentNumber']}/credit").status_code == 400


def test_vouchers_must_balance_and_use_a_manual_series(sandbox, ledger):
    with _api(sandbox, ledger) as api:
        from ledgerbridge_fortnox.sandbox.seed import today

        day = today().isoformat()
        rows = [
            {"Account": 1930, "Debit": 100, "Credit": 0},
            {"Account": 3001, "Debit": 0, "Credit": 99},
        ]
        unbalanced = api.post(
            "/vouchers",
            json={
                "Voucher": {
                    "VoucherSeries": "A",
                    "TransactionDate": day,
                    "Description": "x",
                    "Year": 2,
                    "VoucherRows": rows,
                }
            },
        )
        assert (
            unbalanced.status_code == 400
            and "balans" in unbalanced.json()["ErrorInformation"]["message"]
        )
        rows[1]["Credit"] = 100
        automatic = api.post(
            "/vouchers",
            json={
                "Voucher": {
                    "VoucherSeries": "B",
                    "TransactionDate": day,
                    "Description": "x",
                    "Year": 2,
                    "VoucherRows": rows,
                }
            },
        )
        assert "manuell" in automatic.json()["ErrorInformation"]["message"]
        ok = api.post(
            "/vouchers",
            json={
                "Voucher": {
                    "VoucherSeries": "A",
                    "TransactionDate": day,
                    "Description": "x",
                    "Year": 2,
                    "VoucherRows": rows,
                }
            },
        )
        assert ok.status_code == 201 and ok.json()["Voucher"]["VoucherNumber"] == 1


def test_substring_search_and_pagination(sandbox, ledger):
    with _api(sandbox, ledger) as api:
        for index in range(7):
            _customer(api, name=f"Kund {index}", email=f"kund{index}@example.se")
        hits = api.get("/customers", params={"email": "kund1"}).json()["Customers"]
        assert [c["Email"] for c in hits] == ["kund1@example.se"]
        page = api.get("/customers", params={"limit": 3, "page": 3}).json()
        assert page["MetaInformation"] == {
            "@TotalResources": 7,
            "@TotalPages": 3,
            "@CurrentPage": 3,
        }
        assert len(page["Customers"]) == 1
    with FortnoxClient(ledger) as client:
        assert len(list(client.iterate("customers", "Customers", what="all"))) == 7


def test_admin_listing_counts_what_was_created(sandbox, ledger):
    with _api(sandbox, ledger) as api:
        _customer(api)
    listing = httpx.get(f"{sandbox.url}/_sandbox/tenants").json()["tenants"]
    assert listing[0]["counts"]["customer"] == 1 and listing[1]["counts"]["customer"] == 0
    stats = httpx.get(f"{sandbox.url}/_sandbox/stats").json()
    assert stats["codes_exchanged"] == 1


def test_admin_knobs_answer_their_values(sandbox):
    answer = httpx.post(
        f"{sandbox.url}/_sandbox/knobs", json={"error_rate": 0.2, "timeout_after_create": 1}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["error_rate"] == 0.2
    knobs = httpx.get(f"{sandbox.url}/_sandbox/knobs").json()
    assert knobs["timeout_after_create"] == 1 and knobs["rate_window"] == 5
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"error_rate": 0, "timeout_after_create": 0})
