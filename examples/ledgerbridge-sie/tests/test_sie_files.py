"""What the SIE files look like: header, vouchers, encoding, quoting, file modes, settings."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from ledgerbridge import hookimpl
from ledgerbridge.contexts import memory_ledger
from ledgerbridge.errors import ConfigError, DataError
from ledgerbridge.progress import MemoryProgress
from ledgerbridge.testing.orders import build_documents, fixture_route
from ledgerbridge_sie.folder import VoucherFolder
from ledgerbridge_sie.settings import load_settings
from ledgerbridge_sie.sie import (
    Company,
    SieFile,
    Transaction,
    Voucher,
    encode,
    parse,
    quote,
    render,
    tokens,
)

D = Decimal


def sie_ledger(folder, **settings):
    return memory_ledger(
        connector="sie",
        settings={
            "output_folder": str(folder),
            "company_name": "Kaffebolaget i Åre AB",
            "organisation_number": "5566778899",
            **settings,
        },
    )


def export(hooks, ledger, fixture, prefix="WS-"):
    route = hooks.with_filters(fixture_route(ledger, reference_prefix=prefix))
    documents = build_documents(fixture, route, hooks)
    target = hooks.target(ledger)
    result = target.export_document(route, documents.document, MemoryProgress())
    credits = [
        target.export_credit_note(route, credit, result, MemoryProgress())
        for credit in documents.credit_notes
    ]
    return documents, result, credits


def test_a_file_has_the_sie_4_header_then_accounts_then_vouchers(tmp_path, hooks, fixture_orders):
    ledger = sie_ledger(tmp_path)
    documents, result, _ = export(hooks, ledger, fixture_orders["vat_mix"])

    (path,) = tmp_path.glob("*.si")
    assert path.name == f"ledgerbridge-{documents.document.date:%Y%m%d}.si"
    lines = path.read_bytes().decode("cp437").split("\r\n")
    labels = [line.split(" ")[0] for line in lines if line.startswith("#")]
    assert labels[:8] == [
        "#FLAGGA",
        "#PROGRAM",
        "#FORMAT",
        "#GEN",
        "#SIETYP",
        "#FNAMN",
        "#ORGNR",
        "#RAR",
    ]
    assert "#FORMAT PC8" in lines and "#SIETYP 4" in lines
    assert '#FNAMN "Kaffebolaget i Åre AB"' in lines
    assert "#ORGNR 556677-8899" in lines
    assert labels.index("#VER") > max(i for i, label in enumerate(labels) if label == "#KONTO")
    sie = parse(path.read_bytes())
    (voucher,) = sie.vouchers
    assert voucher.target_id == result.target_id == "A1"
    assert voucher.text == "WS-9101: Faktura order 9101, Anna Öberg"
    assert voucher.balance == 0
    assert [(t.account, t.amount) for t in voucher.transactions] == [
        (line.account, line.debit - line.credit) for line in documents.document.journal
    ]
    assert set(sie.accounts) == {t.account for t in voucher.transactions}
    assert sie.accounts["3001"] == "Försäljning inom Sverige, 25 % moms"
    assert sie.fiscal_year == (date(voucher.day.year, 1, 1), date(voucher.day.year, 12, 31))
    assert result.totals is not None and result.totals.total == D("1449.00")
    assert result.totals.vat == D("240.90")


def test_swedish_characters_survive_code_page_437_and_others_become_question_marks():
    voucher = Voucher(
        series="A",
        number=1,
        day=date(2026, 5, 4),
        text='WS-1: Åsa Öberg, Ängelholm, "Café" 5 €',
        transactions=(Transaction("1510", D("10.00")), Transaction("3001", D("-10.00"))),
    )
    sie = SieFile(
        company=Company("Räksmörgås AB"),
        program=("test", "1"),
        generated=date(2026, 5, 4),
        fiscal_year=None,
        accounts={"1510": "Kundfordringar"},
        vouchers=(voucher,),
    )
    data = encode(render(sie))
    for character, byte in (("Å", 0x8F), ("Ä", 0x8E), ("Ö", 0x99), ("å", 0x86), ("é", 0x82)):
        assert bytes([byte]) in data, character
    back = parse(data)
    assert back.company.name == "Räksmörgås AB"
    assert back.vouchers[0].text == 'WS-1: Åsa Öberg, Ängelholm, "Café" 5 ?'
    assert back.vouchers[0].transactions == voucher.transactions


def test_quoting_keeps_quotes_spaces_and_empty_fields_apart():
    fields = [quote('Sa "hej"  då'), quote(""), quote("x\ty")]
    line = "#VER A 7 20260504 " + " ".join(fields)
    assert tokens(line) == ["#VER", "A", "7", "20260504", 'Sa "hej"  då', "", "x y"]
    assert tokens("#TRANS 1510 {} 12.50") == ["#TRANS", "1510", "{}", "12.50"]


def test_per_day_files_collect_a_day_and_number_on_across_files(tmp_path, hooks, fixture_orders):
    ledger = sie_ledger(tmp_path)
    export(hooks, ledger, fixture_orders["vat_mix"])
    _, _, credits = export(hooks, ledger, fixture_orders["refund"])

    files = sorted(tmp_path.glob("*.si"))
    assert len(files) == 2  # the order day, and the refund day after it
    first, second = (parse(path.read_bytes()) for path in files)
    assert [v.target_id for v in first.vouchers] == ["A1", "A2"]
    assert [v.target_id for v in second.vouchers] == ["A3", "A4"]
    assert [credit.target_id for credit in credits] == ["A3", "A4"]
    assert second.vouchers[0].text == "WS-9103-R71: Kreditering av WS-9103 (ver. A2)"
    # a credit voucher reverses: the receivable is credited
    assert second.vouchers[0].moved_on("1") == D("-250.00")


def test_per_order_files_hold_one_voucher_each(tmp_path, hooks, fixture_orders):
    ledger = sie_ledger(tmp_path, file_mode="per_order", voucher_series="W")
    export(hooks, ledger, fixture_orders["coupon"])  # a cash sale and its credit
    export(hooks, ledger, fixture_orders["export"])

    names = sorted(path.name for path in tmp_path.glob("*.si"))
    assert sorted(name.split("-", 2)[2] for name in names) == [
        "W1-WS-9102.si",
        "W2-WS-9102-R81.si",
        "W3-WS-9107.si",
    ]
    for name in names:
        assert len(parse((tmp_path / name).read_bytes()).vouchers) == 1


def test_a_payload_plugin_changes_the_voucher_and_cannot_unbalance_it(
    tmp_path, hooks, register_plugin, fixture_orders
):
    @hookimpl(wrapper=True)
    def ledgerbridge_document_payload(payload, document):
        payload = yield
        payload["text"] += " [webbshop]"
        return payload

    register_plugin(ledgerbridge_document_payload=ledgerbridge_document_payload)
    ledger = sie_ledger(tmp_path)
    export(hooks, ledger, fixture_orders["coupon"])
    texts = sorted(v.text for _, v in VoucherFolder(load_settings(ledger.settings)).vouchers())
    assert texts == [
        "WS-9102-R81: Kreditering av WS-9102 (ver. A1) [webbshop]",
        "WS-9102: Kontantförsäljning order 9102, Anna Öberg [webbshop]",
    ]

    @hookimpl(wrapper=True)
    def unbalance(payload, document):
        payload = yield
        payload["transactions"][0]["amount"] = "1.00"
        return payload

    register_plugin(ledgerbridge_document_payload=unbalance, name="unbalance")
    with pytest.raises(DataError, match="do not balance"):
        export(hooks, ledger, fixture_orders["export"])
    assert len(list(VoucherFolder(load_settings(ledger.settings)).vouchers())) == 2


def test_concurrent_exports_to_one_folder_get_distinct_numbers(tmp_path, hooks, fixture_orders):
    ledger = sie_ledger(tmp_path)
    names = ["vat_mix", "coupon", "foreign_currency", "eu_b2b", "export"]
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            export(hooks, ledger, fixture_orders[name])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    vouchers = [v for _, v in VoucherFolder(load_settings(ledger.settings)).vouchers()]
    assert sorted(v.number for v in vouchers) == [1, 2, 3, 4, 5, 6]  # the coupon's credit too


def test_settings_are_validated_with_plain_messages(tmp_path):
    with pytest.raises(ConfigError, match="organisation_number"):
        load_settings(
            {"output_folder": str(tmp_path), "company_name": "X", "organisation_number": "123"}
        )
    with pytest.raises(ConfigError, match="file_mode"):
        load_settings({"output_folder": str(tmp_path), "company_name": "X", "file_mode": "weekly"})
    with pytest.raises(ConfigError, match="company_name"):
        load_settings({"output_folder": str(tmp_path)})


def test_check_connection_says_what_to_fix(tmp_path, hooks):
    good = hooks.target(sie_ledger(tmp_path / "out")).check_connection()
    assert good.ok and "one file per day" in good.message
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    bad = hooks.target(sie_ledger(blocker / "out")).check_connection()
    assert not bad.ok and "cannot be created" in bad.message


def test_build_payloads_is_the_voucher_that_would_be_written(tmp_path, hooks, fixture_orders):
    ledger = sie_ledger(tmp_path)
    route = hooks.with_filters(fixture_route(ledger, reference_prefix="WS-"))
    document = build_documents(fixture_orders["eu_b2b"], route, hooks).document
    payloads = hooks.target(ledger).build_payloads(route, document)
    assert payloads == {
        "voucher": {
            "reference": "WS-9106",
            "series": "A",
            "date": document.date.isoformat(),
            "text": "Faktura order 9106, Kaffeehaus GmbH",
            "transactions": [
                {"account": "1510", "amount": "1000.00", "text": "Kundfordran order 9106"},
                {"account": "3108", "amount": "-1000.00", "text": "Försäljning 0 %"},
            ],
        }
    }
    assert not list(tmp_path.glob("*.si"))
