"""``ledgerbridge plans``: the plans ledgers can be on (quota and features)."""

from __future__ import annotations

import click

from ledgerbridge.cli import main
from ledgerbridge.cli.common import ACTOR, emit, runtime, table
from ledgerbridge.store.models import Plan


def _views() -> list[dict]:
    with runtime().transaction() as session:
        return [
            {
                "name": p.name,
                "title": p.title,
                "monthly_quota": p.monthly_quota,
                "features": list(p.features),
            }
            for p in session.query(Plan).order_by(Plan.position)
        ]


@main.group("plans")
def plans_group() -> None:
    """Plans: monthly transfer quota and unlocked features."""


@plans_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def plans_list(as_json) -> None:
    """List plans."""
    views = _views()
    emit(
        views,
        as_json,
        lambda: table(
            [["PLAN", "TITLE", "TRANSFERS/MONTH", "FEATURES"]]
            + [
                [v["name"], v["title"], str(v["monthly_quota"]), ", ".join(v["features"]) or "-"]
                for v in views
            ]
        ),
    )


@plans_group.command("set")
@click.argument("name")
@click.option("--title", default=None)
@click.option("--quota", "monthly_quota", type=int, default=None, help="Transfers per month.")
@click.option(
    "--feature",
    "features",
    multiple=True,
    help="pdf_archive or document_type_override (repeatable; replaces the list).",
)
@click.option("--no-features", is_flag=True, help="Unlock no features.")
def plans_set(name, title, monthly_quota, features, no_features) -> None:
    """Create or change a plan (waiting exports of its ledgers resume)."""
    from ledgerbridge.pipeline.actions import ActionRefused, save_plan

    chosen = [] if no_features else (list(features) if features else None)
    try:
        resumed = save_plan(
            runtime(), name, title=title, monthly_quota=monthly_quota, features=chosen, actor=ACTOR
        )
    except ActionRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Saved plan {name}; {len(resumed)} waiting exports resumed.")
