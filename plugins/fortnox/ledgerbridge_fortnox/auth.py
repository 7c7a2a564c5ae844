"""Fortnox OAuth2: authorization URL, code exchange, token refresh and service accounts.

Fortnox refresh tokens are single-use and rotate: the refresh that happens second, with the
same token, gets ``invalid_grant`` and the connection is lost. So every refresh runs under a
lock shared by all workers, re-reads the stored tokens after taking it (another worker may
have refreshed meanwhile), and stores the new pair *before* the new access token is used.

Service accounts (``auth_mode = "service"``) get access tokens with the client-credentials
grant and a ``TenantId`` header; they have no refresh token.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import httpx

from ledgerbridge.contexts import LedgerContext
from ledgerbridge.errors import ConfigError, ReconnectNeeded, TransientError
from ledgerbridge.masking import register_secrets
from ledgerbridge_fortnox.settings import SCOPES, LedgerSettings, load_ledger_settings

with warnings.catch_warnings():
    # Authlib announces a move to "httpx2"; its httpx integration is what we need today.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

#: Refresh this long before the access token expires, so a request never carries a token
#: that dies on the way.
EXPIRY_MARGIN_SECONDS = 120
LOCK_SECONDS = 30.0
RECONNECT_MESSAGE = (
    "The Fortnox connection has expired or was revoked. Open the ledger settings and click "
    "“Connect to Fortnox” to authorize ledgerbridge again."
)


def client_secret(ledger: LedgerContext, settings: LedgerSettings) -> str:
    """The app's client secret: the ledger's secrets first, then its settings."""
    return ledger.secrets.get("client_secret") or settings.client_secret


def _oauth_client(ledger: LedgerContext, settings: LedgerSettings) -> OAuth2Client:
    secret = client_secret(ledger, settings)
    if not settings.client_id or not secret:
        raise ConfigError(
            "The Fortnox client id and client secret are missing: enter the credentials of "
            "your Fortnox Developer Portal app in the ledger settings."
        )
    register_secrets([secret])
    return OAuth2Client(
        client_id=settings.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        scope=" ".join(SCOPES),
        timeout=httpx.Timeout(settings.timeout_seconds, connect=10.0),
    )


def authorize_url(ledger: LedgerContext, redirect_uri: str, state: str) -> str:
    """Where to send the user to authorize ledgerbridge for a Fortnox company."""
    settings = load_ledger_settings(ledger.settings)
    with _oauth_client(ledger, settings) as oauth:
        extra: dict[str, str] = {"access_type": "offline"}
        if settings.auth_mode == "service":
            extra["account_type"] = "service"
        url, _ = oauth.create_authorization_url(
            f"{settings.auth_base_url}/auth",
            state=state,
            redirect_uri=redirect_uri,
            **extra,
        )
    return url


def exchange_code(ledger: LedgerContext, redirect_uri: str, code: str) -> dict[str, Any]:
    """Trade an authorization code for tokens and store them; returns the token response."""
    settings = load_ledger_settings(ledger.settings)
    with _oauth_client(ledger, settings) as oauth:
        token = _call_token_endpoint(
            lambda: oauth.fetch_token(
                f"{settings.auth_base_url}/token",
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
            ),
            refused=(
                "Fortnox refused the authorization code ({error}). Start the connection again "
                "from the ledger settings."
            ),
        )
    store_tokens(ledger, token)
    return dict(token)


def store_tokens(ledger: LedgerContext, token: Mapping[str, Any]) -> None:
    """Persist an access token (and its rotated refresh token) durably, at once."""
    access = str(token["access_token"])
    expires_at = _expires_at(token)
    values: dict[str, str | None] = {
        "access_token": access,
        "access_token_expires_at": f"{expires_at:.0f}",
    }
    if token.get("refresh_token"):
        values["refresh_token"] = str(token["refresh_token"])
    if token.get("scope"):
        values["scope"] = str(token["scope"])
    register_secrets([access, values.get("refresh_token")])
    ledger.secrets.update(values)


def _expires_at(token: Mapping[str, Any]) -> float:
    if token.get("expires_at"):
        return float(token["expires_at"])
    return time.time() + float(token.get("expires_in") or 3600)


def _call_token_endpoint(call: Any, *, refused: str) -> Mapping[str, Any]:
    try:
        return call()
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            raise ReconnectNeeded(RECONNECT_MESSAGE) from None
        if exc.error == "invalid_client":
            raise ConfigError(
                "Fortnox refused the client id or client secret (invalid_client): check the "
                "app credentials in the ledger settings."
            ) from None
        raise ConfigError(refused.format(error=exc.description or exc.error)) from None
    except httpx.HTTPStatusError as exc:
        raise TransientError(
            f"Fortnox's authorization server answered {exc.response.status_code}; will retry."
        ) from None
    except httpx.TransportError as exc:
        raise TransientError(
            f"Could not reach Fortnox's authorization server ({type(exc).__name__}); will retry."
        ) from None


class TokenSource:
    """Hands out a valid access token for one ledger, refreshing it safely when needed."""

    def __init__(self, ledger: LedgerContext, settings: LedgerSettings | None = None) -> None:
        self.ledger = ledger
        self.settings = settings or load_ledger_settings(ledger.settings)

    def access_token(self) -> str:
        """A valid access token (refreshed under the shared lock when it is about to expire)."""
        token = self._fresh_token()
        if token is not None:
            return token
        with self.ledger.services.lock(
            f"fortnox-token:{self.ledger.id}", timeout=LOCK_SECONDS, wait=LOCK_SECONDS
        ):
            self.ledger.secrets.reload()
            token = self._fresh_token()
            if token is not None:  # another worker refreshed while we waited
                return token
            if self.settings.auth_mode == "service":
                new = self._client_credentials()
            else:
                new = self._refresh()
            store_tokens(self.ledger, new)  # persist BEFORE use: the old refresh token is dead
            return str(new["access_token"])

    def expire(self, rejected: str) -> None:
        """Mark ``rejected`` (an access token Fortnox answered 401 to) as expired."""
        with self.ledger.services.lock(
            f"fortnox-token:{self.ledger.id}", timeout=LOCK_SECONDS, wait=LOCK_SECONDS
        ):
            self.ledger.secrets.reload()
            if self.ledger.secrets.get("access_token") == rejected:
                self.ledger.secrets.update({"access_token_expires_at": "0"})

    def _fresh_token(self) -> str | None:
        token = self.ledger.secrets.get("access_token")
        expires = self.ledger.secrets.get("access_token_expires_at") or "0"
        try:
            expires_at = float(expires)
        except ValueError:
            expires_at = 0.0
        if token and expires_at - EXPIRY_MARGIN_SECONDS > time.time():
            register_secrets([token])
            return token
        return None

    def _refresh(self) -> Mapping[str, Any]:
        refresh_token = self.ledger.secrets.get("refresh_token")
        if not refresh_token:
            raise ReconnectNeeded(RECONNECT_MESSAGE)
        register_secrets([refresh_token])
        with _oauth_client(self.ledger, self.settings) as oauth:
            return _call_token_endpoint(
                lambda: oauth.refresh_token(
                    f"{self.settings.auth_base_url}/token", refresh_token=refresh_token
                ),
                refused="Fortnox refused to refresh the access token ({error}).",
            )

    def _client_credentials(self) -> Mapping[str, Any]:
        tenant = self.settings.tenant_id or self.ledger.secrets.get("tenant_id") or ""
        if not tenant:
            raise ConfigError(
                "The Fortnox tenant id is missing: a service account needs the company's "
                "database number (enter it in the ledger settings, or connect once as an "
                "administrator)."
            )
        with _oauth_client(self.ledger, self.settings) as oauth:
            return _call_token_endpoint(
                lambda: oauth.fetch_token(
                    f"{self.settings.auth_base_url}/token",
                    grant_type="client_credentials",
                    headers={"TenantId": tenant},
                ),
                refused="Fortnox refused the service account ({error}).",
            )
