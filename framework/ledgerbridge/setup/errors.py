"""The error raised for configuration the user must correct."""

from __future__ import annotations

from typing import Any


class SetupError(ValueError):
    """Configuration refused; ``fields`` maps field names to messages (for forms and JSON)."""

    def __init__(self, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        text = self.args[0]
        if self.fields:
            details = "; ".join(f"{name}: {_flatten(value)}" for name, value in self.fields.items())
            return f"{text} ({details})"
        return text


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(item) for item in value)
    return str(value)
