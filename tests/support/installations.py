"""An embedded installation for tests that serve the web app: migrated, installed as the
process's runtime, with its public URL on a free loopback port (webhooks and OAuth come back
to it)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def embedded_installation(
    instance_path: Path, database_url: str, queue_prefix: str
) -> Iterator[tuple[Runtime, int]]:
    """The runtime (embedded queue) and the port its public URL names; serve the app there."""
    port = free_port()
    config = load_config(
        instance_path=instance_path,
        database_url=database_url,
        queue_mode="embedded",
        queue_prefix=queue_prefix,
        secret_key=None,
        public_url=f"http://127.0.0.1:{port}",
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    try:
        yield runtime, port
    finally:
        install(None)
        runtime.close()
