"""The failure taxonomy every part of ledgerbridge speaks.

An export that fails is classed so the user knows what to do:

* ``config``    — the user must act (reconnect, fix a setting); never retried by itself.
* ``transient`` — rate limit, 5xx, timeout; retried with backoff.
* ``data``      — the order cannot be booked as it is; it waits for review.
* ``bug``       — anything unexpected; shown with a reference, never silently retried forever.

Connectors raise these; the pipeline catches them. Messages are shown to users, so they must say
what went wrong in plain words and must never contain a secret.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

FailureClass = Literal["config", "transient", "data", "bug"]


class LedgerbridgeError(Exception):
    """Base class of every error ledgerbridge raises on purpose."""


class ExportError(LedgerbridgeError):
    """An export step failed; ``failure_class`` says what happens next."""

    failure_class: ClassVar[FailureClass] = "bug"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})

    def __str__(self) -> str:
        return self.message


class ConfigError(ExportError):
    """The user must change something (credentials, a mapping, a plan) before this can work."""

    failure_class = "config"


class ReconnectNeeded(ConfigError):
    """The ledger's authorization is gone (revoked or expired refresh token); reconnect it."""


class TransientError(ExportError):
    """A temporary condition (429, 5xx, timeout, lock contention); retrying later should work.

    ``refused=True`` says the remote certainly did nothing (a 429, or a connection refused
    before the request was sent); a timeout or a 5xx after sending leaves the outcome unknown.
    """

    failure_class = "transient"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        refused: bool = False,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after
        self.refused = refused


class DataError(ExportError):
    """The order cannot be booked as it stands (bad VAT, unknown scenario); needs review."""

    failure_class = "data"


class NotFound(LedgerbridgeError):
    """The requested object does not exist in the remote system."""


class PluginError(LedgerbridgeError):
    """A plugin failed to load or conflicts with another; the message names its distribution."""


class WebhookRejected(LedgerbridgeError):
    """A webhook delivery was refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def failure_class_of(error: BaseException) -> FailureClass:
    """The failure class of any exception: taxonomy errors carry theirs, the rest are bugs."""
    if isinstance(error, ExportError):
        return error.failure_class
    return "bug"
