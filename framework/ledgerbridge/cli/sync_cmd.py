"""``ledgerbridge sync`` and ``ledgerbridge exports``: queue work and look at its outcome."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from sqlalchemy import select

from ledgerbridge.cli import main
from ledgerbridge.cli.common import ACTOR, emit, runtime, table
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.setup.sites import get_site


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command("sync")
@click.option("--site", "site_keys", multiple=True, help="Site key (repeatable; default: all).")
@click.option("--order", "order_ids", multiple=True, help="Queue just these order ids.")
@click.option("--since", default=None, help="Orders modified after (ISO date, UTC if no zone).")
@click.option("--until", default=None, help="Orders modified before (ISO date).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    default=("completed", "refunded"),
    show_default=True,
    help="Order statuses to include (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Count and preview; queue nothing.")
@click.option("--wait", is_flag=True, help="Show progress until the run is finished.")
@click.option("--json", "as_json", is_flag=True)
def sync_command(site_keys, order_ids, since, until, statuses, dry_run, wait, as_json) -> None:
    """Queue orders for export: given ids, or a bulk sync by modified date."""
    from ledgerbridge.pipeline import bulk
    from ledgerbridge.pipeline.sync import request_sync
    from ledgerbridge.store.models import Site

    rt = runtime()
    with rt.transaction() as session:
        try:
            sites = (
                [get_site(session, key) for key in site_keys]
                if site_keys
                else list(session.scalars(select(Site).where(Site.enabled.is_(True))))
            )
        except SetupError as error:
            raise click.ClickException(str(error)) from error
        site_ids = [site.id for site in sites]
    if order_ids:
        if len(site_ids) != 1:
            raise click.UsageError("--order needs exactly one --site")
        queued = [
            order_id
            for order_id in order_ids
            if request_sync(rt, site_ids[0], order_id, "cli") or True
        ]
        emit({"queued": queued}, as_json, f"Queued {len(queued)} orders.")
        return
    run_id = bulk.start(
        rt,
        site_ids=site_ids,
        statuses=list(statuses),
        modified_after=_date(since),
        modified_before=_date(until),
        dry_run=dry_run,
        actor=ACTOR,
    )
    if not wait:
        emit({"run": run_id}, as_json, f"Bulk run {run_id} queued.")
        return
    with click.progressbar(length=100, label=f"Bulk run {run_id}") as bar:
        shown = 0
        while True:
            state = bulk.progress(rt, run_id)
            bar.update(state["percent"] - shown)
            shown = state["percent"]
            if state["state"] in ("done", "cancelled", "failed"):
                break
            time.sleep(1)
    emit(
        state,
        as_json,
        lambda: click.echo(
            f"found {state['found']}, done {state['done']}, failed {state['failed']}, "
            f"review {state['needs_review']}, waiting {state['waiting']}"
        ),
    )


@main.group("exports")
def exports_group() -> None:
    """Exports: what was booked, what failed, and actions on them."""


@exports_group.command("list")
@click.option("--state", "states", multiple=True, help="Filter by state (repeatable).")
@click.option("--site", default=None)
@click.option("--ledger", default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def exports_list(states, site, ledger, limit, as_json) -> None:
    """List exports, newest first."""
    from ledgerbridge.store.models import Export, Ledger, Route, Site

    rt = runtime()
    with rt.transaction() as session:
        query = (
            select(Export, Route, Site, Ledger)
            .join(Route, Route.id == Export.route_id)
            .join(Site, Site.id == Route.site_id)
            .join(Ledger, Ledger.id == Route.ledger_id)
        )
        if states:
            query = query.where(Export.state.in_(states))
        if site:
            query = query.where(Site.key == site)
        if ledger:
            query = query.where(Ledger.key == ledger)
        rows = session.execute(query.order_by(Export.id.desc()).limit(limit)).all()
        views = [
            {
                "id": e.id,
                "site": s.key,
                "ledger": lg.key,
                "kind": e.kind,
                "source_id": e.source_id,
                "reference": e.reference,
                "state": e.state,
                "failure_class": e.failure_class,
                "target_id": e.target_id,
                "attempts": e.attempts,
                "message": e.message,
            }
            for e, _r, s, lg in rows
        ]
    emit(
        views,
        as_json,
        lambda: table(
            [["ID", "SITE", "LEDGER", "KIND", "SOURCE", "STATE", "TARGET", "MESSAGE"]]
            + [
                [
                    str(v["id"]),
                    v["site"],
                    v["ledger"],
                    v["kind"],
                    v["source_id"],
                    v["state"],
                    v["target_id"],
                    v["message"][:60],
                ]
                for v in views
            ]
        ),
    )


def _action(name: str, export_id: int) -> None:
    from ledgerbridge.pipeline import actions

    try:
        getattr(actions, name)(runtime(), export_id, ACTOR)
    except actions.ActionRefused as error:
        raise click.ClickException(str(error)) from error


@exports_group.command("retry")
@click.argument("export_id", type=int)
def exports_retry(export_id) -> None:
    """Try a failed export again, resuming from its recorded progress."""
    _action("retry", export_id)
    click.echo(f"Export {export_id} queued.")


@exports_group.command("resolve")
@click.argument("export_id", type=int)
def exports_resolve(export_id) -> None:
    """Mark a failed or reviewed export as resolved by hand."""
    _action("mark_resolved", export_id)
    click.echo(f"Export {export_id} resolved.")


@exports_group.command("sweep")
def exports_sweep() -> None:
    """Re-queue lost work now (the workers also do this every minute)."""
    from ledgerbridge.pipeline.sweeper import sweep

    report = sweep(runtime())
    click.echo(
        f"Re-queued {len(report.exports)} exports, {len(report.syncs)} order syncs; "
        f"resumed {len(report.resumed)} waiting; {len(report.summaries)} summaries."
    )
