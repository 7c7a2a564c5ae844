"""Reading ``ledgerbridge preview``'s input files: the raw order, refunds and the route file.

Every problem raises :class:`click.UsageError` (exit code 2) with a message naming the file and
the field, before anything is built.

The route file (``--settings ROUTE.json``) is a JSON object holding the route's accounting
settings (the fields of :class:`~ledgerbridge.model.route.RouteSettings`) plus three optional
keys::

    {
      "default_document_type": "cash_sale",
      "payment_accounts": {"stripe": "1580"},
      "accounts": {"oss_sales:DE": "3161", "oss_vat:DE": "2671"},
      "manual_rates": {"EUR": "11.20"},
      "site": {"reference_prefix": "WEB-", "oss_registered": true, "settings": {}},
      "target": {"...": "the target connector's own route settings"},
      "route_id": 1
    }
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from marshmallow import Schema, ValidationError

from ledgerbridge.model.route import RouteSettings, RouteSettingsSchema

SITE_KEYS = {"reference_prefix": str, "oss_registered": bool, "settings": dict}
EXTRA_KEYS = ("site", "target", "route_id")
#: Where a source's normalizer finds full refund objects inside a raw order (the convention
#: the WooCommerce connector's ``fetch_order`` follows).
REFUNDS_KEY = "ledgerbridge_refunds"


@dataclass(frozen=True)
class RouteFile:
    """The route file's content, validated."""

    settings: RouteSettings = field(default_factory=RouteSettings)
    site: Mapping[str, Any] = field(default_factory=dict)
    target: Mapping[str, Any] = field(default_factory=dict)
    route_id: int = 0


def read_json(path: Path, option: str) -> Any:
    """The JSON content of ``path``; a usage error naming ``option`` when it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"{option} {path}: cannot be read ({error}).") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.UsageError(
            f"{option} {path}: not JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from error


def single_order(data: Any, path: Path) -> dict[str, Any]:
    """The one order in an order file (an object, or a list holding one object)."""
    if isinstance(data, list):
        if len(data) != 1:
            ids = ", ".join(str(item.get("id")) for item in data if isinstance(item, dict))
            raise click.UsageError(
                f"--order-file {path}: holds {len(data)} orders ({ids}); pass a file with one."
            )
        data = data[0]
    if not isinstance(data, dict):
        raise click.UsageError(f"--order-file {path}: must be a JSON object (one order).")
    return data


def refunds(data: Any, path: Path) -> list[dict[str, Any]]:
    """The refund objects of a refund file (an object or a list of objects, each with an id)."""
    items = data if isinstance(data, list) else [data]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise click.UsageError(f"--refund-file {path}: item {index} is not a JSON object.")
        if "id" not in item:
            raise click.UsageError(f"--refund-file {path}: item {index} has no 'id'.")
    if not items:
        raise click.UsageError(f"--refund-file {path}: holds no refunds.")
    return items


def _messages(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, Mapping):
        result: list[str] = []
        for key, value in errors.items():
            result.extend(_messages(value, f"{prefix}{key}."))
        return result
    if isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        return [f"{prefix.rstrip('.')}: {' '.join(errors)}"]
    return [f"{prefix.rstrip('.')}: {errors}"]


def validation_message(error: ValidationError, source: str) -> str:
    """A marshmallow error as one line per field, prefixed with where it came from."""
    return f"{source}: " + "; ".join(_messages(error.messages))


def route_file(data: Any, path: Path) -> RouteFile:
    """The validated route file."""
    source = f"--settings {path}"
    if not isinstance(data, dict):
        raise click.UsageError(f"{source}: must be a JSON object.")
    known = set(RouteSettingsSchema().fields) | set(EXTRA_KEYS)
    unknown = sorted(key for key in data if key not in known)
    if unknown:
        raise click.UsageError(f"{source}: unknown field(s) {', '.join(unknown)}.")
    settings_data = {key: value for key, value in data.items() if key not in EXTRA_KEYS}
    try:
        settings = RouteSettingsSchema().load(settings_data)
    except ValidationError as error:
        raise click.UsageError(validation_message(error, source)) from error
    site = data.get("site", {})
    if not isinstance(site, dict):
        raise click.UsageError(f"{source}: site must be an object.")
    for key, value in site.items():
        expected = SITE_KEYS.get(key)
        if expected is None:
            raise click.UsageError(
                f"{source}: site.{key} is not a site setting ({', '.join(SITE_KEYS)})."
            )
        if not isinstance(value, expected):
            raise click.UsageError(f"{source}: site.{key} must be a {expected.__name__}.")
    target = data.get("target", {})
    if not isinstance(target, dict):
        raise click.UsageError(f"{source}: target must be an object.")
    route_id = data.get("route_id", 0)
    if not isinstance(route_id, int) or isinstance(route_id, bool) or route_id < 0:
        raise click.UsageError(f"{source}: route_id must be a whole number.")
    return RouteFile(settings=settings, site=site, target=target, route_id=route_id)


def target_settings(
    schema: type[Schema] | None, data: Mapping[str, Any], path: Path | None
) -> Mapping[str, Any]:
    """The target's route settings, checked by its own ``route_schema`` when it has one.

    The raw data is returned: targets load their settings from it themselves.
    """
    if schema is not None:
        try:
            schema().load(dict(data))
        except ValidationError as error:
            where = f"--settings {path}" if path else "target settings"
            raise click.UsageError(validation_message(error, f"{where}: target")) from error
    return dict(data)
