"""Configuration from the environment (``LEDGERBRIDGE_*``), read once per process.

* ``LEDGERBRIDGE_INSTANCE_PATH`` (``./instance``): folder for the SQLite file, the generated
  key, local hooks and the PDF archive.
* ``LEDGERBRIDGE_DATABASE_URL`` (SQLite in the instance folder): SQLAlchemy URL; PostgreSQL in
  production.
* ``LEDGERBRIDGE_REDIS_URL`` (``redis://127.0.0.1:6379/0``): queue, locks and rate limits.
* ``LEDGERBRIDGE_QUEUE`` (``redis``): ``redis`` for RQ workers, ``embedded`` for in-process jobs.
* ``LEDGERBRIDGE_QUEUE_PREFIX`` (``ledgerbridge``): prefix of queue names and Redis keys, so
  several installations can share one Redis.
* ``LEDGERBRIDGE_SECRET_KEY`` (generated into the instance folder): encrypts stored secrets.
* ``LEDGERBRIDGE_PUBLIC_URL`` (``http://127.0.0.1:8000``): where shops and OAuth providers reach
  this installation.
* ``LEDGERBRIDGE_STRICT_PLUGINS`` (off): make plugin problems fatal (CI).
* ``LEDGERBRIDGE_DISABLE_PLUGINS`` (empty): comma-separated plugins not to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from environs import Env


@dataclass(frozen=True)
class Config:
    """The settings of one ledgerbridge installation."""

    instance_path: Path
    database_url: str
    redis_url: str
    queue_mode: str
    queue_prefix: str
    secret_key: str | None
    public_url: str

    @property
    def local_hooks_path(self) -> Path:
        """The instance folder's ``ledgerbridge_hooks.py`` (loaded as a plugin when present)."""
        return self.instance_path / "ledgerbridge_hooks.py"

    @property
    def embedded(self) -> bool:
        """True when jobs run in this process instead of RQ workers."""
        return self.queue_mode == "embedded"


def load_config(**overrides: object) -> Config:
    """The configuration from the environment, with ``overrides`` applied on top."""
    env = Env()
    instance = Path(
        str(
            overrides.pop("instance_path", None)
            or env.str("LEDGERBRIDGE_INSTANCE_PATH", "instance")
        )
    ).resolve()
    values: dict[str, object] = {
        "instance_path": instance,
        "database_url": env.str("LEDGERBRIDGE_DATABASE_URL", "")
        or f"sqlite:///{instance / 'ledgerbridge.db'}",
        "redis_url": env.str("LEDGERBRIDGE_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "queue_mode": env.str("LEDGERBRIDGE_QUEUE", "redis"),
        "queue_prefix": env.str("LEDGERBRIDGE_QUEUE_PREFIX", "ledgerbridge"),
        "secret_key": env.str("LEDGERBRIDGE_SECRET_KEY", "") or None,
        "public_url": env.str("LEDGERBRIDGE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    }
    values.update(overrides)
    if values["queue_mode"] not in ("redis", "embedded"):
        raise ValueError("LEDGERBRIDGE_QUEUE must be 'redis' or 'embedded'")
    return Config(**values)  # type: ignore[arg-type]
