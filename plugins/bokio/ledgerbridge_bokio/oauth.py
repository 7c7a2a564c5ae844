"""Bearer tokens for the Company API: a private integration's token, or a public integration's
OAuth2 tokens (authorize, code exchange, refresh with rotation) through authlib.

Rotating tokens follow the rule every worker must keep: refresh only under the ledger's lock,
re-read the secrets after taking it (another worker may have refreshed already), and persist the
new pair before using it. A refused refresh means the connection is gone: ``ReconnectNeeded``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from ledgerbridge.contexts import LedgerContext
from ledgerbridge.errors import ConfigError, ReconnectNeeded, TransientError
from ledgerbridge.masking import register_secrets, scrub
from ledgerbridge_bokio.settings import LedgerConfig, secret_setting

#: The scopes ledgerbridge asks for (reference §1.3).
SCOPES = (
    "customers:read",
    "customers:write",
    "invoices:read",
    "invoices:write",
    "credit-notes:read",
    "credit-notes:write",
    "journal-entries:read",
    "journal-entries:write",
    "chart-of-accounts:read",
    "fiscal-years:read",
    "company-information:read",
    "items:read",
    "items:write",
    "uploads:read",
    "uploads:write",
)
REFRESH_MARGIN_SECONDS = 120


def general_api_url(config: LedgerConfig) -> str:
    """The General API base (authorize, token, connections): the same ``/v1`` root."""
    return config.api_url


def authorize_url(config: LedgerConfig, redirect_uri: str, state: str) -> str:
    """Where to send the shop owner to approve ledgerbridge's access to a company."""
    if not config.client_id:
        raise ConfigError("Set the OAuth client id of your Bokio app before connecting.")
    query = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
    }
    if config.company_id:
        query["bokio_tenantid"] = config.company_id
        query["bokio_tenanttype"] = "company"
    return f"{general_api_url(config)}/authorize?{urlencode(query)}"


def _oauth_client(ledger: LedgerContext, config: LedgerConfig, timeout: float) -> OAuth2Client:
    secret = secret_setting(ledger, "client_secret")
    if not config.client_id or not secret:
        raise ConfigError("Set the OAuth client id and secret of your Bokio app first.")
    register_secrets([secret])
    return OAuth2Client(
        client_id=config.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        timeout=timeout,
    )


def _stored(token: Mapping[str, Any]) -> dict[str, str | None]:
    expires_in = int(token.get("expires_in") or 3600)
    values: dict[str, str | None] = {
        "access_token": str(token["access_token"]),
        "refresh_token": str(token.get("refresh_token") or "") or None,
        "expires_at": str(int(time.time()) + expires_in),
    }
    if token.get("tenant_id"):
        values["company_id"] = str(token["tenant_id"])
    if token.get("connection_id"):
        values["connection_id"] = str(token["connection_id"])
    register_secrets([values["access_token"], values["refresh_token"]])
    return values


def exchange_code(
    ledger: LedgerContext, config: LedgerConfig, redirect_uri: str, params: Mapping[str, str]
) -> dict[str, str | None]:
    """Exchange the callback's code for tokens and store them; ``ConfigError`` when refused."""
    if params.get("error"):
        raise ConfigError(
            "Bokio did not grant access: "
            + scrub(str(params.get("error_description") or params["error"]))
        )
    code = params.get("code")
    if not code:
        raise ConfigError("Bokio's answer has no authorization code; start the connection again.")
    client = _oauth_client(ledger, config, config.timeout_seconds)
    try:
        with client:
            token = client.fetch_token(
                f"{general_api_url(config)}/token",
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
            )
    except OAuthError as exc:
        raise ConfigError(f"Bokio refused the authorization code: {scrub(str(exc))}") from exc
    except Exception as exc:  # httpx transport errors surface here
        raise TransientError(f"Could not reach Bokio to finish the connection: {exc}") from exc
    values = _stored(token)
    if not values.get("company_id") and not config.company_id:
        raise ConfigError("Bokio's token names no company; connect again and pick a company.")
    ledger.secrets.update(values)
    return values


class TokenSource:
    """Hands out the bearer token for each request, refreshing OAuth tokens when due."""

    def __init__(self, ledger: LedgerContext, config: LedgerConfig) -> None:
        self._ledger = ledger
        self._config = config

    @property
    def public(self) -> bool:
        """True for a public (OAuth) integration."""
        return not self._config.is_private

    def bearer(self) -> str:
        """The token to send now."""
        if not self.public:
            token = secret_setting(self._ledger, "token")
            if not token:
                raise ConfigError(
                    "The Bokio integration token is missing: create a private integration in "
                    "Bokio (Settings → Integrations) and paste its token in the ledger settings."
                )
            register_secrets([token])
            return token
        secrets = self._ledger.secrets
        if not secrets.get("access_token"):
            raise ReconnectNeeded("This Bokio company is not connected yet: click Connect.")
        if self._due(secrets.get("expires_at")):
            self.refresh(force=False)
        token = secrets.get("access_token") or ""
        register_secrets([token])
        return token

    @staticmethod
    def _due(expires_at: str | None) -> bool:
        try:
            return float(expires_at or 0) - REFRESH_MARGIN_SECONDS <= time.time()
        except ValueError:
            return True

    def refresh(self, *, force: bool, rejected: str | None = None) -> None:
        """Refresh the OAuth tokens under the ledger's lock (reload first, persist before use).

        ``rejected`` is the access token Bokio just refused: when another worker has already
        replaced it, nothing needs doing.
        """
        secrets = self._ledger.secrets
        with self._ledger.services.lock(f"bokio-token:{self._ledger.key}", timeout=60, wait=60):
            secrets.reload()
            current = secrets.get("access_token")
            if rejected is not None and current and current != rejected:
                return
            if not force and not self._due(secrets.get("expires_at")):
                return
            refresh_token = secrets.get("refresh_token")
            if not refresh_token:
                raise ReconnectNeeded("Bokio gave no refresh token; reconnect the company.")
            client = _oauth_client(self._ledger, self._config, self._config.timeout_seconds)
            try:
                with client:
                    token = client.refresh_token(
                        f"{general_api_url(self._config)}/token", refresh_token=refresh_token
                    )
            except OAuthError as exc:
                raise ReconnectNeeded(
                    f"Bokio refused to renew the connection ({scrub(str(exc))}); reconnect the "
                    "company in ledgerbridge."
                ) from exc
            except Exception as exc:
                raise TransientError(f"Could not reach Bokio to renew the token: {exc}") from exc
            secrets.update(_stored(token))
