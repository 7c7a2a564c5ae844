"""``ledgerbridge worker`` and ``ledgerbridge serve``."""

from __future__ import annotations

import os
import sys

import click

from ledgerbridge.cli import main
from ledgerbridge.cli.common import runtime


@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (scripts, tests).")
@click.option("--name", default=None, help="Worker name (default: host and pid).")
@click.option("--no-ticker", is_flag=True, help="Do not queue the periodic jobs from this worker.")
@click.option("--no-fork", is_flag=True, help="Run jobs in this process instead of a work horse.")
def worker_command(burst: bool, name: str | None, no_ticker: bool, no_fork: bool) -> None:
    """Run an RQ worker (with the scheduler) on the export, bulk and maintenance queues.

    Start as many as you like, on as many machines as you like, against one Redis and one
    database.
    """
    from ledgerbridge.queue.worker import run_worker

    rt = runtime()
    ok = run_worker(rt, burst=burst, name=name, ticker=not no_ticker, fork=not no_fork)
    sys.exit(0 if ok or burst else 1)


@main.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option("--workers", type=int, default=None, help="Processes (default: 2 × cores + 1).")
@click.option("--threads", type=int, default=4, show_default=True, help="Threads per process.")
def serve_command(bind: str, workers: int | None, threads: int) -> None:
    """Serve the web UI, JSON API and webhook endpoint with gunicorn.

    With the embedded queue (``LEDGERBRIDGE_QUEUE=embedded``) jobs run inside the web
    process, so one process serves (several would each run their own queue).
    """
    embedded = os.environ.get("LEDGERBRIDGE_QUEUE", "redis").strip() == "embedded"
    default_workers = 1 if embedded else 2 * (os.cpu_count() or 1) + 1
    arguments = [
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers or default_workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "60",
        "--graceful-timeout",
        "30",
        "--forwarded-allow-ips",
        os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "--access-logfile",
        "-",
        "ledgerbridge_webui.wsgi:app",
    ]
    os.execvp(sys.executable, [sys.executable, "-m", *arguments])  # noqa: S606
