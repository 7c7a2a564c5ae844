"""The SIE target: ledgerbridge's target contract implemented by writing SIE 4 files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ledgerbridge import hookimpl
from ledgerbridge.contexts import LedgerContext, RouteContext
from ledgerbridge.errors import ConfigError
from ledgerbridge.model import (
    AccountingDocument,
    ConnectionStatus,
    ExportResult,
    ReferenceItem,
    Totals,
)
from ledgerbridge.money import format_amount, quantize
from ledgerbridge.progress import ExportProgress
from ledgerbridge_sie.accounts import BAS_NAMES
from ledgerbridge_sie.folder import VoucherFolder, lock_name
from ledgerbridge_sie.settings import SieSettings, load_settings
from ledgerbridge_sie.sie import Voucher
from ledgerbridge_sie.vouchers import checked_voucher, voucher_payload

#: Seconds an export waits for another worker writing to the same folder (then it is retried).
LOCK_WAIT_VARIABLE = "LEDGERBRIDGE_SIE_LOCK_WAIT"


class SieTarget:
    """Implements the ``ledgerbridge_target_*`` hooks for SIE "ledgers" (output folders)."""

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger: LedgerContext) -> ConnectionStatus:
        """The folder exists (or can be created) and a file can be written in it."""
        try:
            settings = load_settings(ledger.settings)
            folder = VoucherFolder(settings)
            folder.ensure()
            probe = folder.path / f".ledgerbridge-probe-{os.getpid()}"
            probe.write_bytes(b"probe")
            probe.unlink()
        except ConfigError as exc:
            return ConnectionStatus(ok=False, message=str(exc))
        except OSError as exc:
            return ConnectionStatus(
                ok=False,
                message=f"Cannot write to {settings.output_folder} ({exc.strerror}); choose a "
                "folder the workers can write to.",
            )
        mode = "one file per day" if settings.file_mode == "per_day" else "one file per order"
        return ConnectionStatus(
            ok=True,
            message=f"Writing SIE files for {settings.company_name} to {folder.path} ({mode}).",
            details={"vouchers": str(sum(1 for _ in folder.vouchers()))},
        )

    @hookimpl
    def ledgerbridge_target_reference_data(
        self, ledger: LedgerContext, kind: str
    ) -> list[ReferenceItem]:
        """BAS account names and the voucher series (SIE files carry no other reference data)."""
        if kind == "accounts":
            return [ReferenceItem(code=code, name=name) for code, name in sorted(BAS_NAMES.items())]
        if kind == "voucher_series":
            series = load_settings(ledger.settings).voucher_series
            return [ReferenceItem(code=series, name=f"Serie {series}")]
        return []

    @hookimpl
    def ledgerbridge_target_find_document(
        self, ledger: LedgerContext, document: AccountingDocument
    ) -> ExportResult | None:
        """The voucher whose text starts with the document's reference, in any file."""
        settings = load_settings(ledger.settings)
        found = VoucherFolder(settings).find(document.reference)
        return _result(document, *found) if found else None

    @hookimpl
    def ledgerbridge_target_export_document(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        progress: ExportProgress,
    ) -> ExportResult:
        """Write the document's journal as one voucher (invoices, cash sales, daily summaries)."""
        settings = load_settings(ledger.settings)
        payload = voucher_payload(document, route, settings)
        return _write(ledger, settings, document, payload, progress, step="voucher")

    @hookimpl
    def ledgerbridge_target_export_credit_note(
        self,
        ledger: LedgerContext,
        route: RouteContext,
        document: AccountingDocument,
        original: ExportResult,
        progress: ExportProgress,
    ) -> ExportResult:
        """Write the reversing voucher; its text names the voucher it corrects."""
        settings = load_settings(ledger.settings)
        payload = voucher_payload(document, route, settings, corrects=original.target_id)
        result = _write(ledger, settings, document, payload, progress, step="credit_voucher")
        return result.replace(details={**result.details, "corrects": original.target_id})

    @hookimpl
    def ledgerbridge_target_build_payloads(
        self, ledger: LedgerContext, route: RouteContext, document: AccountingDocument
    ) -> dict[str, Any]:
        """The voucher that would be written (numbered when written); nothing is written."""
        settings = load_settings(ledger.settings)
        payload = voucher_payload(document, route, settings)
        checked_voucher(payload, document)
        return {"voucher": payload}


def _write(
    ledger: LedgerContext,
    settings: SieSettings,
    document: AccountingDocument,
    payload: dict[str, Any],
    progress: ExportProgress,
    *,
    step: str,
) -> ExportResult:
    voucher = checked_voucher(payload, document)
    accounts = {line.account: line.description for line in document.journal}
    folder = VoucherFolder(settings)

    def write() -> dict[str, str]:
        path, written = folder.add(voucher, accounts)
        return _step(path, written)

    def recover() -> dict[str, str] | None:
        found = folder.find(document.reference)
        return _step(*found) if found else None

    # Numbering reads every file and writes one: one writer per folder at a time.
    wait = float(os.environ.get(LOCK_WAIT_VARIABLE, "30"))
    with ledger.services.lock(lock_name(settings), timeout=120, wait=wait):
        state = progress.run(step, write, recover=recover)
    found = folder.find(document.reference)
    if found is None:
        raise ConfigError(
            f"Voucher {state['target_id']} for {document.reference} was written to "
            f"{state['file']} but is no longer there; was the file moved away?"
        )
    return _result(document, *found)


def _step(path: Path, voucher: Voucher) -> dict[str, str]:
    return {"target_id": voucher.target_id, "file": path.name}


def _result(document: AccountingDocument, path: Path, voucher: Voucher) -> ExportResult:
    """The export result of a written voucher, with its totals read back from the file."""
    total = abs(voucher.moved_on("1"))
    vat = abs(voucher.moved_on("26"))
    expected = quantize(document.total * document.sek_rate)
    review = ""
    if total != expected:
        review = (
            f"Voucher {voucher.target_id} books {format_amount(total)} SEK on asset accounts; "
            f"the document is {format_amount(expected)} SEK."
        )
    return ExportResult(
        target_id=voucher.target_id,
        document_kind="voucher",
        totals=Totals(total=total, vat=vat, currency="SEK"),
        review=review,
        details={"file": path.name, "folder": str(path.parent)},
    )
