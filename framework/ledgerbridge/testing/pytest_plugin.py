"""The ledgerbridge pytest plugin: fixtures for testing connectors (installed with ledgerbridge).

Activated automatically through the ``pytest11`` entry point, so a connector's own test suite
has these fixtures without importing anything:

* ``plugin_manager`` — a strict plugin host with every installed plugin plus ``extra_plugins``
  (override that fixture to add a plugin module that is not installed);
* ``register_plugin`` — register a test plugin for one test (unregistered afterwards);
* ``hooks`` — the typed facade over ``plugin_manager``;
* ``serve_sandbox`` — run any installed connector's sandbox over real HTTP;
  ``woocommerce_sandbox``, ``fortnox_sandbox`` and ``bokio_sandbox`` are the three built-in ones;
* ``fixture_orders`` — the canonical fixture orders with their expected totals
  (:mod:`ledgerbridge.testing.orders`);
* ``secret_registry`` — a clean secret-scrubbing registry.

The target conformance suite is a class to subclass: :mod:`ledgerbridge.testing.conformance`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

pytest.register_assert_rewrite("ledgerbridge.testing.conformance")

from ledgerbridge import hookimpl  # noqa: E402  (after the assertion-rewrite registration)
from ledgerbridge.errors import PluginError  # noqa: E402
from ledgerbridge.masking import registry  # noqa: E402
from ledgerbridge.plugins.facade import Hooks  # noqa: E402
from ledgerbridge.plugins.manager import (  # noqa: E402
    PluginManager,
    create_plugin_manager,
    module_plugin,
)
from ledgerbridge.plugins.types import SandboxOptions  # noqa: E402
from ledgerbridge.testing import orders  # noqa: E402
from ledgerbridge.testing.servers import RunningServer, serve_wsgi  # noqa: E402


@pytest.fixture
def secret_registry() -> Iterator[None]:
    """A clean process-wide secret registry for the duration of a test."""
    registry.clear()
    yield
    registry.clear()


@pytest.fixture
def extra_plugins() -> list[tuple[str, object]]:
    """(name, plugin) pairs ``plugin_manager`` registers besides the installed plugins.

    Override it in a ``conftest.py`` to test a connector that is not installed yet::

        @pytest.fixture
        def extra_plugins():
            return [("sie", ledgerbridge_sie.plugin)]
    """
    return []


@pytest.fixture
def plugin_manager(extra_plugins: list[tuple[str, object]]) -> PluginManager:
    """A strict plugin host: the core, every installed plugin and ``extra_plugins``."""
    return create_plugin_manager(strict=True, extra=extra_plugins)


@pytest.fixture
def register_plugin(plugin_manager: PluginManager) -> Iterator[Callable[..., object]]:
    """Register a plugin on ``plugin_manager`` for this test; it is unregistered afterwards.

    Pass a plugin object (a module or an instance with ``@hookimpl`` methods), or hook
    functions by name (plain functions are marked ``@hookimpl`` for you)::

        def test_cost_center(register_plugin, hooks):
            def ledgerbridge_row_payload(payload):
                return {**payload, "CostCenter": "WEB"}
            register_plugin(ledgerbridge_row_payload=ledgerbridge_row_payload)

    A plugin implementing a hook no hookspec defines is refused with ``PluginError``.
    """
    registered: list[object] = []

    def register(plugin: object | None = None, /, *, name: str | None = None, **hooks: Any):
        if plugin is None:
            marked = {
                hook: function if hasattr(function, "ledgerbridge_impl") else hookimpl(function)
                for hook, function in hooks.items()
            }
            plugin = module_plugin(name or f"test-plugin-{len(registered) + 1}", **marked)
        elif hooks:
            raise TypeError("pass either a plugin object or hook functions, not both")
        plugin_manager.register(plugin, name=name)
        unknown = [
            caller.name
            for caller in plugin_manager.get_hookcallers(plugin) or []
            if not caller.has_spec()
        ]
        if unknown:
            plugin_manager.unregister(plugin)
            raise PluginError(f"test plugin implements unknown hooks: {', '.join(unknown)}")
        registered.append(plugin)
        return plugin

    yield register
    for plugin in reversed(registered):
        if plugin_manager.is_registered(plugin):
            plugin_manager.unregister(plugin)


@pytest.fixture
def hooks(plugin_manager: PluginManager) -> Hooks:
    """The typed facade over ``plugin_manager`` (what the pipeline calls)."""
    return Hooks(plugin_manager)


@pytest.fixture
def serve_sandbox(plugin_manager: PluginManager) -> Iterator[Callable[..., RunningServer]]:
    """Start an installed connector's sandbox on a free loopback port for this test.

    ``serve_sandbox("fortnox", seed=False, extra={"rate_limit": "5"})`` returns the running
    server (``.url``, ``.app``); keyword arguments become :class:`SandboxOptions`.
    """
    with ExitStack() as stack:

        def serve(name: str, **options: Any) -> RunningServer:
            spec = plugin_manager.connectors.get(name)
            if spec is None or spec.sandbox is None:
                with_sandbox = sorted(n for n, s in plugin_manager.connectors.items() if s.sandbox)
                raise LookupError(f"no installed connector {name!r} with a sandbox: {with_sandbox}")
            app = spec.sandbox.create_app(SandboxOptions(**options))
            return stack.enter_context(serve_wsgi(app))

        yield serve


@pytest.fixture
def woocommerce_sandbox(serve_sandbox: Callable[..., RunningServer]) -> RunningServer:
    """The WooCommerce sandbox store (seeded with orders) over real HTTP."""
    return serve_sandbox("woocommerce")


@pytest.fixture
def fortnox_sandbox(serve_sandbox: Callable[..., RunningServer]) -> RunningServer:
    """The Fortnox sandbox (API v3 and OAuth2) over real HTTP."""
    return serve_sandbox("fortnox")


@pytest.fixture
def bokio_sandbox(serve_sandbox: Callable[..., RunningServer]) -> RunningServer:
    """The Bokio sandbox (company API) over real HTTP."""
    return serve_sandbox("bokio")


@pytest.fixture
def fixture_orders() -> dict[str, orders.FixtureOrder]:
    """The canonical fixture orders, dated three days ago, with their expected totals."""
    return orders.fixture_orders()
