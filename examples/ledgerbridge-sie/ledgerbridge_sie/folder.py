"""The output folder: where vouchers are numbered, written and found again.

The files are the only truth: a voucher's number is one more than the highest in its series
over every file, and a voucher is found again by the reference at the start of its text. A
file is always rewritten whole into a temporary file and renamed over the old one, so a reader
(or a worker killed halfway) never sees half a file. Callers hold the folder's lock
(:func:`lock_name`) around numbering and writing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ledgerbridge.errors import ConfigError, TransientError
from ledgerbridge_sie import __version__
from ledgerbridge_sie.accounts import account_name
from ledgerbridge_sie.settings import SieSettings
from ledgerbridge_sie.sie import Company, SieFile, SieFormatError, Voucher, encode, parse, render
from ledgerbridge_sie.vouchers import reference_of

SUFFIX = ".si"
PROGRAM = ("ledgerbridge-sie", __version__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def lock_name(settings: SieSettings) -> str:
    """The shared lock of a folder (ledgers writing to one folder share it)."""
    return f"sie-folder:{settings.output_folder.resolve()}"


class VoucherFolder:
    """The ``.si`` files of one output folder."""

    def __init__(self, settings: SieSettings) -> None:
        self.settings = settings
        self.path = settings.output_folder

    def ensure(self) -> None:
        """Create the folder; ``ConfigError`` when that is impossible."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"The SIE output folder {self.path} cannot be created ({exc.strerror}); "
                "choose a folder the workers can write to."
            ) from exc
        if not self.path.is_dir():
            raise ConfigError(f"The SIE output folder {self.path} is not a folder.")

    def files(self) -> list[Path]:
        """Every ``.si`` file, by name."""
        if not self.path.is_dir():
            return []
        return sorted(path for path in self.path.iterdir() if path.suffix.lower() == SUFFIX)

    def read(self, path: Path) -> SieFile:
        """One file; a file that cannot be read is a config error naming it."""
        try:
            return parse(path.read_bytes())
        except (OSError, SieFormatError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{path} is not an SIE file ledgerbridge can read ({exc}); move it out of the "
                "output folder."
            ) from exc

    def vouchers(self) -> Iterator[tuple[Path, Voucher]]:
        """Every voucher with the file it is in."""
        for path in self.files():
            for voucher in self.read(path).vouchers:
                yield path, voucher

    def find(self, reference: str) -> tuple[Path, Voucher] | None:
        """The voucher written for ``reference`` (an exact match), or None."""
        for path, voucher in self.vouchers():
            if reference_of(voucher) == reference:
                return path, voucher
        return None

    def add(self, voucher: Voucher, accounts: dict[str, str]) -> tuple[Path, Voucher]:
        """Number ``voucher``, write it into its file, and return where it went.

        ``accounts`` names the accounts it books on (for the ``#KONTO`` records).
        """
        self.ensure()
        numbers = [
            existing.number for _, existing in self.vouchers() if existing.series == voucher.series
        ]
        numbered = replace(
            voucher,
            number=max(numbers, default=0) + 1,
            registered=datetime.now(UTC).date(),
            sign="ledgerbridge",
        )
        path = self.path / self.file_name(numbered)
        existing = self.read(path) if path.exists() else None
        previous = existing.vouchers if existing is not None else ()
        known = dict(existing.accounts) if existing is not None else {}
        for account, name in accounts.items():
            known.setdefault(account, account_name(account, name))
        content = SieFile(
            company=Company(self.settings.company_name, self.settings.organisation_number),
            program=PROGRAM,
            generated=datetime.now(UTC).date(),
            fiscal_year=self.fiscal_year(numbered.day),
            accounts=known,
            vouchers=(*previous, numbered),
        )
        self._write(path, encode(render(content)))
        return path, numbered

    def file_name(self, voucher: Voucher) -> str:
        """``ledgerbridge-YYYYMMDD.si`` per day; per order the voucher and reference follow."""
        day = voucher.day.strftime("%Y%m%d")
        if self.settings.file_mode == "per_order":
            reference = _UNSAFE.sub("_", reference_of(voucher))[:60]
            return f"ledgerbridge-{day}-{voucher.target_id}-{reference}{SUFFIX}"
        return f"ledgerbridge-{day}{SUFFIX}"

    def fiscal_year(self, day: date) -> tuple[date, date]:
        """The financial year holding ``day`` (for ``#RAR 0``)."""
        month = self.settings.fiscal_year_start_month
        start_year = day.year if day.month >= month else day.year - 1
        return date(start_year, month, 1), date(start_year + 1, month, 1) - timedelta(days=1)

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        replaced = False
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            replaced = True
            directory = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            # Before the rename nothing changed (refused: simply retry); after it the voucher
            # may be on disk, so the step stays in doubt and a retry looks it up first.
            raise TransientError(
                f"Writing {path.name} failed ({exc.strerror}); will retry.", refused=not replaced
            ) from exc
