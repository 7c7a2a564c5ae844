"""The Fortnox API client: httpx through ledgerbridge's shared throttle, retries and audit trail.

* Every request waits for a slot in the ledger's shared rate limiter (all workers together
  stay under Fortnox's 25 requests per 5 s, minus a margin).
* Reads are retried on 429, 5xx and timeouts. Writes are retried in place only when Fortnox
  certainly did not act (429, or a connection that never opened); any other failure of a
  write has an unknown outcome and goes back to the job, whose retry looks the object up
  (``ExportProgress.recover``) before it would create it again.
* A 401 expires the access token and the request is tried once more with a fresh one.
* Amounts travel as JSON numbers written from ``Decimal`` (never through float), and
  responses are read with ``Decimal`` numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from ledgerbridge.contexts import LedgerContext
from ledgerbridge.errors import ReconnectNeeded, TransientError
from ledgerbridge.http import build_client, record_failure, transient_from_transport, with_retries
from ledgerbridge_fortnox.auth import TokenSource
from ledgerbridge_fortnox.errors import error_for
from ledgerbridge_fortnox.settings import LedgerSettings, load_ledger_settings

PAGE_LIMIT = 500
#: How long a request keeps waiting out 429s before the attempt gives up (seconds).
RATE_LIMIT_PATIENCE = 120.0
_DECIMAL_MARK = "\u0000decimal:"
_DECIMAL_TOKEN = re.compile(r'"\\u0000decimal:(-?[0-9]+(?:\.[0-9]+)?)"')


def encode_json(payload: Any) -> bytes:
    """JSON with every ``Decimal`` written as an exact number literal."""

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{_DECIMAL_MARK}{_plain(value)}"
        if isinstance(value, Mapping):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [mark(item) for item in value]
        if isinstance(value, float):
            raise TypeError("floats must not reach the Fortnox client; use Decimal")
        return value

    text = json.dumps(mark(payload), ensure_ascii=False)
    return _DECIMAL_TOKEN.sub(r"\1", text).encode("utf-8")


def _plain(value: Decimal) -> str:
    if value == value.to_integral_value():
        text = format(value.normalize(), "f")
    else:
        text = format(value, "f")
    return text if text not in ("-0", "-0.00") else "0"


def decode_json(content: bytes) -> Any:
    """A Fortnox JSON body with numbers as ``Decimal`` (ints stay ints)."""
    if not content:
        return {}
    return json.loads(content, parse_float=Decimal)


def segment(value: object) -> str:
    """A path segment, percent-encoded (``/`` becomes ``%2F``, spaces ``%20``)."""
    return quote(str(value), safe="")


class FortnoxClient:
    """One ledger's connection to the Fortnox API."""

    def __init__(
        self,
        ledger: LedgerContext,
        *,
        settings: LedgerSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.ledger = ledger
        self.settings = settings or load_ledger_settings(ledger.settings)
        self.tokens = TokenSource(ledger, self.settings)
        limit = self.settings.rate_limit()
        self._http = build_client(
            base_url=f"{self.settings.api_base_url}/3",
            target="fortnox",
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(self.settings.timeout_seconds, connect=10.0),
            throttle=lambda: ledger.services.throttle(f"fortnox:{ledger.id}", limit),
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> FortnoxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, what: str) -> Any:
        """GET a resource (retried on transient failures)."""
        return self.request("GET", path, params=params, what=what)

    def post(self, path: str, body: Any, *, what: str) -> Any:
        """POST (create); not retried when the outcome is unknown."""
        return self.request("POST", path, body=body, what=what)

    def put(self, path: str, body: Any = None, *, what: str) -> Any:
        """PUT (update or action); not retried when the outcome is unknown."""
        return self.request("PUT", path, body=body, what=what)

    def get_bytes(self, path: str, *, what: str) -> bytes:
        """GET raw bytes (a PDF)."""
        response = self._send("GET", path, params=None, body=None, what=what, accept="*/*")
        return response.content

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        what: str,
    ) -> Any:
        """Send one request and return its decoded JSON body."""
        response = self._send(method, path, params=params, body=body, what=what)
        return decode_json(response.content)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: Any,
        what: str,
        accept: str = "application/json",
    ) -> httpx.Response:
        safe_to_repeat = method == "GET"

        def attempt() -> httpx.Response:
            response = self._once(method, path, params, body, accept, what, safe_to_repeat)
            if response.status_code == 401:
                self.tokens.expire(_bearer(response.request))
                response = self._once(method, path, params, body, accept, what, safe_to_repeat)
                if response.status_code == 401:
                    raise ReconnectNeeded(
                        "Fortnox no longer accepts ledgerbridge's authorization. Reconnect "
                        "Fortnox in the ledger settings."
                    )
            if response.status_code >= 400:
                retry_after = _retry_after(response)
                error = error_for(
                    response.status_code, response.content, what=what, retry_after=retry_after
                )
                unknown = not safe_to_repeat and response.status_code != 429
                if isinstance(error, TransientError) and unknown:
                    error.details["unknown_outcome"] = True
                    raise _NoRetry(error)
                raise error
            return response

        try:
            return with_retries(
                attempt, attempts=5, initial=1.0, maximum=10.0, patience=RATE_LIMIT_PATIENCE
            )
        except _NoRetry as stop:
            raise stop.error from None

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        accept: str,
        what: str,
        safe_to_repeat: bool,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens.access_token()}", "Accept": accept}
        content = None
        if body is not None:
            content = encode_json(body)
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method, path, params=dict(params or {}), content=content, headers=headers
        )
        try:
            return self._http.send(request)
        except httpx.TransportError as exc:
            record_failure("fortnox", request, exc)
            error = transient_from_transport("Fortnox", exc)
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if safe_to_repeat or never_sent:
                raise error from None
            error.details["unknown_outcome"] = True
            raise _NoRetry(error) from None

    # -- lists --------------------------------------------------------------------------

    def iterate(
        self, path: str, key: str, params: Mapping[str, Any] | None = None, *, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (``key`` is the plural envelope, e.g. Invoices)."""
        page = 1
        while True:
            query = {**dict(params or {}), "page": page, "limit": PAGE_LIMIT}
            data = self.get(path, query, what=what)
            yield from data.get(key) or []
            meta = data.get("MetaInformation") or {}
            total_pages = int(meta.get("@TotalPages") or 0)
            if page >= total_pages:
                return
            page += 1


class _NoRetry(Exception):
    """Carries an error out of the retry loop untouched (a write with unknown outcome)."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(str(error))
        self.error = error


def _bearer(request: httpx.Request) -> str:
    value = request.headers.get("Authorization", "")
    return value.removeprefix("Bearer ").strip()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
