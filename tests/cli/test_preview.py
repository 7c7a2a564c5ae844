"""``ledgerbridge preview``: the real CLI over real samples, offline and writing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerbridge.cli import main

D = Decimal
DATA = Path(__file__).parent / "data"
SAMPLES = resources.files("ledgerbridge_woocommerce.samples")
SYNTHETIC = "synthetic-se-order-25-12-coupon.json"
#: Refund samples and the order each belongs to (file, order id).
REFUND_SAMPLES = {
    "wc-rest-api-docs_list-refunds-response_order723.json": (
        "wc-rest-api-docs_list-orders-response_wc3.0.json",
        723,
    ),
    "woocommerce-ios_refunds-all_order560.json": (None, 560),
}
#: The US samples are in dollars: a manual rate, as a route without a ledger would need.
ROUTE = {"manual_rates": {"USD": "10.50"}}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder and instance folder: preview must leave both as they are."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDGERBRIDGE_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path


def _sample(name: str):
    return json.loads(SAMPLES.joinpath(name).read_text(encoding="utf-8"))


def _write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _run(*args: str):
    return CliRunner().invoke(main, ["preview", *args], catch_exceptions=False)


def _preview_json(*args: str) -> dict:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _assert_balanced(document: dict) -> None:
    debit = sum(D(line["debit"]) for line in document["journal"])
    credit = sum(D(line["credit"]) for line in document["journal"])
    assert debit == credit
    gross = sum(D(row["net"]) + D(row["vat_amount"]) for row in document["rows"])
    assert gross == D(document["total"])
    for line in document["vat"]:
        rows = [
            r for r in document["rows"] if r["vat_rate"] == line["rate"] and r["kind"] != "rounding"
        ]
        assert sum(D(r["vat_amount"]) for r in rows) == D(line["amount"])


def _orders_of(data) -> list[dict]:
    return data if isinstance(data, list) else [data]


def test_every_sample_previews_and_balances(workdir):
    route = _write(workdir, "route.json", ROUTE)
    covered = set()
    for entry in SAMPLES.iterdir():
        name = entry.name
        if not name.endswith(".json") or name in REFUND_SAMPLES:
            continue
        covered.add(name)
        for raw in _orders_of(_sample(name)):
            order = _write(workdir, f"order-{raw['id']}.json", raw)
            document = _preview_json("--order-file", str(order), "--settings", str(route))
            _assert_balanced(document)
            assert document["order_id"] == str(raw["id"])
            assert document["total"] == f"{D(raw['total']):.2f}"
    for name, (order_file, order_id) in REFUND_SAMPLES.items():
        covered.add(name)
        if order_file is None:
            raw = json.loads((DATA / f"order-{order_id}-reconstructed.json").read_text())
        else:
            raw = next(o for o in _orders_of(_sample(order_file)) if o["id"] == order_id)
        order = _write(workdir, f"order-{order_id}.json", raw)
        refunds = _write(workdir, f"refunds-{order_id}.json", _sample(name))
        document = _preview_json(
            "--order-file", str(order), "--refund-file", str(refunds), "--settings", str(route)
        )
        _assert_balanced(document)
        credits = document["credit_notes"]
        assert sorted(credit["refund_id"] for credit in credits) == sorted(
            str(refund["id"]) for refund in _sample(name)
        )
        for credit in credits:
            _assert_balanced(credit)
            assert credit["document_type"] == "credit_note"
            assert credit["original_reference"] == str(order_id)
    json_samples = {entry.name for entry in SAMPLES.iterdir() if entry.name.endswith(".json")}
    assert covered == json_samples


def test_swedish_sample_exact_journal_and_shape(workdir):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))

    document = _preview_json("--order-file", str(order))

    assert {
        key: document[key] for key in ("order_id", "document_type", "scenario", "currency")
    } == {
        "order_id": "4711",
        "document_type": "invoice",
        "scenario": "domestic",
        "currency": "SEK",
    }
    assert document["total"] == "1413.40"
    # by default VAT is booked exactly as the shop's tax lines say (25.75 and 224.82 + 9.80)
    assert document["vat"] == [
        {"rate": "12", "base": "214.55", "amount": "25.75", "account": "2621"},
        {"rate": "25", "base": "938.48", "amount": "234.62", "account": "2611"},
    ]
    assert [(j["account"], j["debit"], j["credit"]) for j in document["journal"]] == [
        ("1510", "1413.40", "0.00"),
        ("3002", "0.00", "214.55"),
        ("2621", "0.00", "25.75"),
        ("3001", "0.00", "938.48"),
        ("2611", "0.00", "234.62"),
    ]
    assert any("split_shipping_by_rate is off" in warning for warning in document["warnings"])
    assert "target_payload" not in document


def test_route_file_shapes_the_document(workdir):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))
    route = _write(
        workdir,
        "route.json",
        {
            "document_types": {"klarna_payments": "cash_sale"},
            "payment_accounts": {"klarna_payments": "1686"},
            "split_shipping_by_rate": True,
            "site": {"reference_prefix": "WEB-"},
        },
    )

    document = _preview_json("--order-file", str(order), "--settings", str(route))

    assert document["document_type"] == "cash_sale"
    assert document["reference"] == "WEB-4711"
    assert document["journal"][0]["account"] == "1686"
    # shipping split over the goods' rates by net value (Skatteverket's rule)
    assert [line["amount"] for line in document["vat"]] == ["26.67", "232.89"]


@pytest.mark.parametrize("target", ["fortnox", "bokio"])
def test_target_payload_is_shown(workdir, target):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))

    document = _preview_json("--order-file", str(order), "--target", target)

    assert isinstance(document["target_payload"], dict)
    assert document["target_payload"]


def test_unknown_target_is_a_usage_error(workdir):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))

    result = _run("--order-file", str(order), "--target", "nosuch")

    assert result.exit_code == 2
    assert "No target connector named 'nosuch' is installed" in result.output


def test_human_output_is_a_table_of_rows_vat_and_journal(workdir):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))

    result = _run("--order-file", str(order))

    assert result.exit_code == 0, result.output
    for heading in ("invoice 4711", "Rows", "VAT", "Journal (SEK)", "Warnings"):
        assert heading in result.output
    assert "1510     1413.40  0.00" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw | {"total": "many"}, "total"),
        (lambda raw: raw | {"line_items": "none"}, "line_items"),
        (lambda raw: {key: value for key, value in raw.items() if key != "currency"}, "currency"),
    ],
)
def test_malformed_order_exits_2_naming_the_field(workdir, change, expected):
    order = _write(workdir, "order.json", change(_sample(SYNTHETIC)))

    result = _run("--order-file", str(order))

    assert result.exit_code == 2
    assert expected in result.output


def test_order_file_that_is_not_json_exits_2(workdir):
    order = workdir / "order.json"
    order.write_text("{not json", encoding="utf-8")

    result = _run("--order-file", str(order))

    assert result.exit_code == 2
    assert "--order-file" in result.output
    assert "not JSON" in result.output


def test_order_file_with_two_orders_exits_2(workdir):
    order = _write(
        workdir, "orders.json", _sample("wc-rest-api-docs_list-orders-response_wc3.0.json")
    )

    result = _run("--order-file", str(order))

    assert result.exit_code == 2
    assert "holds 2 orders (727, 723)" in result.output


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"acounts": {}}, "unknown field(s) acounts"),
        ({"accounts": {"sales": "3001"}}, "accounts: Unknown account key(s): sales"),
        ({"accounts": {"vat:25": "26"}}, "accounts.vat:25"),
        ({"zero_total": "maybe"}, "zero_total"),
        ({"site": {"oss_registered": "yes"}}, "site.oss_registered must be a bool"),
        ({"site": {"prefix": "X"}}, "site.prefix is not a site setting"),
        ({"manual_rates": {"USD": 10.5}}, "manual_rates"),
    ],
)
def test_malformed_route_file_exits_2_naming_the_field(workdir, route, expected):
    order = _write(workdir, "order.json", _sample(SYNTHETIC))
    settings = _write(workdir, "route.json", route)

    result = _run("--order-file", str(order), "--settings", str(settings))

    assert result.exit_code == 2
    assert expected in result.output


def test_order_that_cannot_be_booked_exits_1_with_the_reason(workdir):
    raw = _sample(SYNTHETIC)
    raw["billing"] = {**raw["billing"], "country": "DE", "company": ""}
    raw["shipping"] = {**raw["shipping"], "country": "DE"}
    order = _write(workdir, "order.json", raw)
    route = _write(workdir, "route.json", {"site": {"oss_registered": True}})

    result = _run("--order-file", str(order), "--settings", str(route))

    assert result.exit_code == 1
    assert "must be charged DE VAT" in result.output


def test_foreign_currency_without_a_rate_exits_1(workdir):
    order = _write(
        workdir, "order.json", _sample("woocommerce-ios_order-partially-refunded_wc3.7.0.json")
    )

    result = _run("--order-file", str(order))

    assert result.exit_code == 1
    assert "No SEK rate for USD" in result.output


def test_zero_total_order_is_reported_as_skipped(workdir):
    raw = next(
        o for o in _sample("wc-rest-api-docs_list-orders-response_wc3.0.json") if o["id"] == 723
    )
    for line in (*raw["line_items"], *raw["shipping_lines"]):
        line.update(
            {"total": "0.00", "subtotal": "0.00"} if "subtotal" in line else {"total": "0.00"}
        )
    raw |= {"total": "0.00", "shipping_total": "0.00", "refunds": []}
    order = _write(workdir, "order.json", raw)
    route = _write(workdir, "route.json", ROUTE)

    document = _preview_json("--order-file", str(order), "--settings", str(route))

    assert document["skipped"] is True
    assert "total of 0.00" in document["message"]


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


def test_preview_runs_local_hooks_and_writes_nothing(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "ledgerbridge_hooks.py").write_text(
        "from ledgerbridge import hookimpl\n\n\n"
        "@hookimpl(wrapper=True)\n"
        "def ledgerbridge_document_built(document, order, route):\n"
        "    document = yield\n"
        "    return document.replace(texts=(*document.texts, 'Tack för ditt köp!'))\n",
        encoding="utf-8",
    )
    order = _write(tmp_path, "order.json", _sample(SYNTHETIC))
    before = _tree(tmp_path)
    env = {**os.environ, "LEDGERBRIDGE_INSTANCE_PATH": str(instance)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    completed = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "preview", "--order-file", str(order), "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["texts"] == ["Tack för ditt köp!"]
    assert _tree(tmp_path) == before
