"""Authentication as WooCommerce checks it (``class-wc-rest-authentication.php``, reference §1).

* Over https (the ``https`` knob): query-string ``consumer_key``/``consumer_secret`` first, then
  HTTP Basic. An unknown key leaves the request anonymous; a known key with a wrong secret is
  ``401 woocommerce_rest_authentication_error`` with a ``WWW-Authenticate`` header.
* Over plain http: Basic and query keys are ignored; OAuth 1.0a one-legged signatures (query
  string or ``Authorization: OAuth`` header), HMAC-SHA1 or HMAC-SHA256, key ``secret&``,
  timestamp within 15 minutes, nonces single-use for 15 minutes.
* Key permissions: ``read`` allows GET/HEAD only, ``write`` everything else only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from werkzeug.wrappers import Request

from ledgerbridge_woocommerce.sandbox.state import ShopError

WINDOW_SECONDS = 15 * 60
REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)


@dataclass
class ApiKey:
    """One REST API key (``read``, ``write`` or ``read_write``)."""

    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"


def rfc3986(value: str) -> str:
    """PHP ``rawurlencode``."""
    return quote(value, safe="~")


def _php_params(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """Query pairs the way PHP's ``$_GET`` sees them (``a[]`` become arrays, last one wins)."""
    params: dict[str, object] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            existing = params.setdefault(key[:-2], [])
            if isinstance(existing, list):
                existing.append(value)
        else:
            params[key] = value
    return params


def _joined(params: Mapping[str, object], prefix: str = "") -> list[str]:
    parts: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, list):
            parts += _joined({str(i): v for i, v in enumerate(value)}, name)
        elif isinstance(value, dict):
            parts += _joined(value, name)
        else:
            parts.append(rfc3986(f"{name}={value}"))
    return parts


def base_string(method: str, url: str, params: Mapping[str, object]) -> str:
    """WooCommerce's signature base string for ``params`` (without ``oauth_signature``)."""

    def encode(value: object) -> object:
        if isinstance(value, list):
            return [encode(item) for item in value]
        return rfc3986(unquote(str(value)))

    ordered = sorted(params.items(), key=lambda item: item[0].encode())
    normalized = {rfc3986(unquote(key)): encode(value) for key, value in ordered}
    return f"{method.upper()}&{rfc3986(url)}&{'%26'.join(_joined(normalized))}"


def sign(method: str, url: str, params: Mapping[str, object], secret: str, algorithm: str) -> str:
    """``base64(HMAC(algorithm, base string, secret + "&"))``."""
    digest = hmac.new(
        f"{secret}&".encode(), base_string(method, url, params).encode(), algorithm
    ).digest()
    return base64.b64encode(digest).decode()


def _parse_oauth_header(header: str) -> dict[str, str]:
    if not header.lower().startswith("oauth "):
        return {}
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key.startswith("oauth_"):
            params[key] = unquote(value.strip().strip('"'))
    return params


class Authenticator:
    """Checks one request against the shop's keys; remembers OAuth nonces."""

    def __init__(self, keys: list[ApiKey], *, https: bool) -> None:
        self.keys = {key.consumer_key: key for key in keys}
        self.https = https
        self._nonces: dict[tuple[str, str], float] = {}
        self._guard = threading.Lock()

    def authenticate(self, request: Request) -> ApiKey | None:
        """The key the request authenticated with, None for anonymous; ShopError on failure."""
        key = self._https(request) if self.https else self._oauth(request)
        if key is not None:
            self._check_permission(key, request.method)
        return key

    def _https(self, request: Request) -> ApiKey | None:
        ck = request.args.get("consumer_key")
        cs = request.args.get("consumer_secret")
        if not ck and request.authorization is not None and request.authorization.type == "basic":
            ck = request.authorization.username
            cs = request.authorization.password
        if not ck:
            return None
        key = self.keys.get(ck)
        if key is None:
            return None
        if not hmac.compare_digest((cs or "").encode(), key.consumer_secret.encode()):
            raise ShopError(
                "woocommerce_rest_authentication_error",
                "Consumer secret is invalid.",
                401,
                www_authenticate=True,
            )
        return key

    def _oauth(self, request: Request) -> ApiKey | None:
        query_pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
        params: dict[str, object] = _php_params(query_pairs)
        if request.mimetype == "application/x-www-form-urlencoded":
            params.update(_php_params(list(request.form.items(multi=True))))
        params.update(_parse_oauth_header(request.headers.get("Authorization", "")))
        if not any(str(name).startswith("oauth_") for name in params):
            return None
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            raise ShopError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth parameter(s) {', '.join(missing)}",
                401,
            )
        key = self.keys.get(str(params["oauth_consumer_key"]))
        if key is None:
            raise ShopError(
                "woocommerce_rest_authentication_error", "Consumer key is invalid.", 401
            )
        method = str(params["oauth_signature_method"])
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise ShopError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
                401,
            )
        given = str(params.pop("oauth_signature")).replace(" ", "+")
        algorithm = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
        expected = sign(request.method, request.base_url, params, key.consumer_secret, algorithm)
        try:
            given_bytes = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            given_bytes = b""
        if not hmac.compare_digest(base64.b64decode(expected), given_bytes):
            raise ShopError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
                401,
            )
        self._check_timestamp_and_nonce(
            key, str(params["oauth_timestamp"]), str(params["oauth_nonce"])
        )
        return key

    def _check_timestamp_and_nonce(self, key: ApiKey, timestamp: str, nonce: str) -> None:
        now = time.time()
        if not timestamp.isdigit() or abs(now - int(timestamp)) > WINDOW_SECONDS:
            raise ShopError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        with self._guard:
            for used, at in list(self._nonces.items()):
                if now - at > WINDOW_SECONDS:
                    del self._nonces[used]
            if (key.consumer_key, nonce) in self._nonces:
                raise ShopError(
                    "woocommerce_rest_authentication_error",
                    "Invalid nonce - nonce has already been used.",
                    401,
                )
            self._nonces[(key.consumer_key, nonce)] = now

    @staticmethod
    def _check_permission(key: ApiKey, method: str) -> None:
        reading = method in ("GET", "HEAD")
        if method == "OPTIONS" or key.permissions == "read_write":
            return
        if reading and key.permissions != "read":
            raise ShopError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have read permissions.",
                401,
            )
        if not reading and key.permissions != "write":
            raise ShopError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
                401,
            )
