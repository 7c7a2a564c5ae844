"""Routes: connect a site to a ledger with its mapping settings."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.model.route import dump_route_settings, load_route_settings
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Ledger, Route, Site


def _validated(
    runtime: Runtime, ledger: Ledger, settings: dict[str, Any], target_settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        accounting = dump_route_settings(load_route_settings(settings))
    except ValidationError as error:
        raise SetupError("Invalid route settings.", error.normalized_messages()) from error
    spec = runtime.hooks.connector(ledger.connector, "target")
    if spec.route_schema is None:
        if target_settings:
            raise SetupError(f"{spec.title} takes no route settings of its own.")
        return accounting, {}
    try:
        schema = spec.route_schema()
        loaded = schema.load(target_settings)
    except ValidationError as error:
        raise SetupError(
            f"Invalid {spec.title} route settings.", {"target": error.normalized_messages()}
        ) from error
    import json

    dumped = loaded if isinstance(loaded, dict) else schema.dump(loaded)
    return accounting, json.loads(json.dumps(dumped, default=str))


def get_route(session: Session, route_id: int) -> Route:
    """The route with this id; SetupError when there is none."""
    route = session.get(Route, route_id)
    if route is None:
        raise SetupError(f"No route {route_id}.")
    return route


def add_route(
    runtime: Runtime,
    session: Session,
    *,
    site: Site,
    ledger: Ledger,
    settings: dict[str, Any] | None = None,
    target_settings: dict[str, Any] | None = None,
    actor: str,
) -> Route:
    """Route a site to a ledger. Caller commits."""
    existing = session.scalar(
        select(Route).where(Route.site_id == site.id, Route.ledger_id == ledger.id)
    )
    if existing is not None:
        raise SetupError(
            f"Site {site.key!r} is already routed to ledger {ledger.key!r} (route {existing.id})."
        )
    accounting, target = _validated(runtime, ledger, settings or {}, target_settings or {})
    route = Route(site_id=site.id, ledger_id=ledger.id, settings=accounting, target_settings=target)
    session.add(route)
    session.flush()
    audit(
        session,
        actor,
        "route.added",
        f"route:{route.id}",
        site=site.key,
        ledger=ledger.key,
        settings=accounting,
        target_settings=target,
    )
    return route


def update_route(
    runtime: Runtime,
    session: Session,
    route: Route,
    *,
    actor: str,
    settings: dict[str, Any] | None = None,
    target_settings: dict[str, Any] | None = None,
    enabled: bool | None = None,
) -> Route:
    """Change a route's settings (merged over the current ones). Caller commits."""
    merged = {**(route.settings or {}), **(settings or {})}
    merged_target = {**(route.target_settings or {}), **(target_settings or {})}
    accounting, target = _validated(runtime, route.ledger, merged, merged_target)
    route.settings = accounting
    route.target_settings = target
    if enabled is not None:
        route.enabled = enabled
    audit(
        session,
        actor,
        "route.changed",
        f"route:{route.id}",
        settings=settings or {},
        target_settings=target_settings or {},
        enabled=enabled,
    )
    return route


def remove_route(session: Session, route: Route, *, actor: str) -> None:
    """Remove a route and its export history. Caller commits."""
    audit(
        session,
        actor,
        "route.removed",
        f"route:{route.id}",
        site=route.site.key,
        ledger=route.ledger.key,
    )
    session.delete(route)


def route_view(route: Route) -> dict[str, Any]:
    """A route as the CLI and UI show it."""
    return {
        "id": route.id,
        "site": route.site.key,
        "ledger": route.ledger.key,
        "enabled": route.enabled,
        "settings": route.settings,
        "target_settings": route.target_settings,
    }
