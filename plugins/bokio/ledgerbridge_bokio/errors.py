"""Bokio's error answers, turned into ledgerbridge's failure classes with Bokio's own words.

Bokio answers errors in two shapes (reference §3.1): the flat ``apiError``
``{"code", "message", "bokioErrorId", "errors": [{"field": "#/...", "message"}]}`` and, on older
pages and for plan gating, ``{"error": {...}}`` or ``{"error": "price_plan_feature_required",
"message", "details"}``. 401/403/429 may come with no body at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledgerbridge.errors import ConfigError, DataError, ExportError, ReconnectNeeded, TransientError
from ledgerbridge.masking import scrub

RETRY_AFTER_HEADERS = (
    "Bokio-RateLimit-RetryAfter",
    "X-Bokio-RateLimit-RetryAfter",
    "Retry-After",
)


class QuotaExceeded(TransientError):
    """Bokio's request quota is used up: retry only after ``retry_after``, never at once."""


@dataclass(frozen=True, slots=True)
class BokioError:
    """One parsed Bokio error body."""

    status: int
    code: str = ""
    message: str = ""
    inner_code: str = ""
    error_id: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Bokio's message with its field errors, for the user."""
        parts = [self.message or f"HTTP {self.status}"]
        if self.fields:
            parts.append("; ".join(f"{name}: {message}" for name, message in self.fields))
        if self.error_id:
            parts.append(f"(Bokio error id {self.error_id})")
        return scrub(" ".join(parts))


def parse_error(response: httpx.Response) -> BokioError:
    """Parse either error shape; tolerate empty or non-JSON bodies."""
    try:
        body = json.loads(response.content) if response.content else {}
    except ValueError:
        body = {"message": response.text[:300]}
    if not isinstance(body, dict):
        body = {}
    nested = body.get("error")
    if isinstance(nested, dict):
        body = {**nested, **{k: v for k, v in body.items() if k != "error"}}
        code = str(nested.get("code") or "")
    elif isinstance(nested, str):
        code = nested
        if not body.get("message") and body.get("error_description"):
            body["message"] = body["error_description"]
    else:
        code = str(body.get("code") or "")
    fields_ = tuple(
        (str(item.get("field") or ""), str(item.get("message") or ""))
        for item in body.get("errors") or []
        if isinstance(item, dict)
    )
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return BokioError(
        status=response.status_code,
        code=code,
        message=str(body.get("message") or ""),
        inner_code=str(body.get("innerCode") or ""),
        error_id=str(body.get("bokioErrorId") or ""),
        fields=fields_,
        details=dict(details or {}),
    )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from Bokio's rate-limit headers (either spelling) or Retry-After."""
    for name in RETRY_AFTER_HEADERS:
        value = response.headers.get(name)
        if value:
            try:
                return max(float(value), 0.0)
            except ValueError:
                continue
    return None


def _is_account_field(name: str) -> bool:
    last = name.rsplit("/", 1)[-1].lower()
    return last in {"account", "bookkeepingaccountnumber"}


def error_for(response: httpx.Response, *, public: bool, what: str) -> ExportError:
    """The ledgerbridge error for a Bokio error answer to the request ``what``."""
    parsed = parse_error(response)
    status = parsed.status
    text = parsed.text()
    details = {"status": status, "code": parsed.code, "bokio_error_id": parsed.error_id}
    if parsed.fields:
        details["fields"] = dict(parsed.fields)
    if status == 401:
        if public:
            return ReconnectNeeded(
                f"Bokio refused the authorization ({text}). Reconnect the company in ledgerbridge.",
                details=details,
            )
        return ConfigError(
            f"Bokio refused the integration token ({text}). Create a new private integration "
            "token in Bokio (Settings → Integrations) and save it in the ledger settings.",
            details=details,
        )
    if status == 403:
        if parsed.code == "quota-exceeded":
            return QuotaExceeded(
                f"Bokio's request quota is used up: {text}",
                retry_after=retry_after(response),
                details=details,
            )
        if parsed.code == "price_plan_feature_required":
            plans = ", ".join(map(str, parsed.details.get("availableIn") or []))
            return ConfigError(
                f"The company's Bokio plan does not include the API ({text})."
                + (f" Available in: {plans}." if plans else ""),
                details=details,
            )
        return ConfigError(
            f"Bokio denied {what} ({text}): the plan lacks API access or the integration "
            "lacks the scope for it.",
            details=details,
        )
    if status in (409, 429) or status >= 500:
        return TransientError(
            f"Bokio could not take {what} right now ({text}); will retry.",
            retry_after=retry_after(response),
            details=details,
        )
    if status == 410:
        return ConfigError(
            f"Bokio answered 410 Gone for {what}: the API URL must end in /v1.", details=details
        )
    if status == 404:
        return DataError(f"Bokio could not find what {what} refers to: {text}", details=details)
    if any(_is_account_field(name) for name, _ in parsed.fields):
        return ConfigError(
            f"Bokio refused an account in {what}: {text}. Check the account mapping against "
            "the company's chart of accounts.",
            details=details,
        )
    if "closed fiscal year" in parsed.message.lower():
        return ConfigError(
            f"Bokio refused {what}: {text} Open a fiscal year for this date in Bokio.",
            details=details,
        )
    return DataError(f"Bokio refused {what}: {text}", details=details)
