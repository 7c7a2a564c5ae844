"""Costs on the path every order takes, kept out by design (figures: bench/, never here).

Building an SSL context loads the whole CA bundle (about 30 ms of CPU); clients are made per
export step, so each process builds it once and every client shares it.
"""

from __future__ import annotations

import httpx
import pytest

from ledgerbridge import http
from ledgerbridge.contexts import memory_site
from ledgerbridge.services import MemorySecrets
from ledgerbridge_woocommerce.client import WooClient


def test_clients_share_one_ssl_context(monkeypatch):
    built: list[bool] = []
    original = httpx.create_ssl_context

    def counting(*args, **kwargs):
        built.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    monkeypatch.setattr(http, "_pools", {})  # (another test in this process made the pool)
    http.ssl_context.cache_clear()
    site = memory_site(
        url="https://shop.example.com",
        allow_private_network=True,
        secrets=MemorySecrets({"consumer_key": "ck_x", "consumer_secret": "cs_x"}),
    )
    for _ in range(5):
        http.build_client(base_url="https://api.example.com", target="t").close()
        WooClient(site).close()
    assert len(built) == 1
    http.ssl_context.cache_clear()


def test_a_forking_worker_prepares_what_every_job_needs_before_it_forks():
    """Jobs forked from the worker must not import the pipeline or configure the ORM again."""
    import gc
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "from ledgerbridge.queue.worker import PRELOAD, preload\n"
        "preload()\n"
        "from ledgerbridge.store.models import Export\n"
        "assert all(name in sys.modules for name in PRELOAD)\n"
        "assert Export.__mapper__.configured, 'mappers left to configure'\n"
        "assert gc.get_freeze_count() > 10000\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert gc.get_freeze_count() == 0  # (this process is untouched)


@pytest.mark.db
def test_loading_an_order_record_leaves_its_payloads_unread(make_runtime):
    """Write-back, the sweeper and order lists read a record without decoding its payloads."""
    from sqlalchemy import inspect

    from ledgerbridge.store.models import OrderRecord, Site

    runtime = make_runtime()
    with runtime.transaction() as session:
        site = Site(key="hot", name="Hot", connector="memshop", url="https://shop.example.com")
        session.add(site)
        session.flush()
        record = OrderRecord(site_id=site.id, source_id="1", raw={"id": 1}, canonical={"id": "1"})
        session.add(record)
        session.flush()
        record_id = record.id
    with runtime.transaction() as session:
        record = session.get(OrderRecord, record_id)
        assert {"raw", "canonical"} <= inspect(record).unloaded
        assert record.canonical == {"id": "1"}  # still there when asked for


def test_clients_made_one_after_another_reuse_one_kept_alive_connection():
    """Each export step makes its own client; the connection to the API outlives them."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open, as real APIs do

        def do_GET(self) -> None:
            body = str(self.client_address[1]).encode()  # the client's end of the connection
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ports = set()
        for _ in range(3):
            client = http.build_client(
                base_url=f"http://127.0.0.1:{server.server_port}", target="t"
            )
            answer = client.get("/")
            assert answer.status_code == 200
            ports.add(answer.text)
            client.close()
        assert len(ports) == 1, ports
    finally:
        server.shutdown()
        server.server_close()
