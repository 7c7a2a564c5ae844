"""Helpers for tests with several worker processes sharing one ledger through Redis."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


class FileSecrets:
    """Ledger secrets kept in a JSON file, shared by processes (a stand-in for the store).

    ``update`` writes through at once (atomic rename); ``reload`` re-reads: exactly the
    ``Secrets`` contract the connector relies on under its refresh lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, str] = {}
        self.reload()

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def update(self, values: Mapping[str, str | None]) -> None:
        current = json.loads(self.path.read_text()) if self.path.exists() else {}
        for key, value in values.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(current))
        temporary.replace(self.path)
        self._values = current

    def reload(self) -> None:
        self._values = json.loads(self.path.read_text()) if self.path.exists() else {}


def process_worker(settings, secrets_path, redis_url, prefix, calls, queue):  # pragma: no cover
    """Run ``calls`` API reads as one worker process; report errors and refreshes seen."""
    import redis

    from ledgerbridge.contexts import memory_ledger
    from ledgerbridge.runtime.redis_services import RedisServices, ScopedServices
    from ledgerbridge.services import MemoryStore
    from ledgerbridge_fortnox.client import FortnoxClient

    base = RedisServices(redis.Redis.from_url(redis_url), prefix)
    ledger = memory_ledger(
        id=7,
        key="fortnox-7",
        connector="fortnox",
        settings=settings,
        secrets=FileSecrets(Path(secrets_path)),
        services=ScopedServices(base, MemoryStore()),
    )
    errors = []
    with FortnoxClient(ledger) as client:
        for _ in range(calls):
            try:
                client.get("companyinformation", what="reading the company")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    queue.put(errors)
