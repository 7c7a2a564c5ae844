"""``ledgerbridge demo``: the whole product on one machine, nothing else needed.

Starts the WooCommerce, Fortnox and Bokio sandboxes, an embedded store (SQLite) and queue
(threads), seeds the sandbox shop, connects it to both sandbox ledgers through the setup layer
(Fortnox through its OAuth redirect flow), registers the shop's webhooks towards the web UI,
runs a bulk sync through the real pipeline and serves the UI. ``--check`` does the same
without a person: it waits for the pipeline, compares every document in both ledgers with
the shop and prints a JSON summary; the exit code is 0 only when everything was exported once
and matches.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import click

from ledgerbridge.cli import main

log = logging.getLogger(__name__)
IDLE_TIMEOUT = 900.0
SETTLE_SECONDS = 1.5
DEMO_USER = "demo"


def _instance(path: str | None) -> Path:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="ledgerbridge-demo-"))
    folder = Path(path).resolve()
    if (folder / "ledgerbridge.db").exists():
        raise click.UsageError(
            f"{folder} already holds a ledgerbridge database; give the demo an empty folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _settle(runtime, run_id: int, boxes) -> None:
    """Wait until the bulk run and everything it caused (webhooks included) has finished."""
    from ledgerbridge.demo import world
    from ledgerbridge.pipeline import bulk

    deadline = time.monotonic() + IDLE_TIMEOUT
    while time.monotonic() < deadline:
        if not runtime.queue.wait_idle(max(deadline - time.monotonic(), 1.0)):
            break
        # Write-backs make the shop send webhooks, which queue syncs a moment later.
        sent = len(world.deliveries(boxes, wait=SETTLE_SECONDS))
        time.sleep(SETTLE_SECONDS)
        idle = runtime.queue.wait_idle(0.1) and len(world.deliveries(boxes)) == sent
        if idle and bulk.progress(runtime, run_id)["state"] == "done":
            return
    raise click.ClickException(f"The pipeline did not finish within {IDLE_TIMEOUT:.0f} s.")


@main.command("demo")
@click.option("--port", type=int, default=8000, show_default=True, help="Port of the web UI.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the web UI.")
@click.option("--orders", type=click.IntRange(1, 2000), default=40, show_default=True)
@click.option("--seed", "random_seed", type=int, default=2026, show_default=True)
@click.option(
    "--instance",
    "instance_path",
    default=None,
    help="An empty folder for the demo's database and keys (default: a temporary folder).",
)
@click.option("--check", is_flag=True, help="Headless: verify both ledgers, print JSON, exit.")
def demo_command(
    port: int, host: str, orders: int, random_seed: int, instance_path: str | None, check: bool
) -> None:
    """Run the demo: sandbox shop, sandbox Fortnox and Bokio, the pipeline and the web UI."""
    from ledgerbridge.demo import world
    from ledgerbridge.demo.check import check as check_ledgers
    from ledgerbridge.runtime.config import load_config
    from ledgerbridge.runtime.runtime import Runtime, install
    from ledgerbridge.store.users import create_user
    from ledgerbridge.testing.servers import serve_wsgi
    from ledgerbridge_webui.app import create_app

    if logging.getLogger().level > logging.INFO:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = _instance(instance_path)
    ui_port = _free_port(host) if check else port
    config = load_config(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'ledgerbridge.db'}",
        queue_mode="embedded",
        queue_prefix="demo",
        secret_key=None,
        public_url=f"http://{host}:{ui_port}",
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    password = secrets.token_urlsafe(12)
    with runtime.transaction() as session:
        create_user(session, DEMO_USER, password, role="admin", language="sv")
    app = create_app(runtime)
    with ExitStack() as stack:
        try:
            running_ui = stack.enter_context(serve_wsgi(app, host=host, port=ui_port))
        except OSError as error:
            raise click.ClickException(
                f"Port {ui_port} on {host} is taken ({error.strerror}); try --port 8080."
            ) from error
        boxes = stack.enter_context(world.sandboxes(runtime, orders, random_seed))
        installation = world.configure(runtime, boxes)
        hooks = world.register_webhooks(runtime, installation.site_id)
        run_id = world.start_bulk_sync(runtime, installation)
        if not check:
            _serve(runtime, running_ui.url, password, boxes, folder, orders, run_id)
            return
        _settle(runtime, run_id, boxes)
        summary, ok = check_ledgers(runtime, boxes, installation.site_id, world.REFERENCE_PREFIX)
        summary["webhooks"] = len(hooks.get("webhooks", []))
        sent = [entry for entry in world.deliveries(boxes) if not entry.get("ping")]
        summary["webhook_deliveries"] = {
            "sent": len(sent),
            "accepted": sum(1 for entry in sent if entry.get("ok")),
        }
    runtime.close()
    if instance_path is None:  # a temporary folder of our own: nothing in it is needed now
        shutil.rmtree(folder, ignore_errors=True)
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    sys.exit(0 if ok else 1)


def _serve(runtime, url: str, password: str, boxes, folder: Path, orders: int, run_id: int):
    from ledgerbridge.queue.worker import Ticker

    ticker = Ticker(runtime)
    ticker.start()
    click.echo(
        "\n".join(
            [
                "",
                "ledgerbridge demo is running.",
                f"  Web UI:     {url}",
                f"  Log in:     {DEMO_USER} / {password}",
                f"  Shop:       {boxes.shop.url}  (WooCommerce sandbox)",
                f"  Fortnox:    {boxes.fortnox.url}  (sandbox; what was created: "
                f"{boxes.fortnox.url}/_sandbox/tenants/{boxes.fortnox_tenant}/documents)",
                f"  Bokio:      {boxes.bokio.url}  (sandbox; what was created: "
                f"{boxes.bokio.url}/_sandbox/companies/{boxes.bokio_company}/documents)",
                f"  Instance:   {folder}",
                "",
                f"{orders} orders are going through the pipeline now: watch {url}/bulk/{run_id}",
                "Press Ctrl-C to stop.",
            ]
        )
    )
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        click.echo("\nStopping the demo.")
    finally:
        ticker.stopping.set()
        runtime.close()
