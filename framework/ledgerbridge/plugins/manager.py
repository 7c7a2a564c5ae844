"""Loading plugins: entry points of the ``ledgerbridge`` group, built-ins and local hooks.

One broken plugin (an import error, a hook with a wrong signature, an unknown hook, a failing
registration) is logged with its distribution's name and skipped; the others keep working.
``LEDGERBRIDGE_STRICT_PLUGINS=1`` turns every such problem into a :class:`PluginError` (CI
sets it). ``LEDGERBRIDGE_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point or distribution
name. Two plugins registering one connector name is an error naming both distributions; the
name is then unavailable until one of them is removed (guessing which one books your money
would be worse).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from ledgerbridge.errors import PluginError
from ledgerbridge.plugins import hookspecs
from ledgerbridge.plugins.markers import PROJECT
from ledgerbridge.plugins.types import ConnectorSpec

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = PROJECT
LOCAL_HOOKS_FILE = "ledgerbridge_hooks.py"
CORE_PLUGIN = "ledgerbridge.plugins.defaults"

#: Contract hooks a connector must implement, by role.
REQUIRED_HOOKS: dict[str, tuple[str, ...]] = {
    "source": (
        "ledgerbridge_source_check_connection",
        "ledgerbridge_source_fetch_order",
        "ledgerbridge_source_iter_orders",
        "ledgerbridge_source_parse_webhook",
        "ledgerbridge_source_normalize_order",
    ),
    "target": (
        "ledgerbridge_target_check_connection",
        "ledgerbridge_target_find_document",
        "ledgerbridge_target_export_document",
        "ledgerbridge_target_export_credit_note",
    ),
}
_OTHER_ROLE_PREFIX = {"source": "ledgerbridge_target_", "target": "ledgerbridge_source_"}


@dataclass
class PluginRecord:
    """One plugin as the host sees it: where it came from and whether it works."""

    name: str
    distribution: str
    version: str
    status: str = "active"
    error: str = ""
    plugin: object | None = None
    connectors: list[ConnectorSpec] = field(default_factory=list)

    @property
    def role(self) -> str:
        """``source``, ``target`` or ``extension`` (a plugin that only implements hooks)."""
        roles = sorted({spec.role for spec in self.connectors})
        return "+".join(roles) if roles else "extension"


def strict_from_env() -> bool:
    """Whether ``LEDGERBRIDGE_STRICT_PLUGINS`` asks for plugin problems to be fatal."""
    return os.environ.get("LEDGERBRIDGE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes"}


def disabled_from_env() -> frozenset[str]:
    """Plugin names listed in ``LEDGERBRIDGE_DISABLE_PLUGINS`` (comma-separated)."""
    raw = os.environ.get("LEDGERBRIDGE_DISABLE_PLUGINS", "")
    return frozenset(name.strip().lower() for name in raw.split(",") if name.strip())


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus tolerant loading, connector bookkeeping and listing."""

    def __init__(self, *, strict: bool = False, disabled: Iterable[str] = ()) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        self.strict = strict
        self.disabled = frozenset(name.lower() for name in disabled)
        self.records: dict[str, PluginRecord] = {}
        self.connectors: dict[str, ConnectorSpec] = {}
        self.connector_owner: dict[str, PluginRecord] = {}
        self.conflicts: dict[str, list[str]] = {}
        # Historic: every plugin's implementation runs as it is registered, so a plugin can
        # publish hookspecs that plugins loaded after it implement.
        self.hook.ledgerbridge_add_hookspecs.call_historic(kwargs={"pluginmanager": self})

    # -- loading --------------------------------------------------------------------------

    def load(
        self,
        *,
        entry_points: bool = True,
        local_hooks: Path | None = None,
        extra: Iterable[tuple[str, object]] = (),
    ) -> PluginManager:
        """Load the core, every installed plugin, ``extra`` (name, module) pairs and local hooks.

        Then collect the connectors they register. Returns ``self`` for chaining.
        """
        core = importlib.import_module(CORE_PLUGIN)
        self._register(PluginRecord("core", "ledgerbridge", _version("ledgerbridge")), core)
        if entry_points:
            for entry_point in _entry_points():
                self._load_entry_point(entry_point)
        for name, plugin in extra:
            self._register(PluginRecord(name, "(registered in code)", ""), plugin)
        if local_hooks is not None:
            self._load_local_hooks(local_hooks)
        self._refuse_unknown_hooks()
        self._collect_connectors()
        return self

    def _load_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        dist = entry_point.dist
        record = PluginRecord(
            name=entry_point.name,
            distribution=dist.name if dist is not None else "(unknown distribution)",
            version=dist.version if dist is not None else "",
        )
        if entry_point.name.lower() in self.disabled or record.distribution.lower() in (
            self.disabled
        ):
            record.status = "disabled"
            self.records[record.name] = record
            self.set_blocked(entry_point.name)
            log.info(
                "Plugin %s (%s) disabled by LEDGERBRIDGE_DISABLE_PLUGINS",
                record.name,
                record.distribution,
            )
            return
        if record.name in self.records:
            self._fail(
                record,
                f"a plugin named {record.name!r} is already loaded "
                f"(from {self.records[record.name].distribution})",
            )
            return
        try:
            plugin = entry_point.load()
        except Exception as exc:  # one broken plugin must not stop the others
            self._fail(record, f"import failed: {type(exc).__name__}: {exc}", exc)
            return
        self._register(record, plugin)

    def _load_local_hooks(self, path: Path) -> None:
        if not path.is_file():
            return
        record = PluginRecord("local-hooks", f"(instance folder: {path})", "")
        module_name = "ledgerbridge_local_hooks"
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            self._fail(record, f"{path} could not be loaded: {type(exc).__name__}: {exc}", exc)
            return
        self._register(record, module)

    def _register(self, record: PluginRecord, plugin: object) -> bool:
        try:
            self.register(plugin, name=record.name)
        except Exception as exc:
            self._fail(record, f"invalid hook implementation: {exc}", exc)
            return False
        record.plugin = plugin
        self.records[record.name] = record
        return True

    def _refuse_unknown_hooks(self) -> None:
        # Checked once everything is loaded: a hook may be published by a later plugin.
        for record in list(self.records.values()):
            if record.status != "active" or record.plugin is None:
                continue
            unknown = self._unknown_hooks(record.plugin)
            if unknown:
                self.unregister(record.plugin)
                record.plugin = None
                self._fail(
                    record,
                    "implements unknown hooks: "
                    + ", ".join(sorted(unknown))
                    + " (misspelt, or written for another ledgerbridge version)",
                )

    def _unknown_hooks(self, plugin: object) -> list[str]:
        unknown = []
        for caller in self.get_hookcallers(plugin) or []:
            if caller.has_spec():
                continue
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if any(not impl.optionalhook for impl in impls):
                unknown.append(caller.name)
        return unknown

    def _fail(self, record: PluginRecord, message: str, exc: BaseException | None = None) -> None:
        record.status = "broken"
        record.error = message
        self.records[record.name] = record
        text = f"Plugin {record.name!r} from distribution {record.distribution!r}: {message}"
        if self.strict:
            raise PluginError(text) from exc
        log.error(
            "%s — skipped; the other plugins keep working.",
            text,
            exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
        )

    # -- connectors -----------------------------------------------------------------------

    def _collect_connectors(self) -> None:
        caller = self.hook.ledgerbridge_register_connectors
        for impl in caller.get_hookimpls():
            record = self.records.get(impl.plugin_name)
            if record is None or record.status != "active":
                continue
            try:
                specs = list(impl.function() or [])
                for spec in specs:
                    if not isinstance(spec, ConnectorSpec):
                        raise PluginError(f"returned {type(spec).__name__}, not a ConnectorSpec")
                    self._check_implementation(spec)
            except Exception as exc:
                self._disable(record, f"connector registration failed: {exc}", exc)
                continue
            for spec in specs:
                self._add_connector(record, spec)

    def _check_implementation(self, spec: ConnectorSpec) -> None:
        implemented = {
            name
            for name in dir(spec.implementation)
            if name.startswith("ledgerbridge_")
            and self.parse_hookimpl_opts(spec.implementation, name) is not None
        }
        missing = [name for name in REQUIRED_HOOKS[spec.role] if name not in implemented]
        if missing:
            raise PluginError(
                f"{spec.role} connector {spec.name!r} does not implement " + ", ".join(missing)
            )
        wrong = sorted(
            name for name in implemented if name.startswith(_OTHER_ROLE_PREFIX[spec.role])
        )
        if wrong:
            raise PluginError(
                f"{spec.role} connector {spec.name!r} implements hooks of the other role: "
                + ", ".join(wrong)
            )

    def _add_connector(self, record: PluginRecord, spec: ConnectorSpec) -> None:
        if spec.name in self.conflicts:
            self.conflicts[spec.name].append(record.distribution)
            return
        owner = self.connector_owner.get(spec.name)
        if owner is not None:
            message = (
                f"Connector {spec.name!r} is registered by two distributions: "
                f"{owner.distribution!r} and {record.distribution!r}. Uninstall one of them; "
                f"until then {spec.name!r} is unavailable."
            )
            self.conflicts[spec.name] = [owner.distribution, record.distribution]
            previous = self.connectors.pop(spec.name)
            self.connector_owner.pop(spec.name)
            owner.connectors.remove(previous)
            self.unregister(name=_connector_plugin_name(spec.name))
            if self.strict:
                raise PluginError(message)
            log.error("%s", message)
            return
        try:
            self.register(spec.implementation, name=_connector_plugin_name(spec.name))
        except Exception as exc:
            self._disable(record, f"connector {spec.name!r} has an invalid hook: {exc}", exc)
            return
        self.connectors[spec.name] = spec
        self.connector_owner[spec.name] = record
        record.connectors.append(spec)

    def _disable(self, record: PluginRecord, message: str, exc: BaseException | None) -> None:
        if record.plugin is not None and self.is_registered(record.plugin):
            self.unregister(record.plugin)
        for spec in list(record.connectors):
            self.connectors.pop(spec.name, None)
            self.connector_owner.pop(spec.name, None)
            self.unregister(name=_connector_plugin_name(spec.name))
        record.connectors.clear()
        self._fail(record, message, exc)

    def connector_plugin(self, name: str) -> object | None:
        """The registered implementation object of connector ``name``."""
        return self.get_plugin(_connector_plugin_name(name))

    # -- listing --------------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """One dict per plugin: name, role, distribution, version, status, hooks, connectors."""
        described = []
        for record in self.records.values():
            hooks: set[str] = set()
            if record.plugin is not None and self.is_registered(record.plugin):
                hooks.update(caller.name for caller in self.get_hookcallers(record.plugin) or [])
            for spec in record.connectors:
                implementation = spec.implementation
                if self.is_registered(implementation):
                    hooks.update(
                        caller.name for caller in self.get_hookcallers(implementation) or []
                    )
            described.append(
                {
                    "name": record.name,
                    "role": record.role,
                    "distribution": record.distribution,
                    "version": record.version,
                    "status": record.status,
                    "error": record.error,
                    "hooks": sorted(hooks),
                    "connectors": [
                        {
                            "name": spec.name,
                            "role": spec.role,
                            "title": spec.title,
                            "capabilities": sorted(spec.capabilities),
                            "sandbox": spec.sandbox is not None,
                        }
                        for spec in record.connectors
                    ],
                }
            )
        return described


def _connector_plugin_name(name: str) -> str:
    return f"connector:{name}"


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: set[tuple[str, str]] = set()
    found = []
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = (entry_point.name, entry_point.value)
        if key in seen:  # the same distribution seen twice on sys.path (editable installs)
            continue
        seen.add(key)
        found.append(entry_point)
    return sorted(found, key=lambda entry_point: entry_point.name)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def create_plugin_manager(
    *,
    strict: bool | None = None,
    disabled: Iterable[str] | None = None,
    entry_points: bool = True,
    local_hooks: Path | None = None,
    extra: Iterable[tuple[str, object]] = (),
) -> PluginManager:
    """A loaded plugin manager; unset options come from the environment."""
    manager = PluginManager(
        strict=strict_from_env() if strict is None else strict,
        disabled=disabled_from_env() if disabled is None else disabled,
    )
    return manager.load(entry_points=entry_points, local_hooks=local_hooks, extra=extra)


def module_plugin(name: str, **hooks: Any) -> ModuleType:
    """A throwaway plugin module holding ``hooks`` (for tests and scripts)."""
    module = ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module
