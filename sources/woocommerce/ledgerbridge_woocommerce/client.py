"""The WooCommerce REST v3 client: httpx, retries on transient errors, errors a user can act on.

Every call goes through :meth:`WooClient.request`, which retries timeouts, 429 and 5xx with
backoff (honouring ``Retry-After``) and maps everything else to the failure classes:

* 401/403 → :class:`~ledgerbridge.errors.ConfigError` saying which key or permission to fix;
* 404 ``rest_no_route`` → ``ConfigError`` (wrong address, WooCommerce off, no permalinks);
  any other 404/410 → :class:`~ledgerbridge.errors.NotFound`;
* other 4xx → :class:`~ledgerbridge.errors.DataError` with WooCommerce's own message;
* 429/5xx, timeouts, HTML instead of JSON → :class:`~ledgerbridge.errors.TransientError`.

Keys never travel in URLs unless the user chose query-string auth, and URLs are only ever
logged through :func:`ledgerbridge.masking.mask_url`.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ledgerbridge import __version__
from ledgerbridge.contexts import SiteContext
from ledgerbridge.errors import ConfigError, DataError, NotFound, TransientError
from ledgerbridge.http import (
    build_client,
    record_failure,
    shared_transport,
    transient_from_transport,
    with_retries,
)
from ledgerbridge.masking import register_secrets
from ledgerbridge.netcheck import is_private
from ledgerbridge_woocommerce.auth import auth_for
from ledgerbridge_woocommerce.settings import SiteSettings

TARGET = "woocommerce"
MAX_PER_PAGE = 100


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if isinstance(body, Mapping):
        return str(body.get("code") or ""), str(body.get("message") or "")
    return "", ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def check_address(url: str, allow_private_network: bool) -> None:
    """Refuse store addresses that are not web addresses, that point into a private network
    (see :func:`ledgerbridge.netcheck.is_private`) or that are plain http.

    A shop URL is user input; without this check it could make workers call internal
    services. Operators running shops on their own network (and the sandboxes) set
    ``allow_private_network``, which also permits plain http.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"The store address {url!r} is not a web address; use https://your-shop.example."
        )
    if allow_private_network:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise TransientError(f"Could not look up the store address {parts.hostname}.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if is_private(address):
            raise ConfigError(
                f"The store address {parts.hostname} points into a private network "
                f"({address}); ledgerbridge only calls public shops unless the operator allows "
                "private networks for this site."
            )
    if parts.scheme != "https":
        raise ConfigError(
            f"The store address {url} is not https: the API keys travel with every request. "
            "Use the https address of the store."
        )


class WooClient:
    """A REST v3 client for one site. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        site: SiteContext,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Any = None,
    ) -> None:
        self.site = site
        self.settings = SiteSettings.from_mapping(site.settings)
        key = site.secrets.get("consumer_key") or ""
        secret = site.secrets.get("consumer_secret") or ""
        if not key or not secret:
            raise ConfigError(
                "This site has no REST API keys yet. In WooCommerce → Settings → Advanced → "
                "REST API, create a key with Read/Write permission and enter both values."
            )
        register_secrets([key, secret, site.secrets.get("webhook_secret")])
        base = site.url.rstrip("/")
        check_address(base, site.allow_private_network)
        self.store_url = base
        path = self.settings.api_path
        self.base_url = f"{base}{path}/" if path.startswith("/wp-json") else f"{base}/"
        self._route_prefix = "" if path.startswith("/wp-json") else path.split("=", 1)[1] + "/"
        if transport is None:
            transport = shared_transport(self.settings.verify_tls)
        self._sleep = sleep
        self.http = build_client(
            base_url=self.base_url,
            target=TARGET,
            auth=auth_for(
                base,
                self.settings.auth_mode,
                key,
                secret,
                self.settings.oauth_signature_method,
            ),
            timeout=httpx.Timeout(
                self.settings.timeout_seconds, connect=self.settings.connect_timeout_seconds
            ),
            headers={
                "Accept": "application/json",
                "User-Agent": f"ledgerbridge/{__version__}",
                "Cache-Control": "no-cache",
            },
            transport=transport,
        )

    def __enter__(self) -> WooClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # -----------------------------------------------------------------------------------------
    # Requests
    # -----------------------------------------------------------------------------------------

    def _url(self, path: str) -> tuple[str, dict[str, str]]:
        if not self._route_prefix:
            return path, {}
        return "", {"rest_route": f"{self._route_prefix}{path}"}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """One API call with retries on transient failures; raises the mapped error otherwise."""
        url, route = self._url(path)
        query = {**route, **{k: _param(v) for k, v in (params or {}).items() if v is not None}}

        def attempt() -> httpx.Response:
            request = self.http.build_request(method, url, params=query, json=json_body)
            try:
                response = self.http.send(request)
            except httpx.TransportError as exc:
                record_failure(TARGET, request, exc)
                raise transient_from_transport("The WooCommerce store", exc) from exc
            self._raise_for(response, method, path)
            return response

        if self._sleep is None:
            return with_retries(attempt)
        return with_retries(attempt, sleep=self._sleep)

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` and return the decoded JSON."""
        return self.json(self.request("GET", path, params=params))

    def send(self, method: str, path: str, body: Any, **params: Any) -> Any:
        """POST/PUT ``body`` as JSON and return the decoded JSON answer."""
        return self.json(self.request(method, path, params=params, json_body=body))

    @staticmethod
    def json(response: httpx.Response) -> Any:
        """The JSON body; HTML or garbage from a cache or PHP error is a transient error."""
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError) as exc:
            raise TransientError(
                "The store answered with something that is not JSON (a maintenance page, a "
                "cache or a PHP error); will retry."
            ) from exc

    def _raise_for(self, response: httpx.Response, method: str, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        code, message = _error_fields(response)
        what = f"{method} {path.split('?')[0]}"
        if status == 429 or status >= 500:
            raise TransientError(
                f"The store answered {status} to {what}"
                + (f" ({message})" if message else "")
                + "; will retry.",
                retry_after=_retry_after(response),
            )
        if status == 401:
            raise ConfigError(self._unauthorized_message(code, message))
        if status == 403:
            raise ConfigError(
                f"The store refused {what} (403 {code or 'forbidden'}): the user that owns the "
                "REST API key lacks permission. Give that user the Administrator or Shop "
                "manager role, or create the key for such a user, with Read/Write access."
                if code
                else f"The store (or a firewall in front of it) refused {what} with 403. Allow "
                "requests to /wp-json/wc/v3 from ledgerbridge in the security plugin or WAF."
            )
        if status == 404 and code in ("rest_no_route", ""):
            raise ConfigError(
                f"The WooCommerce REST API was not found at {self.base_url} ({what}). Check the "
                "store address, that WooCommerce is active, and that pretty permalinks are on "
                "(or set the API path to /?rest_route=/wc/v3)."
            )
        if status in (404, 410):
            raise NotFound(f"{message or 'Not found'} ({what}, {code})")
        raise DataError(f"The store rejected {what}: {message or code or status}")

    def _unauthorized_message(self, code: str, message: str) -> str:
        if code == "woocommerce_rest_cannot_view" and self.store_url.startswith("https"):
            return (
                "The store treated ledgerbridge as not logged in (401). Check the consumer key; "
                "if it is right, the web server strips the Authorization header: set the "
                "authentication mode to 'query'."
            )
        if code == "woocommerce_rest_cannot_view":
            return (
                "The store did not accept the request signature (401). Check the consumer key "
                "and secret."
            )
        if "permissions" in message:
            return (
                f"The REST API key is not allowed to do this ({message}). Edit the key in "
                "WooCommerce → Settings → Advanced → REST API and give it Read/Write permission."
            )
        if "timestamp" in message.lower():
            return (
                "The store refused the request time stamp (401): the store's clock or this "
                "server's clock is more than 15 minutes off."
            )
        return (
            f"The store refused the REST API key (401: {message or code}). Check the consumer "
            "key and secret, or create a new key with Read/Write permission in WooCommerce → "
            "Settings → Advanced → REST API."
        )

    # -----------------------------------------------------------------------------------------
    # Collections
    # -----------------------------------------------------------------------------------------

    def pages(self, path: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Each page of a collection, one request per page (constant memory).

        Stops at ``X-WP-TotalPages``, or at a short or empty page when the header is missing.
        """
        per_page = min(int(params.pop("per_page", self.settings.per_page)), MAX_PER_PAGE)
        page = 1
        while True:
            response = self.request(
                "GET", path, params={**params, "per_page": per_page, "page": page}
            )
            items = self.json(response)
            if not isinstance(items, list):
                raise TransientError(f"The store answered GET {path} with something not a list.")
            if items:
                yield items
            total_pages = response.headers.get("x-wp-totalpages")
            if not items or (
                total_pages is not None and total_pages.isdigit() and page >= int(total_pages)
            ):
                return
            if total_pages is None and len(items) < per_page:
                return
            page += 1

    def items(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a collection, streamed page by page."""
        for page in self.pages(path, **params):
            yield from page


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return ",".join(str(item) for item in value)
    return str(value)
