"""Sites: add, change, remove, show."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.errors import ConfigError
from ledgerbridge.netcheck import check_url
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup import connector_settings
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Site

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9-]{0,20}$")


def check_key(key: str) -> str:
    """A valid site or ledger key (lower-case letters, digits and dashes, 3-60 characters)."""
    if not KEY_PATTERN.match(key):
        raise SetupError("Invalid key.", {"key": ["Use 3-60 lower-case letters, digits or '-'."]})
    return key


def get_site(session: Session, key_or_id: str | int) -> Site:
    """The site with this key or id; SetupError when there is none."""
    site = (
        session.get(Site, key_or_id)
        if isinstance(key_or_id, int)
        else session.scalar(select(Site).where(Site.key == key_or_id))
    )
    if site is None:
        raise SetupError(f"No site {key_or_id!r}.")
    return site


def _url(url: str, allow_private_network: bool) -> str:
    try:
        return check_url(url, allow_private_network=allow_private_network)
    except ConfigError as error:
        raise SetupError(str(error), {"url": [str(error)]}) from error


def add_site(
    runtime: Runtime,
    session: Session,
    *,
    key: str,
    name: str,
    connector: str,
    url: str,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    reference_prefix: str = "",
    oss_registered: bool = False,
    allow_private_network: bool = False,
    actor: str,
) -> Site:
    """Add a site after validating its URL and connector settings. Caller commits."""
    check_key(key)
    if session.scalar(select(Site).where(Site.key == key)) is not None:
        raise SetupError(f"A site with key {key!r} exists.", {"key": ["Already in use."]})
    try:
        spec = runtime.hooks.connector(connector, "source")
    except ConfigError as error:
        raise SetupError(str(error), {"connector": [str(error)]}) from error
    if not PREFIX_PATTERN.match(reference_prefix):
        raise SetupError(
            "Invalid reference prefix.", {"reference_prefix": ["Up to 20 letters, digits or '-'."]}
        )
    plain, hidden = connector_settings.validate(spec, settings or {}, secrets or {})
    site = Site(
        key=key,
        name=name.strip() or key,
        connector=spec.name,
        url=_url(url, allow_private_network),
        settings=plain,
        secrets=runtime.box.encrypt(hidden),
        reference_prefix=reference_prefix,
        oss_registered=oss_registered,
        allow_private_network=allow_private_network,
    )
    session.add(site)
    session.flush()
    audit(
        session,
        actor,
        "site.added",
        f"site:{site.id}",
        key=key,
        connector=connector,
        url=site.url,
        settings=plain,
        secrets=sorted(hidden),
    )
    return site


def update_site(
    runtime: Runtime,
    session: Session,
    site: Site,
    *,
    actor: str,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    **fields: Any,
) -> Site:
    """Change a site's fields, settings or secrets (secrets not given stay). Caller commits."""
    allowed = {
        "name",
        "url",
        "reference_prefix",
        "oss_registered",
        "allow_private_network",
        "enabled",
        "poll_enabled",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise SetupError(f"Unknown site fields: {', '.join(sorted(unknown))}.")
    if "reference_prefix" in fields and not PREFIX_PATTERN.match(fields["reference_prefix"]):
        raise SetupError(
            "Invalid reference prefix.", {"reference_prefix": ["Up to 20 letters, digits or '-'."]}
        )
    allow = fields.get("allow_private_network", site.allow_private_network)
    if "url" in fields or "allow_private_network" in fields:
        fields["url"] = _url(fields.get("url", site.url), allow)
    if settings is not None or secrets is not None:
        spec = runtime.hooks.connector(site.connector, "source")
        plain, hidden = connector_settings.validate(
            spec,
            {**(site.settings or {}), **(settings or {})},
            secrets or {},
            existing_secrets=runtime.box.decrypt(site.secrets),
        )
        site.settings = plain
        site.secrets = runtime.box.encrypt(hidden)
    for name, value in fields.items():
        setattr(site, name, value)
    audit(
        session,
        actor,
        "site.changed",
        f"site:{site.id}",
        fields=sorted(fields),
        settings=sorted(settings or {}),
        secrets=sorted(secrets or {}),
    )
    return site


def remove_site(session: Session, site: Site, *, actor: str) -> None:
    """Remove a site and its routes (bookings in the ledgers are untouched). Caller commits."""
    audit(session, actor, "site.removed", f"site:{site.id}", key=site.key)
    session.delete(site)


def site_view(runtime: Runtime, site: Site) -> dict[str, Any]:
    """A site as the CLI and UI show it: secrets masked to their last characters."""
    spec = runtime.hooks.connectors.get(site.connector)
    return {
        "id": site.id,
        "key": site.key,
        "name": site.name,
        "connector": site.connector,
        "url": site.url,
        "settings": site.settings,
        "secrets": connector_settings.masked_secrets(spec, runtime.box.decrypt(site.secrets)),
        "reference_prefix": site.reference_prefix,
        "oss_registered": site.oss_registered,
        "allow_private_network": site.allow_private_network,
        "enabled": site.enabled,
        "poll_enabled": site.poll_enabled,
        "poll_cursor": site.poll_cursor.isoformat() if site.poll_cursor else None,
        "webhooks": site.webhooks,
        "routes": [route.id for route in site.routes],
    }
