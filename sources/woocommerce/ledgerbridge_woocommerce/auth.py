"""Authentication as WooCommerce accepts it: Basic over https, OAuth 1.0a one-legged over http.

WooCommerce ignores Basic credentials on plain-http requests (reference §1.1), so a store
without TLS (or a sandbox on loopback) must be called with OAuth 1.0a signatures: consumer key
only, no token, HMAC-SHA256 or HMAC-SHA1, signing key ``consumer_secret + "&"``. WooCommerce
builds the signature base string as RFC 5849 does, so authlib's signer is used; only the
HMAC-SHA256 method is added here (authlib ships HMAC-SHA1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator
from urllib.parse import quote

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string

from ledgerbridge.errors import ConfigError

FORM = "application/x-www-form-urlencoded"


def _sign_hmac_sha256(client: ClientAuth, request: object) -> str:
    base_string = generate_signature_base_string(request)
    key = f"{quote(client.client_secret or '', safe='~')}&"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class _WooClientAuth(ClientAuth):
    SIGNATURE_METHODS = {**ClientAuth.SIGNATURE_METHODS, "HMAC-SHA256": _sign_hmac_sha256}


class WooOAuth1(httpx.Auth):
    """httpx auth that signs each request with OAuth 1.0a one-legged, parameters in the header."""

    def __init__(self, consumer_key: str, consumer_secret: str, method: str = "HMAC-SHA256"):
        self._signer = _WooClientAuth(
            consumer_key, consumer_secret, signature_method=method, signature_type="HEADER"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        content_type = request.headers.get("content-type", "")
        body = request.content if FORM in content_type else b""
        headers = {"Content-Type": content_type} if content_type else {}
        headers["Host"] = request.headers.get("host", "")
        _, signed, _ = self._signer.prepare(request.method, str(request.url), headers, body)
        request.headers["Authorization"] = signed["Authorization"]
        yield request


class QueryStringAuth(httpx.Auth):
    """Keys as ``consumer_key``/``consumer_secret`` query parameters (https only)."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._params = {"consumer_key": consumer_key, "consumer_secret": consumer_secret}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params(self._params)
        yield request


def auth_for(
    url: str, mode: str, consumer_key: str, consumer_secret: str, signature_method: str
) -> httpx.Auth:
    """The auth WooCommerce will accept for a store at ``url`` in ``mode``."""
    https = url.lower().startswith("https://")
    if mode == "auto":
        mode = "basic" if https else "oauth1"
    if mode in ("basic", "query") and not https:
        raise ConfigError(
            f"The store address {url} is plain http, where WooCommerce ignores "
            f"{'Basic' if mode == 'basic' else 'query-string'} keys. Use the https address, or "
            "set the authentication mode to automatic (OAuth 1.0a)."
        )
    if mode == "basic":
        return httpx.BasicAuth(consumer_key, consumer_secret)
    if mode == "query":
        return QueryStringAuth(consumer_key, consumer_secret)
    return WooOAuth1(consumer_key, consumer_secret, signature_method)
