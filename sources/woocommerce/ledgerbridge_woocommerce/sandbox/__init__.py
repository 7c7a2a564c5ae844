"""A local WooCommerce: ``/wp-json/wc/v3`` for orders, refunds, notes, products, customers and
webhooks, with WooCommerce's authentication, pagination, errors and signed webhook deliveries,
seeded with a realistic Swedish shop. Start it with ``ledgerbridge sandbox woocommerce``.

Options (``--option KEY=VALUE`` on the command line, ``SandboxOptions.extra`` in code):
``consumer_key``/``consumer_secret`` (default ``ck_sandbox``/``cs_sandbox``), ``key_permissions``
(``read_write``, ``read``, ``write``), ``https`` (behave as if served over https: Basic and
query-string keys instead of OAuth 1.0a), ``orders`` (how many to seed, default 60),
``random_seed``, and every knob of :class:`~ledgerbridge_woocommerce.sandbox.deliveries.Knobs`
(``error_rate``, ``drop_rate``, ``duplicate_rate``, ``copies``, ``reorder``,
``delivery_delay_ms``, ``delivery_timeout_s``, ``max_failures``). ``SandboxOptions.latency_ms``
delays every API response.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.plugins.types import SandboxOptions, SandboxSpec
from ledgerbridge_woocommerce.sandbox.app import Sandbox, build_app
from ledgerbridge_woocommerce.sandbox.deliveries import Knobs
from ledgerbridge_woocommerce.sandbox.seed import seed
from ledgerbridge_woocommerce.sandbox.wcauth import ApiKey

DEFAULT_PORT = 8101
DEFAULT_KEY = "ck_sandbox"
DEFAULT_SECRET = "cs_sandbox"  # noqa: S105 - the documented sandbox key, not a secret
_TRUE = ("1", "true", "yes", "on")


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def create_app(options: SandboxOptions) -> Any:
    """The sandbox WSGI app for ``options`` (seeded unless ``options.seed`` is false)."""
    extra = dict(options.extra)
    knobs = Knobs(latency_ms=options.latency_ms)
    knob_values = {
        name: extra.pop(name) for name in list(extra) if name in Knobs.__dataclass_fields__
    }
    knobs.update(knob_values)
    key = ApiKey(
        consumer_key=str(extra.pop("consumer_key", DEFAULT_KEY)),
        consumer_secret=str(extra.pop("consumer_secret", DEFAULT_SECRET)),
        permissions=str(extra.pop("key_permissions", "read_write")),
    )
    https = _flag(extra.pop("https", False))
    orders = int(extra.pop("orders", 60))
    random_seed = int(extra.pop("random_seed", 2026))
    if extra:
        raise ValueError(f"Unknown WooCommerce sandbox option(s): {', '.join(sorted(extra))}.")
    scheme = "https" if https else "http"
    sandbox = Sandbox(
        keys=[key],
        https=https,
        knobs=knobs,
        source_url=f"{scheme}://{options.host}:{options.port}",
        random_seed=random_seed,
    )
    if options.seed and orders:
        seed(sandbox.shop, orders, random_seed)
    return build_app(sandbox)


def sandbox_of(app: Any) -> Sandbox:
    """The :class:`Sandbox` behind an app made by :func:`create_app` (tests use it)."""
    return app.extensions["woocommerce_sandbox"]


def describe(app: Any, base_url: str) -> list[str]:
    """What ``ledgerbridge sandbox woocommerce`` prints at start."""
    sandbox = sandbox_of(app)
    key = sandbox.keys[0]
    auth = (
        "Basic auth or ?consumer_key=&consumer_secret= (https mode)"
        if sandbox.authenticator.https
        else "OAuth 1.0a one-legged signatures (plain http, as WooCommerce requires)"
    )
    return [
        f"REST API:      {base_url}/wp-json/wc/v3/  (also {base_url}/?rest_route=/wc/v3/...)",
        f"Consumer key:  {key.consumer_key}",
        f"Secret:        {key.consumer_secret}",
        f"Auth:          {auth}",
        f"Seeded orders: {len(sandbox.shop.orders)} (Swedish shop, 2026; --no-seed for none)",
        "Admin API (no auth):",
        f"  GET  {base_url}/_sandbox                      state, knobs, webhooks with secrets",
        f"  POST {base_url}/_sandbox/knobs                {{latency_ms, error_rate, drop_rate, "
        "duplicate_rate, copies, reorder, delivery_delay_ms, max_failures}",
        f"  POST {base_url}/_sandbox/seed                 {{orders, random_seed}}",
        f"  POST {base_url}/_sandbox/reset                {{seed, orders, random_seed}}",
        f"  POST {base_url}/_sandbox/orders/<id>/touch    bump date_modified (order.updated)",
        f"  POST {base_url}/_sandbox/orders/<id>/restore  untrash (order.restored)",
        f"  GET  {base_url}/_sandbox/deliveries?wait=5    webhook delivery log",
    ]


SANDBOX = SandboxSpec(
    create_app=create_app,
    default_port=DEFAULT_PORT,
    describe=describe,
    description="A WooCommerce REST v3 store with a seeded Swedish shop and signed webhooks.",
)
