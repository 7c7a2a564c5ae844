"""The SIE target passes ledgerbridge's target conformance suite."""

from __future__ import annotations

from collections.abc import Callable

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.model import JournalLine
from ledgerbridge.testing.conformance import StoredDocument, TargetConformance
from ledgerbridge_sie.folder import VoucherFolder, lock_name
from ledgerbridge_sie.settings import load_settings
from ledgerbridge_sie.target import LOCK_WAIT_VARIABLE
from ledgerbridge_sie.vouchers import corrected_by, reference_of


class TestSieConformance(TargetConformance):
    connector = "sie"
    not_applicable = {
        "fixture:zero_total": "a zero-total order has no transactions, and SIE importers refuse "
        "empty vouchers: the target refuses it as a data error (routes skip zero totals by "
        "default)",
    }

    def ledger_context(self, request):
        # a short lock wait, so the transient check does not wait 30 s for a busy folder
        request.getfixturevalue("monkeypatch").setenv(LOCK_WAIT_VARIABLE, "0.2")
        folder = request.getfixturevalue("tmp_path") / "sie"
        return memory_ledger(
            connector="sie",
            settings={
                "output_folder": str(folder),
                "company_name": "Kaffebolaget i Åre AB",
                "organisation_number": "5566778899",
            },
        )

    def stored_documents(self, ledger) -> list[StoredDocument]:
        folder = VoucherFolder(load_settings(ledger.settings))
        return [
            StoredDocument(
                target_id=voucher.target_id,
                reference=reference_of(voucher),
                total=abs(voucher.moved_on("1")),
                currency="SEK",
                kind="voucher",
                corrects=corrected_by(voucher),
            )
            for _, voucher in folder.vouchers()
        ]

    def provoke_data_error(self, ledger, route, document):
        # an account an importing program cannot know (not four digits)
        first, *rest = document.journal
        broken = JournalLine(account="15100", debit=first.debit, credit=first.credit)
        return document.replace(journal=(broken, *rest))

    def provoke_transient_error(self, ledger, route, document) -> Callable[[], None]:
        # another worker is writing to the folder (and keeps at it for longer than we wait)
        held = ledger.services.lock(lock_name(load_settings(ledger.settings)))
        held.__enter__()
        return lambda: held.__exit__(None, None, None)
