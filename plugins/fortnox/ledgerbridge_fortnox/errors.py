"""Fortnox error bodies, read in both casings and classed into ledgerbridge's failure classes.

Fortnox answers errors as ``{"ErrorInformation": {"error": 1, "message": "…", "code": N}}``;
404s use PascalCase keys (``Error``/``Message``/``Code``), validation errors lower case, and
401 or outages answer without ``ErrorInformation`` at all. :func:`error_for` turns any such
response into a ``ConfigError`` (the user must act), ``TransientError`` (retry later),
``DataError`` (this document needs review) or ``NotFound``, with Fortnox's own message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import (
    ConfigError,
    DataError,
    LedgerbridgeError,
    NotFound,
    ReconnectNeeded,
    TransientError,
)

#: Codes whose cure is a change of settings, licences or authorization (never retried).
CONFIG_CODES: dict[int, str] = {
    1000030: "the request asked for an unsupported response type",
    1000031: "the request used an unsupported content type",
    2000310: "the login was refused",
    2000311: "the login was refused",
    2000401: "the period is locked in Fortnox; unlock it or change the document date",
    2000429: "the terms of payment do not exist in Fortnox; fix the route's terms of payment",
    2000663: "the connection lacks a permission (scope); reconnect Fortnox to grant it",
    2001101: "the company has no licence for this Fortnox module",
    2001103: "the company has no Fortnox API licence",
    2001304: "an account does not exist in Fortnox; fix the account mapping of the route",
    2001339: "the Fortnox user lacks permission for this",
}

#: Codes that mean "try again later".
TRANSIENT_CODES: dict[int, str] = {
    1000003: "Fortnox had an internal error",
}

#: Codes that mean the object asked for does not exist.
NOT_FOUND_CODES = frozenset({2000204, 2000428, 2000432, 2000433, 2000434, 2000439, 2001161})

#: Known data problems (the document must be reviewed); unknown 4xx codes are classed alike.
DATA_CODES: dict[int, str] = {
    2000106: "a value must be alphanumeric",
    2000108: "a value must be numeric",
    2000134: "a value must be true or false",
    2000359: "a text contains characters Fortnox does not allow",
    2000587: "an invalid filter was used",
    2000588: "an invalid query parameter was used",
    2000637: "the customer number is already used",
    2001089: "the payment date is before the invoice date",
    2001302: "an article on a row does not exist in Fortnox",
    2001392: "the request body was empty or of the wrong type",
    2001399: "a field name is unknown to Fortnox",
    2002115: "the request body was not valid JSON",
    2003055: "the invoice is already paid",
    2003125: "a completed document cannot be changed",
    2003977: "a row with a quantity lacks a description or an article",
    2004167: "a row with a custom VAT rate needs an account",
}


@dataclass(frozen=True, slots=True)
class FortnoxErrorBody:
    """The parts of a Fortnox error body, whatever its casing."""

    code: int | None
    message: str


def parse_error_body(content: bytes | str) -> FortnoxErrorBody:
    """Read ``ErrorInformation`` (either casing), an OAuth error or a bare ``message``."""
    try:
        data: Any = json.loads(content or b"{}")
    except ValueError:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        return FortnoxErrorBody(None, text.strip()[:300])
    if not isinstance(data, dict):
        return FortnoxErrorBody(None, str(data)[:300])
    info = data.get("ErrorInformation") or data.get("errorInformation") or data
    if not isinstance(info, dict):
        return FortnoxErrorBody(None, str(info)[:300])
    message = _first(info, "message", "Message", "error_description", "error") or ""
    raw_code = _first(info, "code", "Code")
    try:
        code = int(raw_code) if raw_code not in (None, "") else None
    except (TypeError, ValueError):
        code = None
    return FortnoxErrorBody(code, str(message))


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def error_for(
    status: int, content: bytes, *, what: str, retry_after: float | None = None
) -> LedgerbridgeError:
    """The ledgerbridge error for a failed Fortnox response; ``what`` names the request."""
    body = parse_error_body(content)
    shown = f"Fortnox: {body.message}" + (f" (code {body.code})" if body.code else "")
    if status == 429:
        # Refused: Fortnox did nothing, so the request may be sent again as it is.
        return TransientError(
            f"Fortnox's rate limit was reached while {what}; will retry.",
            retry_after=retry_after if retry_after is not None else 5.0,
            refused=True,
        )
    if status == 401:
        return ReconnectNeeded(
            f"Fortnox refused the authorization while {what}. Reconnect Fortnox in the ledger "
            "settings."
        )
    code = body.code
    if code in TRANSIENT_CODES or status >= 500:
        return TransientError(f"Fortnox could not answer while {what} ({status}); will retry.")
    if code in NOT_FOUND_CODES or (status == 404 and code is None):
        return NotFound(f"{shown} — while {what}.")
    if code in CONFIG_CODES:
        return ConfigError(f"{shown} — {CONFIG_CODES[code]}.", details={"code": code})
    if status == 403:
        return ConfigError(
            f"{shown} — Fortnox denied access while {what}; check the company's licences and "
            "reconnect if needed.",
            details={"code": code},
        )
    hint = DATA_CODES.get(code or 0)
    suffix = f" — {hint}." if hint else f" — while {what}."
    return DataError(f"{shown}{suffix}", details={"code": code, "status": status})
