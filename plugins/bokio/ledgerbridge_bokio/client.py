"""The Bokio Company API client.

What every request goes through:

* the shared throttle (200 requests per 60 s per token, across all workers);
* the monthly request budget of the company (counted, refused when used up);
* for writes, the company-wide lock on method + path template: Bokio allows only one write
  in flight per method and path, so workers queue instead of tripping it;
* Bokio's errors parsed into config / transient / data failures with Bokio's message;
* ``with_retries`` for 429, 409, quota, 5xx and timeouts — except that a write whose outcome is
  unknown (5xx or timeout after sending) is never repeated here: the export step's ``recover``
  decides on the next attempt, so a retry cannot create a second document.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from ledgerbridge import jsonnum
from ledgerbridge.contexts import LedgerContext
from ledgerbridge.errors import TransientError
from ledgerbridge.http import build_client, record_failure, transient_from_transport, with_retries
from ledgerbridge.services import RateLimit
from ledgerbridge_bokio.budget import BudgetStatus, RequestBudget
from ledgerbridge_bokio.errors import QuotaExceeded, error_for
from ledgerbridge_bokio.oauth import TokenSource
from ledgerbridge_bokio.settings import LedgerConfig, ledger_config

RATE_LIMIT = RateLimit(200, 60.0)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_PAGE_SIZE = 100
#: How long a request keeps waiting out 429s and 409s before the attempt gives up (seconds).
RATE_LIMIT_PATIENCE = 120.0
_ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F-]{32,36}|\d+)$")


def path_template(path: str) -> str:
    """``/invoices/3f2c.../publish`` → ``/invoices/{id}/publish`` (ids and numbers replaced)."""
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


class _NotRetried(Exception):
    """Carries a transient error of a write whose outcome is unknown past ``with_retries``."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(str(error))
        self.error = error


