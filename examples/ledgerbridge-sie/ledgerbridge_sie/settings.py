"""The ledger settings of an SIE "ledger": where files go and whose they are.

The schema is what the web UI turns into the ledger's settings form and what
``ledgerbridge ledgers add --connector sie --setting ...`` validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates
from stdnum.se import orgnr

from ledgerbridge.errors import ConfigError

FILE_MODES = ("per_day", "per_order")


@dataclass(frozen=True, slots=True)
class SieSettings:
    """Validated settings of one SIE ledger."""

    output_folder: Path
    company_name: str
    organisation_number: str = ""
    file_mode: str = "per_day"
    voucher_series: str = "A"
    fiscal_year_start_month: int = 1


class SieSettingsSchema(Schema):
    """Settings of an SIE ledger (drives the settings form)."""

    output_folder = fields.String(
        required=True,
        metadata={
            "label": "Output folder",
            "help": "Folder the .si files are written to (created when missing). "
            "Every worker must see the same folder.",
        },
    )
    company_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"label": "Company name", "help": "Written as #FNAMN."},
    )
    organisation_number = fields.String(
        load_default="",
        metadata={
            "label": "Organisation number",
            "help": "Swedish organisation number (#ORGNR), e.g. 556677-8899.",
        },
    )
    file_mode = fields.String(
        load_default="per_day",
        validate=validate.OneOf(FILE_MODES),
        metadata={
            "label": "Files",
            "help": "per_day: one file per booking date; per_order: one file per document.",
        },
    )
    voucher_series = fields.String(
        load_default="A",
        validate=validate.Regexp(r"^[A-Z0-9]{1,4}$", error="Use 1-4 capital letters or digits."),
        metadata={"label": "Voucher series", "help": "Series of the #VER records."},
    )
    fiscal_year_start_month = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=12),
        metadata={
            "label": "First month of the financial year",
            "help": "1 for a calendar year; decides the #RAR record.",
        },
    )

    @validates("organisation_number")
    def _valid_orgnr(self, value: str, **kwargs: Any) -> None:
        if value and not orgnr.is_valid(value):
            raise ValidationError(f"{value!r} is not a valid Swedish organisation number.")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> SieSettings:
        number = data["organisation_number"]
        data["organisation_number"] = orgnr.format(number) if number else ""
        data["output_folder"] = Path(data["output_folder"]).expanduser()
        return SieSettings(**data)


def load_settings(values: Mapping[str, Any]) -> SieSettings:
    """The ledger's settings, or ``ConfigError`` naming what to fix."""
    try:
        return SieSettingsSchema().load(dict(values))
    except ValidationError as exc:
        problems = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in _flat(exc))
        raise ConfigError(f"The SIE ledger settings are not valid: {problems}") from exc


def _flat(exc: ValidationError) -> list[tuple[str, list[Any]]]:
    messages = exc.normalized_messages()
    return [
        (name, errors if isinstance(errors, list) else [errors])
        for name, errors in sorted(messages.items())
    ]
