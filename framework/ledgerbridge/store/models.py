"""The database schema (SQLAlchemy 2). Migrations in ``store/migrations`` must match it.

The database is the source of truth; Redis is only the transport. Every export's state,
progress and attempts live here, so a flushed Redis or a killed worker loses nothing.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite (which forgets zones) gets them back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (for migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), Decimal: Numeric(18, 2)}


class ExportState(enum.StrEnum):
    """Where an export stands. Terminal states: done, skipped, resolved."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING_QUOTA = "waiting_quota"
    IN_SUMMARY = "in_summary"
    DONE = "done"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"
    SKIPPED = "skipped"
    RESOLVED = "resolved"


#: States in which an export still has work to do and must have a live job.
ACTIVE_STATES = (ExportState.PENDING, ExportState.RUNNING, ExportState.RETRYING)
#: States that need a person (shown under "needs action").
ACTION_STATES = (ExportState.FAILED, ExportState.NEEDS_REVIEW)


class User(Base):
    """A person who may log in: admin (may change settings) or viewer (may only look)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    language: Mapped[str] = mapped_column(String(5), default="sv")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete")


class ApiToken(Base):
    """A per-user token for the JSON API (only its hash is stored)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    last_chars: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="tokens")


class Plan(Base):
    """A plan a ledger can be on: its monthly transfer quota and the features it unlocks."""

    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    monthly_quota: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Site(Base):
    """One shop (a WooCommerce store)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(Text, default=None)
    reference_prefix: Mapped[str] = mapped_column(String(20), default="")
    oss_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_private_network: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_cursor: Mapped[datetime | None] = mapped_column(default=None)
    webhooks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    routes: Mapped[list[Route]] = relationship(back_populates="site", cascade="all, delete")


class Ledger(Base):
    """One company in a target system (a Fortnox tenant, a Bokio company)."""

    __tablename__ = "ledgers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(Text, default=None)
    plan: Mapped[str] = mapped_column(ForeignKey("plans.name"), default="free")
    status: Mapped[str] = mapped_column(String(30), default="ok")
    status_message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    routes: Mapped[list[Route]] = relationship(back_populates="ledger", cascade="all, delete")


class Route(Base):
    """A site routed to a ledger, with its mapping settings."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("site_id", "ledger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id", ondelete="CASCADE"))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="routes")
    ledger: Mapped[Ledger] = relationship(back_populates="routes")


class OrderRecord(Base):
    """The last fetched state of a shop order: raw payload and canonical form."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("site_id", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(40), default="")
    currency: Mapped[str] = mapped_column(String(3), default="SEK")
    total: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0.00"))
    customer_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    modified_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The payloads load when read, not with every record: write-back, the sweeper and the
    # order lists need only the columns above, and decoding a shop's raw order is costly.
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict, deferred=True)
    canonical: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None, deferred=True)
    problem: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The source's digest of what in ``raw`` matters to the books: a webhook carrying the same
    # digest announces nothing new (our own write-back) and queues no fetch.
    content_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __mapper_args__ = {"eager_defaults": False}


Index("ix_orders_site_number", OrderRecord.site_id, OrderRecord.number)


class SyncRequest(Base):
    """An order that must be (re)fetched: written before the job is queued, deleted after.

    It is how a lost job (Redis flushed, worker killed) is found again by the sweeper.
    """

    __tablename__ = "sync_requests"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(40), default="")


class Export(Base):
    """One order, refund or day of sales on one route, as a state machine with its progress."""

    __tablename__ = "exports"
    __table_args__ = (UniqueConstraint("route_id", "kind", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    reference: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(20), default=ExportState.PENDING)
    failure_class: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    target_id: Mapped[str] = mapped_column(String(100), default="")
    quota_period: Mapped[str | None] = mapped_column(String(7), default=None)
    summary_export_id: Mapped[int | None] = mapped_column(
        ForeignKey("exports.id", ondelete="SET NULL"), default=None
    )
    written_back: Mapped[bool] = mapped_column(Boolean, default=False)
    verify_first: Mapped[bool] = mapped_column(Boolean, default=False)
    pdf_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    route: Mapped[Route] = relationship()
    order: Mapped[OrderRecord | None] = relationship()
    attempt_log: Mapped[list[ExportAttempt]] = relationship(
        back_populates="export", cascade="all, delete", order_by="ExportAttempt.number"
    )


Index("ix_exports_state", Export.state, Export.updated_at)


class ExportAttempt(Base):
    """One attempt at an export: outcome, failure class and the masked exchanges."""

    __tablename__ = "export_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    failure_class: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    exchanges: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(200), default="")

    export: Mapped[Export] = relationship(back_populates="attempt_log")


class Binding(Base):
    """(route, kind, source id) → target id. No target document without its binding first."""

    __tablename__ = "bindings"
    __table_args__ = (UniqueConstraint("route_id", "kind", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(100), default="")
    target_id: Mapped[str | None] = mapped_column(String(100), default=None)
    document_kind: Mapped[str] = mapped_column(String(40), default="")
    reserved_at: Mapped[datetime] = mapped_column(default=utcnow)
    bound_at: Mapped[datetime | None] = mapped_column(default=None)


class QuotaUsage(Base):
    """Transfers used by a ledger in one calendar month (Europe/Stockholm)."""

    __tablename__ = "quota_usage"

    ledger_id: Mapped[int] = mapped_column(
        ForeignKey("ledgers.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """Something a user should see once per threshold and period until dismissed."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("subject", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20), default="")
    level: Mapped[str] = mapped_column(String(20), default="info")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(default=None)
    dismissed_by: Mapped[str] = mapped_column(String(150), default="")


class BulkRun(Base):
    """A bulk sync: what it covers, and how far it got."""

    __tablename__ = "bulk_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[str] = mapped_column(String(150), default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    found: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class BulkRunItem(Base):
    """One order a bulk run queued, so its progress can be counted."""

    __tablename__ = "bulk_run_items"
    __table_args__ = (UniqueConstraint("run_id", "site_id", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("bulk_runs.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    """Who did what, when (behandlingshistorik). Details are masked before they get here."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


Index("ix_audit_log_at", AuditRecord.at)


class KeyValue(Base):
    """Durable connector state per site or ledger (``Services.store``)."""

    __tablename__ = "kv"

    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
