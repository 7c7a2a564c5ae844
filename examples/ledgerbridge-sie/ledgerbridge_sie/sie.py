"""SIE 4 import files (``.si``): writing and reading vouchers.

The subset written here is what an accounting program needs to import vouchers (SIE type 4I,
``#SIETYP 4``): the header records ``#FLAGGA``, ``#PROGRAM``, ``#FORMAT PC8``, ``#GEN``,
``#SIETYP``, ``#FNAMN``, ``#ORGNR``, ``#RAR``, one ``#KONTO`` per account used, then each
``#VER`` with its ``#TRANS`` rows between braces. Files are encoded in code page 437 (what
``#FORMAT PC8`` means), lines end with CR LF, amounts use a decimal point and no thousands
separator, debit is positive and credit negative, dates are ``YYYYMMDD``.

Text fields are always quoted; a quotation mark inside one is written ``\\"``. Characters code
page 437 cannot hold become ``?`` (å, ä, ö, Å, Ä, Ö and é are all in it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ledgerbridge.money import money_sum

ENCODING = "cp437"
NEWLINE = "\r\n"


class SieFormatError(ValueError):
    """A file that is not the SIE this module writes (names the line)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One ``#TRANS`` row: an account and a signed amount (debit positive) in SEK."""

    account: str
    amount: Decimal
    day: date | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Voucher:
    """One ``#VER``: series, number, date, text and its balanced transactions."""

    series: str
    number: int
    day: date
    text: str
    transactions: tuple[Transaction, ...]
    registered: date | None = None
    sign: str = ""

    @property
    def target_id(self) -> str:
        """The voucher's id as ledgerbridge records it: series and number (``A7``)."""
        return f"{self.series}{self.number}"

    @property
    def balance(self) -> Decimal:
        """Sum of the amounts: 0.00 for a balanced voucher."""
        return money_sum(transaction.amount for transaction in self.transactions)

    def moved_on(self, prefix: str) -> Decimal:
        """The net amount booked on accounts starting with ``prefix``."""
        return money_sum(t.amount for t in self.transactions if t.account.startswith(prefix))


@dataclass(frozen=True, slots=True)
class Company:
    """The company a file belongs to (``#FNAMN``, ``#ORGNR``)."""

    name: str
    organisation_number: str = ""


@dataclass(frozen=True, slots=True)
class SieFile:
    """The content of one file: header values, account names and vouchers."""

    company: Company
    program: tuple[str, str]
    generated: date
    fiscal_year: tuple[date, date] | None
    accounts: Mapping[str, str]
    vouchers: tuple[Voucher, ...]
    header: Mapping[str, list[str]] = field(default_factory=dict)


# -- writing ----------------------------------------------------------------------------------


def quote(text: str) -> str:
    """``text`` as a quoted SIE field (control characters become spaces)."""
    clean = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in text)
    return '"' + clean.replace('"', '\\"') + '"'


def plain(text: str) -> str:
    """``text`` bare when it is a simple token (a series, a number), else quoted."""
    simple = text and all(char.isalnum() and char.isascii() for char in text)
    return text if simple else quote(text)


def amount(value: Decimal) -> str:
    """An amount with two decimals and a decimal point."""
    return f"{value.quantize(Decimal('0.01')):f}"


def sie_date(value: date) -> str:
    """``YYYYMMDD``."""
    return value.strftime("%Y%m%d")


def render(sie: SieFile) -> str:
    """The text of a file (encode it with :func:`encode`)."""
    program, version = sie.program
    lines = [
        "#FLAGGA 0",
        f"#PROGRAM {quote(program)} {quote(version)}",
        "#FORMAT PC8",
        f"#GEN {sie_date(sie.generated)}",
        "#SIETYP 4",
        f"#FNAMN {quote(sie.company.name)}",
    ]
    if sie.company.organisation_number:
        lines.append(f"#ORGNR {sie.company.organisation_number}")
    if sie.fiscal_year is not None:
        start, end = sie.fiscal_year
        lines.append(f"#RAR 0 {sie_date(start)} {sie_date(end)}")
    for account in sorted(sie.accounts):
        lines.append(f"#KONTO {account} {quote(sie.accounts[account])}")
    for voucher in sie.vouchers:
        lines.extend(_voucher_lines(voucher))
    return NEWLINE.join(lines) + NEWLINE


def _voucher_lines(voucher: Voucher) -> Iterator[str]:
    registered = sie_date(voucher.registered) if voucher.registered else '""'
    head = (
        f"#VER {plain(voucher.series)} {voucher.number} {sie_date(voucher.day)} "
        f"{quote(voucher.text)} {registered}"
    )
    yield f"{head} {quote(voucher.sign)}" if voucher.sign else head
    yield "{"
    for transaction in voucher.transactions:
        row = f"   #TRANS {transaction.account} {{}} {amount(transaction.amount)}"
        if transaction.day or transaction.text:
            day = sie_date(transaction.day) if transaction.day else '""'
            row += f" {day} {quote(transaction.text)}"
        yield row
    yield "}"


