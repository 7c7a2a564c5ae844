"""Ledgers: add, change, remove, show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbridge.errors import ConfigError
from ledgerbridge.pipeline import quota
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup import connector_settings
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.setup.sites import check_key
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Ledger, Notice, Plan


def get_ledger(session: Session, key_or_id: str | int) -> Ledger:
    """The ledger with this key or id; SetupError when there is none."""
    ledger = (
        session.get(Ledger, key_or_id)
        if isinstance(key_or_id, int)
        else session.scalar(select(Ledger).where(Ledger.key == key_or_id))
    )
    if ledger is None:
        raise SetupError(f"No ledger {key_or_id!r}.")
    return ledger


def add_ledger(
    runtime: Runtime,
    session: Session,
    *,
    key: str,
    name: str,
    connector: str,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    plan: str = "free",
    actor: str,
) -> Ledger:
    """Add a ledger after validating its connector settings. Caller commits."""
    check_key(key)
    if session.scalar(select(Ledger).where(Ledger.key == key)) is not None:
        raise SetupError(f"A ledger with key {key!r} exists.", {"key": ["Already in use."]})
    try:
        spec = runtime.hooks.connector(connector, "target")
    except ConfigError as error:
        raise SetupError(str(error), {"connector": [str(error)]}) from error
    if session.get(Plan, plan) is None:
        raise SetupError(f"Unknown plan {plan!r}.", {"plan": ["Unknown plan."]})
    plain, hidden = connector_settings.validate(spec, settings or {}, secrets or {})
    ledger = Ledger(
        key=key,
        name=name.strip() or key,
        connector=spec.name,
        settings=plain,
        secrets=runtime.box.encrypt(hidden),
        plan=plan,
    )
    session.add(ledger)
    session.flush()
    audit(
        session,
        actor,
        "ledger.added",
        f"ledger:{ledger.id}",
        key=key,
        connector=connector,
        plan=plan,
        settings=plain,
        secrets=sorted(hidden),
    )
    return ledger


def update_ledger(
    runtime: Runtime,
    session: Session,
    ledger: Ledger,
    *,
    actor: str,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    name: str | None = None,
) -> Ledger:
    """Change a ledger's name, settings or secrets (secrets not given stay). Caller commits.

    Plans change through :func:`ledgerbridge.pipeline.actions.set_plan` (waiting exports
    resume).
    """
    if settings is not None or secrets is not None:
        spec = runtime.hooks.connector(ledger.connector, "target")
        plain, hidden = connector_settings.validate(
            spec,
            {**(ledger.settings or {}), **(settings or {})},
            secrets or {},
            existing_secrets=runtime.box.decrypt(ledger.secrets),
        )
        ledger.settings = plain
        ledger.secrets = runtime.box.encrypt(hidden)
    if name is not None:
        ledger.name = name.strip() or ledger.key
    audit(
        session,
        actor,
        "ledger.changed",
        f"ledger:{ledger.id}",
        settings=sorted(settings or {}),
        secrets=sorted(secrets or {}),
        name=name,
    )
    return ledger


def remove_ledger(session: Session, ledger: Ledger, *, actor: str) -> None:
    """Remove a ledger and its routes (documents in the ledger itself stay). Caller commits."""
    audit(session, actor, "ledger.removed", f"ledger:{ledger.id}", key=ledger.key)
    session.delete(ledger)


def ledger_view(runtime: Runtime, session: Session, ledger: Ledger) -> dict[str, Any]:
    """A ledger as the CLI and UI show it: plan, quota use, notices, masked secrets."""
    spec = runtime.hooks.connectors.get(ledger.connector)
    usage = quota.status(session, ledger)
    plan = session.get(Plan, ledger.plan)
    notices = session.scalars(
        select(Notice)
        .where(Notice.subject == f"ledger:{ledger.id}", Notice.dismissed_at.is_(None))
        .order_by(Notice.created_at)
    )
    return {
        "id": ledger.id,
        "key": ledger.key,
        "name": ledger.name,
        "connector": ledger.connector,
        "settings": ledger.settings,
        "secrets": connector_settings.masked_secrets(spec, runtime.box.decrypt(ledger.secrets)),
        "plan": ledger.plan,
        "plan_features": list(plan.features) if plan else [],
        "status": ledger.status,
        "status_message": ledger.status_message,
        "quota": {
            "period": usage.period,
            "used": usage.used,
            "limit": usage.limit,
            "remaining": usage.remaining,
            "level": usage.level,
            "waiting": quota.waiting_count(session, ledger.id),
        },
        "notices": [
            {"id": n.id, "kind": n.kind, "level": n.level, "message": n.message} for n in notices
        ],
        "sites": sorted({route.site.key for route in ledger.routes}),
        "routes": [route.id for route in ledger.routes],
    }