class _Rejected(TransientError):
    """A transient answer that says the request was not carried out (429, 409, quota)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("refused", True)
        super().__init__(message, **kwargs)


class BokioClient:
    """One company's Company API, with budget, throttle, write lock and error mapping."""

    def __init__(
        self,
        ledger: LedgerContext,
        *,
        config: LedgerConfig | None = None,
        transport: httpx.BaseTransport | None = None,
        retry_sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.config = config or ledger_config(ledger)
        self.tokens = TokenSource(ledger, self.config)
        self.budget = RequestBudget(ledger, self.config)
        self._retry_sleep = retry_sleep
        throttle_key = f"bokio:{self._throttle_identity()}"
        # Counted from each answer, so network delays never carry a window over the limit.
        limit = replace(RATE_LIMIT, settle_within=self.config.timeout_seconds)
        self.http = build_client(
            base_url=self.config.api_url,
            target="bokio",
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(self.config.timeout_seconds, connect=10.0),
            throttle=lambda: ledger.services.throttle(throttle_key, limit),
            transport=transport,
        )

    def _throttle_identity(self) -> str:
        if self.config.is_private:
            token = self.ledger.secrets.get("token") or str(self.ledger.settings.get("token", ""))
            if token:
                return "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]
        return f"ledger-{self.ledger.key}"

    @property
    def company_id(self) -> str:
        """The company every path is under."""
        return self.config.company_id or self.ledger.secrets.get("company_id") or ""

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def __enter__(self) -> BokioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        what: str = "",
        raw: bool = False,
    ) -> Any:
        """Send one Company API request (``path`` is below ``/companies/{id}``).

        Returns the parsed JSON (numbers as ``Decimal``), None for 204, or the bytes when
        ``raw``. Raises the :mod:`ledgerbridge.errors` classes.
        """
        method = method.upper()
        what = what or f"{method} {path_template(path)}"
        write = method in WRITE_METHODS

        def attempt() -> Any:
            try:
                return self._send(method, path, json, params, files, data, what, raw)
            except _Rejected:
                raise
            except TransientError as exc:
                # A write may have been carried out; a quota refusal lasts: neither is repeated
                # here (the export step's recover, or the job's retry later, decides).
                if write or isinstance(exc, QuotaExceeded):
                    raise _NotRetried(exc) from exc
                raise

        try:
            return with_retries(attempt, **self._retry_options())
        except _NotRetried as carrier:
            raise carrier.error from carrier.error.__cause__

    def _retry_options(self) -> dict[str, Any]:
        # Refusals (429, 409) are waited out for up to RATE_LIMIT_PATIENCE seconds.
        options: dict[str, Any] = {"patience": RATE_LIMIT_PATIENCE}
        if self._retry_sleep is not None:
            options["sleep"] = self._retry_sleep
        return options

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        files: dict[str, Any] | None,
        data: dict[str, str] | None,
        what: str,
        raw: bool,
    ) -> Any:
        company = self.company_id
        url = f"/companies/{company}{path}"
        headers = {"Authorization": f"Bearer {self.tokens.bearer()}"}
        content = None
        if json is not None:
            content = jsonnum.dumps(json)
            headers["Content-Type"] = "application/json"
        if method in WRITE_METHODS:
            lock = self.ledger.services.lock(
                f"bokio-write:{company}:{method}:{path_template(path)}", timeout=120, wait=120
            )
            with lock:
                response = self._exchange(method, url, headers, content, params, files, data)
        else:
            response = self._exchange(method, url, headers, content, params, files, data)
        if response.status_code == 401 and self.tokens.public:
            rejected = headers["Authorization"].removeprefix("Bearer ")
            self.tokens.refresh(force=True, rejected=rejected)
            raise _Rejected("Bokio's access token had expired; renewed it, will retry.")
        if response.status_code >= 400:
            error = error_for(response, public=self.tokens.public, what=what)
            if response.status_code in (409, 429):
                raise _Rejected(
                    error.message,
                    retry_after=getattr(error, "retry_after", None),
                    details=error.details,
                )
            raise error
        if response.status_code == 204 or not response.content:
            return None
        if raw:
            return response.content
        try:
            return jsonnum.loads(response.content)
        except ValueError as exc:
            raise TransientError(f"Bokio answered {what} with a body that is not JSON.") from exc

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        params: dict[str, Any] | None,
        files: dict[str, Any] | None,
        data: dict[str, str] | None,
    ) -> httpx.Response:
        self.budget.consume()
        request = self.http.build_request(
            method, url, headers=headers, content=content, params=params, files=files, data=data
        )
        try:
            return self.http.send(request)
        except httpx.TransportError as exc:
            record_failure("bokio", request, exc)
            raise transient_from_transport("Bokio", exc) from exc

    # -- helpers --------------------------------------------------------------------------

    def get(self, path: str, *, params: dict[str, Any] | None = None, what: str = "") -> Any:
        """GET and parse."""
        return self.request("GET", path, params=params, what=what)

    def post(self, path: str, payload: Any = None, *, what: str = "") -> Any:
        """POST JSON and parse."""
        return self.request("POST", path, json=payload, what=what)

    def put(self, path: str, payload: Any, *, what: str = "") -> Any:
        """PUT JSON and parse."""
        return self.request("PUT", path, json=payload, what=what)

    def pages(
        self,
        path: str,
        *,
        query: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        what: str = "",
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list (``items``, or ``result`` as one doc page names it)."""
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "pageSize": page_size}
            if query:
                params["query"] = query
            body = self.get(path, params=params, what=what) or {}
            items = body.get("items")
            if items is None:
                items = body.get("result") or []
            yield from items
            total_pages = int(body.get("totalPages") or 0)
            if page >= total_pages or not items:
                return
            page += 1

    def budget_status(self) -> BudgetStatus:
        """This month's request use."""
        return self.budget.status()


def query_value(value: str) -> str | None:
    """``value`` when it can stand unquoted in a Bokio filter, else None (filter client-side)."""
    if not value or any(token in value for token in ("&&", "||", "==", "!=", ">", "<", "~")):
        return None
    return value