def encode(text: str) -> bytes:
    """Code page 437 bytes; characters it cannot hold become ``?``."""
    return text.encode(ENCODING, errors="replace")


# -- reading ----------------------------------------------------------------------------------


def tokens(line: str) -> list[str]:
    """The fields of one record line: quoted fields unquoted, ``{...}`` kept as one field."""
    fields: list[str] = []
    index, size = 0, len(line)
    while index < size:
        char = line[index]
        if char in " \t":
            index += 1
        elif char == '"':
            index += 1
            value: list[str] = []
            while index < size and line[index] != '"':
                if line[index] == "\\" and index + 1 < size and line[index + 1] == '"':
                    index += 1
                value.append(line[index])
                index += 1
            if index >= size:
                raise SieFormatError(f"unterminated quoted field in {line!r}")
            fields.append("".join(value))
            index += 1
        elif char == "{":
            end = line.find("}", index)
            if end < 0:
                raise SieFormatError(f"unterminated object list in {line!r}")
            fields.append(line[index : end + 1])
            index = end + 1
        else:
            end = index
            while end < size and line[end] not in " \t":
                end += 1
            fields.append(line[index:end])
            index = end
    return fields


def parse(data: bytes) -> SieFile:
    """Read a file written by :func:`render` (or any SIE 4 file with ``#VER`` records)."""
    text = data.decode(ENCODING)
    header: dict[str, list[str]] = {}
    accounts: dict[str, str] = {}
    vouchers: list[Voucher] = []
    lines = iter(enumerate(text.splitlines(), start=1))
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        fields = tokens(line)
        label = fields[0].upper()
        if label == "#KONTO":
            accounts[_field(fields, 1, number)] = fields[2] if len(fields) > 2 else ""
        elif label == "#VER":
            vouchers.append(_parse_voucher(fields, lines, number))
        elif label.startswith("#"):
            header[label] = fields[1:]
        else:
            raise SieFormatError(f"line {number}: expected a record, found {line!r}")
    program = header.get("#PROGRAM", ["", ""])
    fiscal_year = None
    if "#RAR" in header and len(header["#RAR"]) >= 3:
        fiscal_year = (_date(header["#RAR"][1], 0), _date(header["#RAR"][2], 0))
    orgnr = header.get("#ORGNR", [""])
    return SieFile(
        company=Company(name=header.get("#FNAMN", [""])[0], organisation_number=orgnr[0]),
        program=(program[0], program[1] if len(program) > 1 else ""),
        generated=_date(header.get("#GEN", ["19700101"])[0], 0),
        fiscal_year=fiscal_year,
        accounts=accounts,
        vouchers=tuple(vouchers),
        header=header,
    )


def _parse_voucher(fields: list[str], lines: Iterator[tuple[int, str]], number: int) -> Voucher:
    series = _field(fields, 1, number)
    try:
        voucher_number = int(_field(fields, 2, number))
    except ValueError as exc:
        raise SieFormatError(f"line {number}: voucher number {fields[2]!r}") from exc
    day = _date(_field(fields, 3, number), number)
    text = fields[4] if len(fields) > 4 else ""
    registered = _date(fields[5], number) if len(fields) > 5 and fields[5] else None
    sign = fields[6] if len(fields) > 6 else ""
    opening = next(lines, (number, ""))
    if opening[1].strip() != "{":
        raise SieFormatError(f"line {opening[0]}: expected {{ after #VER")
    transactions = []
    for row_number, raw in lines:
        line = raw.strip()
        if line == "}":
            break
        row = tokens(line)
        if not row or row[0].upper() != "#TRANS":
            raise SieFormatError(f"line {row_number}: expected #TRANS, found {line!r}")
        transactions.append(
            Transaction(
                account=_field(row, 1, row_number),
                amount=_decimal(_field(row, 3, row_number), row_number),
                day=_date(row[4], row_number) if len(row) > 4 and row[4] else None,
                text=row[5] if len(row) > 5 else "",
            )
        )
    else:
        raise SieFormatError(f"line {number}: #VER without a closing }}")
    return Voucher(
        series=series,
        number=voucher_number,
        day=day,
        text=text,
        transactions=tuple(transactions),
        registered=registered,
        sign=sign,
    )


def _field(fields: list[str], index: int, line: int) -> str:
    if len(fields) <= index:
        raise SieFormatError(f"line {line}: {fields[0]} has too few fields")
    return fields[index]


def _date(value: str, line: int) -> date:
    try:
        return date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except (ValueError, IndexError) as exc:
        raise SieFormatError(f"line {line}: {value!r} is not a YYYYMMDD date") from exc


def _decimal(value: str, line: int) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise SieFormatError(f"line {line}: {value!r} is not an amount") from exc


def accounts_used(vouchers: Iterable[Voucher]) -> set[str]:
    """Every account a voucher books on."""
    return {t.account for voucher in vouchers for t in voucher.transactions}
