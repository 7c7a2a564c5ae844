"""Helpers shared by the CLI commands: the runtime, JSON output, KEY=VALUE options."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any

import click

from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, current, install
from ledgerbridge.setup.errors import SetupError

ACTOR = f"cli:{os.environ.get('USER', 'unknown')}"


def runtime() -> Runtime:
    """This process's runtime (built from the environment once)."""
    return current()


def fresh_runtime(**overrides: Any) -> Runtime:
    """A runtime from the environment with ``overrides``, installed for this process."""
    built = Runtime(load_config(**overrides))
    install(built)
    return built


def emit(data: Any, as_json: bool, human: Any = None) -> None:
    """Print ``data`` as JSON, or ``human`` (a string or callable) for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    elif callable(human):
        human()
    else:
        click.echo(human if human is not None else json.dumps(data, indent=2, default=str))


def pairs(values: Iterable[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict.

    JSON objects, arrays, ``true``, ``false`` and ``null`` are decoded; everything else stays a
    string (account numbers such as ``1930`` are strings, and schemas convert numbers).
    """
    result: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        text = value.strip()
        if text[:1] in ("{", "[") or text in ("true", "false", "null"):
            try:
                result[key.strip()] = json.loads(text)
                continue
            except ValueError as error:
                raise click.BadParameter(f"{key}: {error}", param_hint=option) from error
        result[key.strip()] = value
    return result


def secret_pairs(values: Iterable[str], from_stdin: bool) -> dict[str, str]:
    """Secrets from ``--secret KEY=VALUE`` and, with ``--secrets-stdin``, a JSON object on stdin.

    Stdin keeps secrets out of shell history and the process list.
    """
    secrets = {key: str(value) for key, value in pairs(values, "--secret").items()}
    if from_stdin:
        try:
            data = json.loads(sys.stdin.read() or "{}")
        except ValueError as error:
            raise click.BadParameter(f"stdin is not a JSON object: {error}") from error
        if not isinstance(data, dict):
            raise click.BadParameter("stdin must hold a JSON object of secrets")
        secrets.update({str(key): str(value) for key, value in data.items()})
    return secrets


def table(rows: list[list[str]]) -> None:
    """Print rows as aligned columns (the first row is the header)."""
    if not rows:
        return
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


class SetupErrors(click.ClickException):
    """A SetupError shown as a CLI error (exit code 2) with its field messages."""

    exit_code = 2

    def __init__(self, error: SetupError) -> None:
        super().__init__(str(error))
