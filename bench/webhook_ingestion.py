"""Webhook ingestion: ``ledgerbridge serve`` (gunicorn) under wrk on loopback.

Starts the production web process exactly as an operator would (``ledgerbridge serve``:
gunicorn, gthread workers, access log on) against PostgreSQL and a Redis of its own, with one
WooCommerce site. wrk sends WooCommerce ``order.updated`` deliveries — real order bodies from
the sandbox shop, each signed with the site's secret, cycling over ``--distinct`` orders —
at several concurrencies. Every accepted delivery verifies the signature, writes the sync
request to the database and queues (or collapses onto) the order's job. Prints accepted
webhooks/s and latency percentiles per concurrency. No workers run: the queue only grows.

    .venv/bin/python bench/webhook_ingestion.py --duration 20 --connections 4,8,16,32
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import REPO, clean_up_on_sigterm, machine, temporary_database

from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.setup.sites import add_site
from tests.reliability.harness import RedisServer, free_port

SECRET = "whsec_bench_0123456789abcdef"
PATH = "/webhooks/woocommerce/webshop"


def _lua_string(data: bytes) -> str:
    return "".join(f"\\{byte}" for byte in data)


def write_script(folder: Path, count: int) -> Path:
    """A wrk script cycling over ``count`` signed order.updated deliveries."""
    from ledgerbridge_woocommerce.sandbox import create_app, sandbox_of
    from ledgerbridge_woocommerce.sandbox.wcjson import php_json

    sandbox = sandbox_of(create_app(SandboxOptions(extra={"orders": count})))
    lines = ["local requests = {}"]
    for index, order_id in enumerate(sandbox.shop.orders, start=1):
        with sandbox.shop.lock:
            payload = sandbox._payload(order_id)
        body = php_json(payload).strip().encode()
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
        lines.append(
            f'requests[{index}] = wrk.format("POST", "{PATH}", {{'
            '["Content-Type"] = "application/json", '
            '["X-WC-Webhook-Topic"] = "order.updated", '
            '["X-WC-Webhook-Resource"] = "order", ["X-WC-Webhook-Event"] = "updated", '
            f'["X-WC-Webhook-Signature"] = "{signature.decode()}", '
            f'["X-WC-Webhook-ID"] = "1"}}, "{_lua_string(body)}")'
        )
    lines += [
        "local counter = 0",
        "function request()",
        "  counter = counter + 1",
        "  return requests[(counter % #requests) + 1]",
        "end",
    ]
    script = folder / "deliveries.lua"
    script.write_text("\n".join(lines))
    return script


def run_wrk(url: str, script: Path, connections: int, duration: int) -> dict[str, float]:
    """One wrk run; requests/s, non-2xx count and latency percentiles (ms)."""
    threads = max(1, min(2, connections))
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = {}
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    assert total, output
    seconds = float(total.group(2)) * (0.001 if total.group(3) == "ms" else 1.0)
    requests = int(total.group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    result["requests"] = requests
    result["non_2xx"] = int(failed.group(1)) if failed else 0
    result["accepted_per_s"] = (requests - result["non_2xx"]) / seconds
    result["socket_errors"] = 1.0 if errors else 0.0
    for label in ("50", "90", "99"):
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.MULTILINE)
        assert found, output
        value = float(found.group(1))
        result[f"p{label}"] = value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return result


def main() -> None:
    clean_up_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per run")
    parser.add_argument("--connections", default="4,8,16,32")
    parser.add_argument("--distinct", type=int, default=500, help="distinct orders delivered")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"machine: {machine()}")
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = stack.enter_context(temporary_database())
        redis_server = RedisServer(folder / "redis")
        redis_server.start()
        stack.callback(redis_server.kill)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "LEDGERBRIDGE_INSTANCE_PATH": str(folder / "instance"),
            "LEDGERBRIDGE_DATABASE_URL": database,
            "LEDGERBRIDGE_REDIS_URL": redis_server.url,
            "LEDGERBRIDGE_QUEUE": "redis",
            "LEDGERBRIDGE_QUEUE_PREFIX": "bench",
        }
        config = load_config(
            instance_path=folder / "instance",
            database_url=database,
            redis_url=redis_server.url,
            queue_mode="redis",
            queue_prefix="bench",
            secret_key=None,
        )
        runtime = Runtime(config)
        runtime.migrate()
        with runtime.transaction() as session:
            add_site(
                runtime,
                session,
                key="webshop",
                name="Webshop",
                connector="woocommerce",
                url="https://webshop.example.com",
                secrets={
                    "consumer_key": "ck_bench",
                    "consumer_secret": "cs_bench",
                    "webhook_secret": SECRET,
                },
                actor="bench",
            )
        runtime.close()
        script = write_script(folder, args.distinct)
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "ledgerbridge.cli",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--threads",
            str(args.threads),
        ]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        stack.callback(server.wait, 30)
        stack.callback(server.terminate)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/healthz", timeout=2)
                break
            time.sleep(0.5)
        processes = args.workers or 2 * (os.cpu_count() or 1) + 1
        print(
            f"gunicorn: {processes} processes x {args.threads} threads; "
            f"{args.distinct} distinct signed deliveries; wrk {args.duration} s per run"
        )
        run_wrk(url, script, 8, 3)  # warm up every process
        header = ("connections", "accepted/s", "p50 ms", "p90 ms", "p99 ms")
        print(
            f"{header[0]:>11} {header[1]:>10} {header[2]:>7} {header[3]:>7} {header[4]:>7} non-2xx"
        )
        for connections in (int(c) for c in args.connections.split(",")):
            result = run_wrk(url, script, connections, args.duration)
            print(
                f"{connections:>11} {result['accepted_per_s']:>10.0f} {result['p50']:>7.1f} "
                f"{result['p90']:>7.1f} {result['p99']:>7.1f} {int(result['non_2xx'])}"
            )


if __name__ == "__main__":
    main()
