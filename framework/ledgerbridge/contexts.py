"""What contract hooks receive: a site, a ledger or a route, with their settings and services.

Contexts are plain values built by the runtime from the store; they hold no database session,
so they are safe to pass across threads and to build again in a forked worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledgerbridge.model.document import AccountingDocument, DocumentRow
from ledgerbridge.model.route import RouteSettings
from ledgerbridge.services import MemorySecrets, MemoryServices, Secrets, Services


@dataclass(frozen=True, slots=True)
class SiteContext:
    """One shop (a WooCommerce store) as its source connector sees it."""

    id: int
    key: str
    name: str
    connector: str
    url: str
    settings: Mapping[str, Any]
    secrets: Secrets
    services: Services
    reference_prefix: str = ""
    oss_registered: bool = False
    allow_private_network: bool = False

    def reference(self, source_id: str) -> str:
        """The external reference of a shop object in a ledger: prefix plus the shop's number.

        Sites sharing one ledger get different prefixes, so their numbers never collide.
        """
        return f"{self.reference_prefix}{source_id}"


@dataclass(frozen=True, slots=True)
class LedgerContext:
    """One company in a target system (a Fortnox tenant, a Bokio company)."""

    id: int
    key: str
    name: str
    connector: str
    settings: Mapping[str, Any]
    secrets: Secrets
    services: Services
    plan: str = "free"
    features: frozenset[str] = frozenset()

    def has_feature(self, feature: str) -> bool:
        """Whether the ledger's plan unlocks ``feature`` (for example ``"pdf_archive"``)."""
        return feature in self.features


class PayloadFilters(Protocol):
    """Lets a target pass its payloads through the plugins' payload hooks before sending.

    Targets call ``route.filters.customer(payload, document)`` and friends on every payload
    they build; the runtime wires these to the ``ledgerbridge_*_payload`` hooks.
    """

    def customer(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        """The customer payload after the plugins' filters."""

    def document(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        """The document payload after the plugins' filters."""

    def row(
        self, payload: dict[str, Any], row: DocumentRow, document: AccountingDocument
    ) -> dict[str, Any]:
        """One row payload after the plugins' filters."""

    def extension(self, hook: str, **kwargs: Any) -> Any:
        """Call a hook a connector published itself (None when nobody implements it)."""


class IdentityFilters:
    """Payload filters that change nothing (tests, previews without plugins)."""

    def customer(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        return payload

    def document(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        return payload

    def row(
        self, payload: dict[str, Any], row: DocumentRow, document: AccountingDocument
    ) -> dict[str, Any]:
        return payload

    def extension(self, hook: str, **kwargs: Any) -> Any:
        return None


@dataclass(frozen=True, slots=True)
class RouteContext:
    """A site routed to a ledger, with its accounting settings and the target's own settings."""

    id: int
    site: SiteContext
    ledger: LedgerContext
    settings: RouteSettings = field(default_factory=RouteSettings)
    target_settings: Mapping[str, Any] = field(default_factory=dict)
    filters: PayloadFilters = field(default_factory=IdentityFilters)


def memory_site(**overrides: Any) -> SiteContext:
    """A site context backed by memory (tests, preview, sandboxes)."""
    values: dict[str, Any] = {
        "id": 0,
        "key": "preview",
        "name": "Preview shop",
        "connector": "woocommerce",
        "url": "",
        "settings": {},
        "secrets": MemorySecrets(),
        "services": MemoryServices(),
    }
    values.update(overrides)
    return SiteContext(**values)


def memory_ledger(**overrides: Any) -> LedgerContext:
    """A ledger context backed by memory (tests, preview, sandboxes)."""
    values: dict[str, Any] = {
        "id": 0,
        "key": "preview",
        "name": "Preview ledger",
        "connector": "",
        "settings": {},
        "secrets": MemorySecrets(),
        "services": MemoryServices(),
    }
    values.update(overrides)
    return LedgerContext(**values)


def memory_route(**overrides: Any) -> RouteContext:
    """A route between a memory site and a memory ledger."""
    values: dict[str, Any] = {
        "id": 0,
        "site": overrides.pop("site", None) or memory_site(),
        "ledger": overrides.pop("ledger", None) or memory_ledger(),
    }
    values.update(overrides)
    return RouteContext(**values)
