"""What plugins register: connectors (source or target) and their sandboxes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import Schema

from ledgerbridge.errors import PluginError
from ledgerbridge.services import RateLimit

Role = Literal["source", "target"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """How to start a sandbox: where to listen, whether to seed it, fault and latency knobs."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: bool = True
    latency_ms: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """A connector's local fake of its remote API, started by ``ledgerbridge sandbox NAME``.

    ``create_app(options)`` returns a WSGI application; ``describe(app, base_url)`` returns
    the lines printed at start (credentials, endpoints) so a developer can use it at once.
    """

    create_app: Callable[[SandboxOptions], Any]
    default_port: int
    describe: Callable[[Any, str], list[str]] = lambda app, base_url: []
    description: str = ""


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """One connector a plugin provides.

    ``implementation`` is an object whose ``@hookimpl`` methods implement the contract hooks
    of its role (``ledgerbridge_source_*`` or ``ledgerbridge_target_*``); the host registers
    it as its own pluggy plugin and sends it only the calls for sites or ledgers that use
    this connector.

    ``settings_schema`` validates the site (source) or ledger (target) settings; fields whose
    ``metadata`` has ``secret=True`` are stored encrypted and never shown again.
    ``route_schema`` (targets) validates the target's own route settings. Both also drive the
    settings forms in the web UI, so a new connector needs no UI code.
    """

    name: str
    role: Role
    title: str
    implementation: object
    settings_schema: type[Schema] | None = None
    route_schema: type[Schema] | None = None
    capabilities: frozenset[str] = frozenset()
    rate_limit: RateLimit | None = None
    sandbox: SandboxSpec | None = None
    description: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        name = self.name.strip().lower()
        if not NAME_PATTERN.match(name):
            raise PluginError(
                f"Connector name {self.name!r} is invalid: use 2-40 lower-case letters, digits, "
                "'-' or '_', starting with a letter."
            )
        if self.role not in ("source", "target"):
            raise PluginError(f"Connector {name!r} has role {self.role!r}; use source or target.")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))

    def secret_fields(self) -> list[str]:
        """Names of the settings fields that are secrets."""
        if self.settings_schema is None:
            return []
        return [
            name
            for name, schema_field in self.settings_schema().fields.items()
            if schema_field.metadata.get("secret")
        ]
