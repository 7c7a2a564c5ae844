"""One masking helper for logs, the audit trail, pages and API responses.

Two defences, both always on:

* **by name** — values under keys that look secret (``password``, ``token``, ``secret``,
  ``authorization``, ``consumer_key``...) are masked wherever a mapping is shown or stored;
* **by value** — every secret the process decrypts is registered here, and :func:`scrub`
  replaces any occurrence of it in free text (log messages, exception texts, response bodies),
  so a secret echoed back by an API cannot leak either.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "••••"
_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|authori[sz]ation|api[-_]?key|consumer[-_]?key|"
    r"client[-_]?secret|access[-_]?token|refresh[-_]?token|cookie|signature|private)",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 6


def mask(value: str | None, *, keep: int = 4) -> str:
    """``••••`` plus the last ``keep`` characters (none for short values), for display."""
    if not value:
        return ""
    text = str(value)
    if len(text) <= keep * 2:
        return MASK
    return f"{MASK}{text[-keep:]}"


def is_secret_key(key: str) -> bool:
    """Whether a field named ``key`` holds a secret."""
    return bool(_SECRET_KEY.search(key))


class SecretRegistry:
    """Every secret value this process has seen, for scrubbing free text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._guard = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Remember secret values (short ones are ignored: they would mask ordinary words)."""
        fresh = {value for value in values if value and len(value) >= _MIN_SECRET_LENGTH}
        with self._guard:
            if fresh - self._values:
                self._values |= fresh
                self._pattern = None

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret replaced by its mask."""
        if not text:
            return text
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(lambda match: mask(match.group(0)), text)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._guard:
            if self._pattern is None and self._values:
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
            return self._pattern

    def clear(self) -> None:
        """Forget every registered value (tests)."""
        with self._guard:
            self._values.clear()
            self._pattern = None


registry = SecretRegistry()


def register_secrets(values: Iterable[str | None]) -> None:
    """Add values to the process-wide registry."""
    registry.add(*values)


def scrub(text: str) -> str:
    """Free text with every known secret masked."""
    return registry.scrub(text)


def mask_mapping(data: Any) -> Any:
    """A deep copy of JSON-like ``data`` with secret-named fields masked and text scrubbed."""
    if isinstance(data, Mapping):
        masked: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(key, str) and is_secret_key(key) and isinstance(value, str | int):
                masked[key] = mask(str(value))
            else:
                masked[key] = mask_mapping(value)
        return masked
    if isinstance(data, list | tuple):
        return [mask_mapping(item) for item in data]
    if isinstance(data, str):
        return scrub(data)
    return data


_QUERY_SECRET = re.compile(
    r"([?&](?:consumer_key|consumer_secret|oauth_signature|oauth_consumer_key|access_token|"
    r"client_secret|code|refresh_token|token)=)([^&#]*)",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """A URL with secret query parameters masked."""
    return scrub(_QUERY_SECRET.sub(lambda match: match.group(1) + MASK, url))


class ScrubFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message or record.args:
            record.msg = scrubbed
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            formatter = logging.Formatter()
            record.exc_text = scrub(formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_log_scrubbing(logger: logging.Logger | None = None) -> None:
    """Attach :class:`ScrubFilter` to every handler of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(existing, ScrubFilter) for existing in handler.filters):
            handler.addFilter(ScrubFilter())
