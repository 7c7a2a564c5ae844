"""Small value types that contract hooks return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ledgerbridge.model.order import ItemKind, _Replaceable


@dataclass(frozen=True, slots=True)
class ConnectionStatus(_Replaceable):
    """The answer to "test connection": ok or not, and a message the user can act on."""

    ok: bool
    message: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Totals(_Replaceable):
    """Totals of a document as the target computed them (read back after create)."""

    total: Decimal
    vat: Decimal
    currency: str = "SEK"


@dataclass(frozen=True, slots=True)
class ExportResult(_Replaceable):
    """What a target created for one document.

    ``review`` is non-empty when the document was created but does not match (for example the
    target's totals differ from the shop's): the export then waits for review and is never
    created a second time.
    """

    target_id: str
    document_kind: str
    url: str = ""
    totals: Totals | None = None
    review: str = ""
    details: Mapping[str, str] = field(default_factory=dict)


class WebhookAction(StrEnum):
    """What happened to the resource a webhook names."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    RESTORED = "restored"
    PING = "ping"


@dataclass(frozen=True, slots=True)
class WebhookEvent(_Replaceable):
    """A verified webhook delivery: which order changed and how.

    ``content_digest`` is the source's ``order_digest`` of the order the delivery carries, when
    it carries the order's state: equal to the digest of the order last fetched, the delivery
    announces nothing new (e.g. only our own write-back) and no fetch is queued. Empty when
    unknown.
    """

    action: WebhookAction
    order_id: str = ""
    topic: str = ""
    delivery_id: str = ""
    content_digest: str = ""


@dataclass(frozen=True, slots=True)
class WebhookStatus(_Replaceable):
    """One webhook registered at the source, and its health."""

    id: str
    topic: str
    delivery_url: str
    status: str
    repaired: bool = False
    message: str = ""


@dataclass(frozen=True, slots=True)
class ReferenceItem(_Replaceable):
    """One entry of target reference data (an account, a way of delivery, a payment mode)."""

    code: str
    name: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Product(_Replaceable):
    """A shop product or variation, for article sync and stock updates."""

    id: str
    sku: str
    name: str
    price: Decimal
    vat_rate: Decimal
    prices_include_tax: bool = True
    kind: ItemKind = ItemKind.GOODS
    parent_id: str = ""
    stock_quantity: Decimal | None = None
    manage_stock: bool = False
    unit: str = "st"
    weight: Decimal | None = None
    dimensions: Mapping[str, Decimal] = field(default_factory=dict)
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StockLevel(_Replaceable):
    """Stock of one SKU as one side reports it."""

    sku: str
    quantity: Decimal
    product_id: str = ""
    parent_id: str = ""


@dataclass(frozen=True, slots=True)
class OrderSummary(_Replaceable):
    """An order as a listing names it: enough to queue it (the worker fetches the rest)."""

    id: str
    status: str
    modified_at: datetime
    number: str = ""
