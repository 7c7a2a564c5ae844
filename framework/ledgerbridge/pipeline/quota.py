"""Monthly transfer quotas: atomic reservation across all workers, durable in the database.

A transfer is one document created in a ledger (an order's document or a credit note; a daily
summary counts once). The period is the calendar month in Europe/Stockholm. A reservation is
taken before the target is called and given back if the export fails before anything was
created; an export that finds no quota left waits (``waiting_quota``) and continues by itself
when the plan is raised or the month rolls over.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ledgerbridge.pipeline.clock import stockholm_period
from ledgerbridge.store.models import Export, Ledger, Notice, Plan, QuotaUsage
from ledgerbridge.store.upsert import insert_ignore

WARNING_SHARE = (2, 3)  # warn when two thirds are used


@dataclass(frozen=True)
class QuotaStatus:
    """A ledger's use of its quota in one period."""

    ledger_id: int
    period: str
    used: int
    limit: int
    plan: str

    @property
    def remaining(self) -> int:
        """Transfers left this period."""
        return max(self.limit - self.used, 0)

    @property
    def warning_at(self) -> int:
        """The count at which the soft warning is given (two thirds, rounded up)."""
        numerator, denominator = WARNING_SHARE
        return -(-self.limit * numerator // denominator)

    @property
    def level(self) -> str:
        """``ok``, ``warning`` (two thirds used) or ``limit`` (all used)."""
        if self.used >= self.limit:
            return "limit"
        if self.used >= self.warning_at:
            return "warning"
        return "ok"


def quota_limit(session: Session, ledger: Ledger) -> int:
    """The monthly quota of the ledger's plan."""
    plan = session.get(Plan, ledger.plan)
    if plan is None:
        raise LookupError(f"Ledger {ledger.key!r} is on unknown plan {ledger.plan!r}")
    return plan.monthly_quota


def status(session: Session, ledger: Ledger, period: str | None = None) -> QuotaStatus:
    """The ledger's quota use in ``period`` (the current month by default)."""
    period = period or stockholm_period()
    used = session.scalar(
        select(QuotaUsage.used).where(
            QuotaUsage.ledger_id == ledger.id, QuotaUsage.period == period
        )
    )
    return QuotaStatus(ledger.id, period, used or 0, quota_limit(session, ledger), ledger.plan)


def reserve(session: Session, ledger: Ledger, export: Export) -> QuotaStatus | None:
    """Reserve one transfer for ``export`` in the current period; None when the quota is used.

    Idempotent: an export that already holds a reservation keeps it. Atomic: the conditional
    UPDATE takes the row lock, so fifty workers racing for the last slot get exactly one.
    The caller commits.
    """
    if export.quota_period is not None:
        return status(session, ledger, export.quota_period)
    period = stockholm_period()
    limit = quota_limit(session, ledger)
    used = _take_one(session, ledger.id, period, limit)
    if used is None:
        # The month's first transfer (the row may also have been made by a racing worker
        # meanwhile), or the quota is used up.
        insert_ignore(
            session,
            QuotaUsage,
            {"ledger_id": ledger.id, "period": period, "used": 0},
            ["ledger_id", "period"],
        )
        used = _take_one(session, ledger.id, period, limit)
    if used is None:
        return None
    export.quota_period = period
    return QuotaStatus(ledger.id, period, used, limit, ledger.plan)


def _take_one(session: Session, ledger_id: int, period: str, limit: int) -> int | None:
    # One statement: the conditional increment takes the row lock and says what it counted.
    return session.scalar(
        update(QuotaUsage)
        .where(
            QuotaUsage.ledger_id == ledger_id,
            QuotaUsage.period == period,
            QuotaUsage.used < limit,
        )
        .values(used=QuotaUsage.used + 1)
        .returning(QuotaUsage.used)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, export: Export, ledger_id: int) -> None:
    """Give back the export's reservation (nothing was created in the ledger). Caller commits."""
    if export.quota_period is None:
        return
    session.execute(
        update(QuotaUsage)
        .where(
            QuotaUsage.ledger_id == ledger_id,
            QuotaUsage.period == export.quota_period,
            QuotaUsage.used > 0,
        )
        .values(used=QuotaUsage.used - 1)
        .execution_options(synchronize_session=False)
    )
    export.quota_period = None


def crossed_threshold(session: Session, ledger: Ledger, quota: QuotaStatus) -> str | None:
    """Record a notice when ``quota`` sits at a threshold not yet noticed this period.

    Returns the level (``warning`` or ``limit``) for the caller to announce through the
    ``ledgerbridge_quota_notice`` hook, once per threshold per month; None otherwise.
    """
    if quota.level == "ok":
        return None
    message = f"{ledger.name}: {quota.used} of {quota.limit} transfers used in {quota.period}" + (
        " — exports wait until the plan is raised or the month ends."
        if quota.level == "limit"
        else "."
    )
    created = insert_ignore(
        session,
        Notice,
        {
            "subject": f"ledger:{ledger.id}",
            "kind": f"quota_{quota.level}",
            "period": f"{quota.period}/{quota.limit}",
            "level": "warning" if quota.level == "warning" else "error",
            "message": message,
        },
        ["subject", "kind", "period"],
    )
    return quota.level if created else None


def waiting_count(session: Session, ledger_id: int) -> int:
    """Exports of the ledger waiting for quota."""
    from ledgerbridge.store.models import ExportState, Route

    return (
        session.scalar(
            select(func.count(Export.id))
            .join(Route, Route.id == Export.route_id)
            .where(Route.ledger_id == ledger_id, Export.state == ExportState.WAITING_QUOTA)
        )
        or 0
    )
