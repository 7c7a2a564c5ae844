"""Helpers the page blueprints share: the runtime, form errors, formatting for templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask, current_app, flash
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from ledgerbridge.masking import scrub
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup.errors import SetupError

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T = TypeVar("T")
PAGE_SIZE = 50


def runtime() -> Runtime:
    """The runtime of the app serving this request."""
    return current_app.extensions["ledgerbridge"]


def apply_setup(work: Callable[[Session], T]) -> tuple[T | None, dict[str, list[str]]]:
    """Run a configuration change in one transaction: its result and no errors, or None and
    the refused fields (the refusal is flashed; nothing was changed)."""
    try:
        with runtime().transaction() as session:
            return work(session), {}
    except SetupError as error:
        return None, flash_setup_error(error)


def flash_setup_error(error: SetupError) -> dict[str, list[str]]:
    """Flash a refused configuration and return its per-field messages for the form."""
    flash(scrub(error.args[0]), "error")
    return {name: _messages(value) for name, value in error.fields.items()}


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {' '.join(_messages(item))}" for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [scrub(str(value))]


def state_label(state: str) -> str:
    """An export state in the user's language."""
    labels = {
        "pending": _("Pending"),
        "running": _("Running"),
        "retrying": _("Retrying"),
        "waiting_quota": _("Waiting for quota"),
        "in_summary": _("In daily summary"),
        "done": _("Done"),
        "needs_review": _("Needs review"),
        "failed": _("Failed"),
        "skipped": _("Skipped"),
        "resolved": _("Resolved"),
    }
    return labels.get(state, state)


def local_time(moment: datetime | None, with_seconds: bool = False) -> str:
    """A moment in Stockholm time, ISO-like."""
    if moment is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M"
    return moment.astimezone(STOCKHOLM).strftime(fmt)


def money(value: Any, currency: str = "") -> str:
    """An amount with two decimals and a thin space between thousands."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}".replace(",", "\u202f")
    return f"{text} {currency}".strip()


def badge(state: str) -> Markup:
    """A coloured label for an export state."""
    return Markup('<span class="badge badge-{0}">{1}</span>').format(state, state_label(state))


def install_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["badge"] = badge
    app.jinja_env.globals["state_label"] = state_label
