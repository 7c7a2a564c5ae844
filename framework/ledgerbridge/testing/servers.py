"""Run a WSGI application (a sandbox, the web UI) on a free loopback port in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class RunningServer:
    """A server started by :func:`serve_wsgi`: its app, URL and port."""

    app: Any
    host: str
    port: int
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve_wsgi(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningServer]:
    """Serve ``app`` over real HTTP on ``host`` (port 0 picks a free one) until the block ends."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.port}", daemon=True)
    thread.start()
    try:
        yield RunningServer(app=app, host=host, port=server.port, server=server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
