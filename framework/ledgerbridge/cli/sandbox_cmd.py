"""``ledgerbridge sandbox NAME``: run a connector's local fake of its remote API."""

from __future__ import annotations

import click

from ledgerbridge.cli import main
from ledgerbridge.plugins.manager import create_plugin_manager
from ledgerbridge.plugins.types import SandboxOptions


@main.command("sandbox")
@click.argument("name")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: the connector's own).")
@click.option(
    "--seed/--no-seed",
    default=True,
    show_default=True,
    help="Fill the sandbox with realistic data.",
)
@click.option(
    "--latency-ms", type=int, default=0, show_default=True, help="Delay added to every response."
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector-specific sandbox option (repeatable).",
)
def sandbox_command(
    name: str, host: str, port: int | None, seed: bool, latency_ms: int, options: tuple[str, ...]
) -> None:
    """Run the sandbox server of connector NAME (e.g. woocommerce, fortnox, bokio)."""
    from werkzeug.serving import run_simple

    manager = create_plugin_manager()
    spec = manager.connectors.get(name)
    if spec is None or spec.sandbox is None:
        available = sorted(key for key, value in manager.connectors.items() if value.sandbox)
        raise click.ClickException(
            f"No sandbox named {name!r}. Available: {', '.join(available) or 'none'}."
        )
    extra: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep:
            raise click.BadParameter(f"{option!r} is not KEY=VALUE", param_hint="--option")
        extra[key.strip()] = value.strip()
    chosen_port = spec.sandbox.default_port if port is None else port
    app = spec.sandbox.create_app(
        SandboxOptions(host=host, port=chosen_port, seed=seed, latency_ms=latency_ms, extra=extra)
    )
    base_url = f"http://{host}:{chosen_port}"
    click.echo(f"{spec.title} sandbox listening on {base_url}")
    for line in spec.sandbox.describe(app, base_url):
        click.echo(f"  {line}")
    run_simple(host, chosen_port, app, threaded=True, use_reloader=False)
