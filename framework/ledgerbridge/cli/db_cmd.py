"""``ledgerbridge db``: migrations and key rotation."""

from __future__ import annotations

import click

from ledgerbridge.cli import main
from ledgerbridge.cli.common import ACTOR, runtime


@main.group("db")
def db_group() -> None:
    """Database schema and encryption."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision: str) -> None:
    """Migrate the database to the newest schema (safe to run on every deploy)."""
    from ledgerbridge.store import migrate

    rt = runtime()
    migrate.upgrade(rt.engine, revision)
    click.echo(f"Database at revision {migrate.current_revision(rt.engine)}.")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Migrate the database down to REVISION (``base`` empties it)."""
    from ledgerbridge.store import migrate

    rt = runtime()
    migrate.downgrade(rt.engine, revision)
    click.echo(f"Database at revision {migrate.current_revision(rt.engine) or 'base'}.")


@db_group.command("current")
def current_command() -> None:
    """Print the schema revision of the database."""
    from ledgerbridge.store import migrate

    click.echo(migrate.current_revision(runtime().engine) or "base (empty database)")


@db_group.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored secret with the first key in LEDGERBRIDGE_SECRET_KEY."""
    from ledgerbridge.store.audit import audit
    from ledgerbridge.store.models import Ledger, Site

    rt = runtime()
    count = 0
    with rt.transaction() as session:
        for model in (Site, Ledger):
            for row in session.query(model):
                if row.secrets:
                    row.secrets = rt.box.rotate(row.secrets)
                    count += 1
        audit(session, ACTOR, "secrets.rotated", "", count=count)
    click.echo(f"Re-encrypted the secrets of {count} sites and ledgers.")


@db_group.command("restored")
@click.option(
    "--hours",
    type=float,
    default=72,
    show_default=True,
    help="How long exports look their document up before creating it.",
)
def restored_command(hours: float) -> None:
    """Run after restoring a backup: exports look in the ledger before creating anything."""
    from ledgerbridge.pipeline.restore import mark_restored

    with runtime().transaction() as session:
        until = mark_restored(session, hours=hours, actor=ACTOR)
    click.echo(
        f"Until {until.isoformat(timespec='minutes')} every export first asks the ledger "
        "for a document with its reference and links to it instead of booking again."
    )
