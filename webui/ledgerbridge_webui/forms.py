"""Settings forms generated from a connector's marshmallow schema (so a new connector gets its
settings page without UI code), and the submitted values read back into settings and secrets.

Field metadata the forms use: ``label``, ``help``, ``secret`` (a password input that is never
filled back; only the masked last characters are shown) and ``reference`` (the kind of target
reference data offered as suggestions, e.g. ``accounts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate

#: Reference data offered for well-known field names when the schema does not say.
REFERENCE_HINTS = {
    "ways_of_delivery": "ways_of_delivery",
    "modes_of_payment": "payment_modes",
    "terms_of_payment": "terms_of_payment",
    "bank_accounts": "accounts",
    "rounding_account": "accounts",
    "voucher_series": "voucher_series",
    "price_list": "price_lists",
}
MAPPING_ROWS = 3


@dataclass
class FormField:
    """One input of a generated form."""

    name: str
    label: str
    kind: str  # text, password, checkbox, number, select, tristate, mapping, list
    help: str = ""
    required: bool = False
    value: Any = None
    masked: str = ""
    choices: list[str] = field(default_factory=list)
    reference: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _kind(schema_field: fields.Field) -> str:
    if schema_field.metadata.get("secret"):
        return "password"
    if isinstance(schema_field, fields.Boolean):
        return "tristate" if schema_field.allow_none else "checkbox"
    if isinstance(schema_field, fields.Dict):
        return "mapping"
    if isinstance(schema_field, fields.List):
        return "list"
    if isinstance(schema_field, fields.Integer | fields.Float | fields.Decimal):
        return "number"
    if _choices(schema_field):
        return "select"
    return "text"


def _choices(schema_field: fields.Field) -> list[str]:
    if isinstance(schema_field, fields.Enum):
        return [str(member.value) for member in schema_field.enum]
    for validator in schema_field.validators:
        if isinstance(validator, validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return []


def _default(schema_field: fields.Field) -> Any:
    default = schema_field.load_default
    if callable(default):
        default = default()
    if default is None or default.__class__.__name__ == "_Missing":
        return None
    return default


def _label(name: str, schema_field: fields.Field) -> str:
    return str(schema_field.metadata.get("label") or name.replace("_", " ").capitalize())


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def form_fields(
    schema_class: type[Schema] | None,
    values: Mapping[str, Any] | None = None,
    masked: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[FormField]:
    """The inputs for ``schema_class``, filled with ``values`` (secrets never filled back)."""
    if schema_class is None:
        return []
    values = values or {}
    masked = masked or {}
    errors = errors or {}
    result = []
    for name, schema_field in schema_class().fields.items():
        if schema_field.dump_only:
            continue
        kind = _kind(schema_field)
        current = values.get(name, _default(schema_field))
        item = FormField(
            name=name,
            label=_label(name, schema_field),
            kind=kind,
            help=str(schema_field.metadata.get("help") or ""),
            required=bool(schema_field.required),
            choices=_choices(schema_field),
            reference=str(schema_field.metadata.get("reference") or REFERENCE_HINTS.get(name, "")),
            errors=list(errors.get(name, [])),
        )
        if kind == "password":
            item.masked = masked.get(name, "")
        elif kind == "mapping":
            rows = [(str(k), str(_plain(v))) for k, v in dict(current or {}).items()]
            item.rows = rows + [("", "")] * MAPPING_ROWS
        elif kind == "list":
            item.value = ", ".join(str(_plain(v)) for v in (current or []))
        else:
            item.value = _plain(current)
        result.append(item)
    return result


def read_form(
    schema_class: type[Schema] | None, form: Mapping[str, Any], prefix: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The plain settings and the secrets submitted for ``schema_class``.

    Empty secret inputs mean "keep the stored value"; empty optional number or URL inputs
    mean "the default"; an empty mapping row is ignored.
    """
    if schema_class is None:
        return {}, {}
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for name, schema_field in schema_class().fields.items():
        if schema_field.dump_only:
            continue
        key = f"{prefix}{name}"
        kind = _kind(schema_field)
        if kind == "password":
            value = str(form.get(key, "")).strip()
            if value:
                secrets[name] = value
        elif kind == "checkbox":
            settings[name] = key in form
        elif kind == "tristate":
            raw = str(form.get(key, ""))
            settings[name] = None if raw == "" else raw == "true"
        elif kind == "mapping":
            settings[name] = read_mapping(form, key)
        elif kind == "list":
            raw = str(form.get(key, ""))
            settings[name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            value = str(form.get(key, "")).strip()
            if value == "" and (kind == "number" or isinstance(schema_field, fields.Url)):
                continue
            settings[name] = value
    return settings, secrets


def read_mapping(form: Mapping[str, Any], key: str) -> dict[str, str]:
    """Key → value rows submitted as repeated ``<key>-key`` and ``<key>-value`` inputs."""
    getlist = getattr(form, "getlist", None)
    keys = getlist(f"{key}-key") if getlist else []
    values = getlist(f"{key}-value") if getlist else []
    result: dict[str, str] = {}
    for left, right in zip(keys, values):
        left, right = str(left).strip(), str(right).strip()
        if left and right:
            result[left] = right
    return result
