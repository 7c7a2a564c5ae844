"""A test shop (source ``memshop``) and a test ledger (target ``memledger``).

Installed as a fake distribution (``lbtest-connectors``) whose entry point is found like any
third-party connector's. State lives in Redis under the site's/ledger's ``namespace``
setting, so a test and its worker subprocesses see the same shop and ledger. Knobs (a Redis
hash ``{namespace}:knobs``) inject faults: transient failures, data errors, and a worker
killed right after the ledger created a document.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
from decimal import Decimal

import redis
from marshmallow import Schema, fields

from ledgerbridge import hookimpl
from ledgerbridge.errors import (
    ConfigError,
    DataError,
    NotFound,
    TransientError,
    WebhookRejected,
)
from ledgerbridge.model import (
    ConnectionStatus,
    ExportResult,
    OrderSummary,
    StockLevel,
    WebhookAction,
    WebhookEvent,
    WebhookStatus,
)
from ledgerbridge.model.schemas import load_order
from ledgerbridge.plugins.types import ConnectorSpec


class Settings(Schema):
    namespace = fields.String(required=True)
    redis_url = fields.String(load_default="redis://127.0.0.1:6379/0")
    token = fields.String(load_default="", metadata={"secret": True})


def _redis(context) -> tuple[redis.Redis, str]:
    return redis.Redis.from_url(context.settings["redis_url"]), context.settings["namespace"]


def _knob(connection: redis.Redis, namespace: str, name: str) -> str | None:
    value = connection.hget(f"{namespace}:knobs", name)
    return value.decode() if value is not None else None


def _take(connection: redis.Redis, namespace: str, name: str) -> bool:
    """Consume one unit of a counting knob."""
    return connection.hincrby(f"{namespace}:knobs", name, -1) >= 0


class MemoryShop:
    """Source contract over orders stored as canonical JSON in Redis."""

    @hookimpl
    def ledgerbridge_source_check_connection(self, site):
        connection, _ = _redis(site)
        connection.ping()
        return ConnectionStatus(ok=True, message="memory shop answers")

    @hookimpl
    def ledgerbridge_source_fetch_order(self, site, order_id):
        connection, namespace = _redis(site)
        if _take(connection, namespace, "shop_transient"):
            raise TransientError("memory shop busy")
        raw = connection.hget(f"{namespace}:orders", order_id)
        if raw is None:
            raise NotFound(order_id)
        return json.loads(raw)

    @hookimpl
    def ledgerbridge_source_iter_orders(self, site, modified_after, statuses):
        connection, namespace = _redis(site)
        orders = [json.loads(raw) for raw in connection.hvals(f"{namespace}:orders")]
        orders.sort(key=lambda order: (order["modified_at"], order["id"]))
        for data in orders:
            order = load_order(data)
            if modified_after is not None and order.modified_at <= modified_after:
                continue
            if statuses and order.status not in statuses:
                continue
            yield OrderSummary(
                id=order.id, status=order.status, modified_at=order.modified_at, number=order.number
            )

    @hookimpl
    def ledgerbridge_source_parse_webhook(self, site, headers, body):
        expected = hmac.new(site.secrets["token"].encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-test-signature", "")):
            raise WebhookRejected("bad signature", status=401)
        try:
            data = json.loads(body)
        except ValueError as error:
            raise WebhookRejected("bad JSON", status=400) from error
        return WebhookEvent(
            action=WebhookAction(data["action"]),
            order_id=str(data["order_id"]),
            content_digest=str(data.get("digest", "")),
        )

    @hookimpl
    def ledgerbridge_source_order_digest(self, site, raw):
        kept = {key: value for key, value in raw.items() if key != "modified_at"}
        return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()

    @hookimpl
    def ledgerbridge_source_normalize_order(self, site, raw):
        try:
            return load_order(raw)
        except Exception as error:
            raise DataError(f"unreadable test order: {error}") from error

    @hookimpl
    def ledgerbridge_source_register_webhooks(self, site, delivery_url):
        connection, namespace = _redis(site)
        repaired = connection.hget(f"{namespace}:webhook", "status") == b"disabled"
        connection.hset(f"{namespace}:webhook", mapping={"status": "active", "url": delivery_url})
        return [
            WebhookStatus(
                id="1",
                topic="order.updated",
                delivery_url=delivery_url,
                status="active",
                repaired=repaired,
            )
        ]

    @hookimpl
    def ledgerbridge_source_add_order_note(self, site, order_id, note, status):
        connection, namespace = _redis(site)
        connection.rpush(f"{namespace}:notes:{order_id}", json.dumps({"note": note, **status}))

    @hookimpl
    def ledgerbridge_source_update_stock(self, site, levels):
        connection, namespace = _redis(site)
        changed = 0
        for level in levels:
            key = f"{namespace}:stock"
            if connection.hget(key, level.sku) != str(level.quantity).encode():
                connection.hset(key, level.sku, str(level.quantity))
                changed += 1
        return changed

    @hookimpl
    def ledgerbridge_source_iter_products(self, site):
        return iter(())


class MemoryLedger:
    """Target contract over documents stored in Redis, numbered like a real ledger."""

    def _create(self, ledger, document, kind):
        connection, namespace = _redis(ledger)
        message = _knob(connection, namespace, "data_error")
        if message:
            raise DataError(message)
        message = _knob(connection, namespace, "config_error")
        if message:
            raise ConfigError(message)
        message = _knob(connection, namespace, "bug")
        if message:
            raise RuntimeError(message)
        if _take(connection, namespace, "transient_before"):
            raise TransientError("memory ledger busy (before create)", refused=True)
        number = connection.incr(f"{namespace}:number")
        record = {
            "number": str(number),
            "kind": kind,
            "reference": document.reference,
            "total": f"{document.total:.2f}",
            "vat": f"{document.total_vat:.2f}",
            "type": document.document_type.value,
            "pid": os.getpid(),
        }
        connection.rpush(f"{namespace}:documents", json.dumps(record))
        if _take(connection, namespace, "die_after_create"):
            # The worker (parent and work horse) dies between "created" and "recorded".
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        if _take(connection, namespace, "transient_after"):
            raise TransientError("memory ledger timed out after creating the document")
        return {"number": str(number), "kind": kind}

    def _find(self, ledger, reference):
        connection, namespace = _redis(ledger)
        for raw in connection.lrange(f"{namespace}:documents", 0, -1):
            record = json.loads(raw)
            if record["reference"] == reference:
                return {"number": record["number"], "kind": record["kind"]}
        return None

    def _result(self, step):
        return ExportResult(target_id=step["number"], document_kind=step["kind"])

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger):
        connection, _ = _redis(ledger)
        connection.ping()
        return ConnectionStatus(ok=True, message="memory ledger answers")

    @hookimpl
    def ledgerbridge_target_find_document(self, ledger, document):
        found = self._find(ledger, document.reference)
        return self._result(found) if found else None

    @hookimpl
    def ledgerbridge_target_export_document(self, ledger, route, document, progress):
        def create():
            route.filters.document({"reference": document.reference}, document)
            return self._create(ledger, document, "invoice")

        step = progress.run(
            "document", create, recover=lambda: self._find(ledger, document.reference)
        )
        return self._result(step)

    @hookimpl
    def ledgerbridge_target_export_credit_note(self, ledger, route, document, original, progress):
        step = progress.run(
            "credit",
            lambda: self._create(ledger, document, "credit_note"),
            recover=lambda: self._find(ledger, document.reference),
        )
        return self._result(step).replace(details={"original": original.target_id})

    @hookimpl
    def ledgerbridge_target_build_payloads(self, ledger, route, document):
        return {"document": route.filters.document({"reference": document.reference}, document)}

    @hookimpl
    def ledgerbridge_target_stock_levels(self, ledger, skus):
        return [StockLevel(sku="SKU-1", quantity=Decimal("7"))]

    @hookimpl
    def ledgerbridge_target_fetch_pdf(self, ledger, result):
        return b"%PDF-1.4 test " + result.target_id.encode()


@hookimpl
def ledgerbridge_quota_notice(ledger, used, limit, level):
    """Record quota notices where tests can see them, whichever process raised them."""
    if ledger.connector == "memledger":
        connection, namespace = _redis(ledger)
        connection.rpush(f"{namespace}:quota_notices", json.dumps([used, limit, level]))


@hookimpl
def ledgerbridge_register_connectors():
    return [
        ConnectorSpec(
            name="memshop",
            role="source",
            title="Memory shop",
            implementation=MemoryShop(),
            settings_schema=Settings,
        ),
        ConnectorSpec(
            name="memledger",
            role="target",
            title="Memory ledger",
            implementation=MemoryLedger(),
            settings_schema=Settings,
            capabilities=frozenset({"invoice", "credit_note"}),
        ),
    ]
