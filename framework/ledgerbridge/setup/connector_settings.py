"""Validating a connector's settings with its own marshmallow schema, secrets kept apart."""

from __future__ import annotations

import secrets as random_secrets
from typing import Any

from marshmallow import Schema, ValidationError

from ledgerbridge.masking import mask
from ledgerbridge.plugins.types import ConnectorSpec
from ledgerbridge.setup.errors import SetupError


def secret_fields(spec: ConnectorSpec) -> set[str]:
    """Fields of the connector's settings that are secrets."""
    return set(spec.secret_fields())


def _generated(schema: Schema) -> set[str]:
    return {
        name
        for name, field in schema.fields.items()
        if field.metadata.get("generate") or name == "webhook_secret"
    }


def validate(
    spec: ConnectorSpec,
    settings: dict[str, Any],
    secret_values: dict[str, str],
    *,
    existing_secrets: dict[str, str] | None = None,
    partial: bool = False,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain settings and secrets for ``spec``, validated; SetupError names bad fields.

    Secrets not given keep their stored value; secret fields marked ``generate`` (and any
    ``webhook_secret``) are generated when missing.
    """
    merged_secrets = dict(existing_secrets or {})
    merged_secrets.update({key: value for key, value in secret_values.items() if value})
    if spec.settings_schema is None:
        if settings or secret_values:
            raise SetupError(f"Connector {spec.name!r} takes no settings.")
        return {}, merged_secrets
    schema = spec.settings_schema()
    hidden = secret_fields(spec)
    for name in _generated(schema) & hidden:
        merged_secrets.setdefault(name, random_secrets.token_urlsafe(32))
    unknown = (set(settings) | set(secret_values)) - set(schema.fields)
    if unknown:
        raise SetupError(
            f"Unknown settings for {spec.title}: {', '.join(sorted(unknown))}.",
            {name: ["Unknown field."] for name in sorted(unknown)},
        )
    try:
        loaded = schema.load({**settings, **merged_secrets}, partial=partial)
    except ValidationError as error:
        raise SetupError(f"Invalid {spec.title} settings.", error.normalized_messages()) from error
    dumped = schema.dump(loaded) if not isinstance(loaded, dict) else dict(loaded)
    plain = {key: value for key, value in dumped.items() if key not in hidden}
    return _json_ready(plain), {
        key: str(merged_secrets[key]) for key in hidden if merged_secrets.get(key)
    }


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(values, default=str))


def masked_secrets(spec: ConnectorSpec | None, values: dict[str, str]) -> dict[str, str]:
    """Secret values as the UI and CLI may show them: only their last characters."""
    return {key: mask(value) for key, value in sorted(values.items())}
