"""JSON with exact numbers: APIs want amounts as JSON numbers, ledgerbridge keeps Decimals.

Payload dicts hold ``Decimal`` amounts; :func:`dumps` writes them as JSON numbers digit for
digit (no float on the way), and :func:`loads` reads numbers back as ``Decimal``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\u0000dec:"
_PATTERN = re.compile(r'"\\u0000dec:(-?\d+(?:\.\d+)?(?:E[+-]?\d+)?)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return f"{_MARK}{value:f}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    """``payload`` as UTF-8 JSON, Decimals written as exact JSON numbers."""
    return dumps_text(payload).encode("utf-8")


def dumps_text(payload: Any, *, indent: int | None = None) -> str:
    """``payload`` as JSON text (compact, or indented for people), Decimals as exact numbers."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        payload, default=_default, ensure_ascii=False, separators=separators, indent=indent
    )
    return _PATTERN.sub(lambda match: match.group(1), text)


def loads(content: bytes | str) -> Any:
    """JSON with every non-integer number parsed as ``Decimal``."""
    return json.loads(content, parse_float=Decimal)
