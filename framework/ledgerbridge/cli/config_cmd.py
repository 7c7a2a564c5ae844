"""``ledgerbridge sites|ledgers|routes add/list/show/remove/set``: everything the UI configures."""

from __future__ import annotations

import click

from ledgerbridge.cli import main
from ledgerbridge.cli.common import ACTOR, SetupErrors, emit, pairs, runtime, secret_pairs, table
from ledgerbridge.setup import ledgers as ledger_setup
from ledgerbridge.setup import routes as route_setup
from ledgerbridge.setup import sites as site_setup
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.store.models import Ledger, Route, Site

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
setting_option = click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector setting (repeatable).",
)
secret_option = click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A secret (repeatable; prefer --secrets-stdin).",
)
stdin_option = click.option(
    "--secrets-stdin", is_flag=True, help="Read secrets as a JSON object from standard input."
)


def _run(work):
    rt = runtime()
    try:
        with rt.transaction() as session:
            return work(rt, session)
    except SetupError as error:
        raise SetupErrors(error) from error


# -- sites ----------------------------------------------------------------------------------


@main.group("sites")
def sites_group() -> None:
    """Shops (sources)."""


@sites_group.command("add")
@click.argument("key")
@click.option("--connector", default="woocommerce", show_default=True)
@click.option("--url", required=True, help="The shop's address, e.g. https://shop.example.se")
@click.option("--name", default="", help="Display name (default: the key).")
@click.option("--reference-prefix", default="", help="Prefix of this shop's references in ledgers.")
@click.option("--oss/--no-oss", "oss_registered", default=False, help="Registered for OSS.")
@click.option(
    "--allow-private-network",
    is_flag=True,
    help="Allow http and private addresses (sandboxes, a shop on your LAN).",
)
@setting_option
@secret_option
@stdin_option
@json_option
def sites_add(
    key,
    connector,
    url,
    name,
    reference_prefix,
    oss_registered,
    allow_private_network,
    settings,
    secrets,
    secrets_stdin,
    as_json,
) -> None:
    """Add a shop."""
    secret_values = secret_pairs(secrets, secrets_stdin)

    def work(rt, session):
        site = site_setup.add_site(
            rt,
            session,
            key=key,
            name=name,
            connector=connector,
            url=url,
            settings=pairs(settings, "--setting"),
            secrets=secret_values,
            reference_prefix=reference_prefix,
            oss_registered=oss_registered,
            allow_private_network=allow_private_network,
            actor=ACTOR,
        )
        return site_setup.site_view(rt, site)

    view = _run(work)
    emit(view, as_json, f"Added site {view['key']} ({view['url']}).")


@sites_group.command("list")
@json_option
def sites_list(as_json) -> None:
    """List shops."""
    views = _run(
        lambda rt, session: [
            site_setup.site_view(rt, site) for site in session.query(Site).order_by(Site.key)
        ]
    )
    emit(
        views,
        as_json,
        lambda: table(
            [["KEY", "CONNECTOR", "URL", "ENABLED", "ROUTES"]]
            + [
                [v["key"], v["connector"], v["url"], str(v["enabled"]), str(len(v["routes"]))]
                for v in views
            ]
        ),
    )


@sites_group.command("show")
@click.argument("key")
@click.option("--check", is_flag=True, help="Also test the connection to the shop.")
@json_option
def sites_show(key, check, as_json) -> None:
    """Show one shop (secrets masked)."""

    def work(rt, session):
        site = site_setup.get_site(session, key)
        view = site_setup.site_view(rt, site)
        if check:
            status = rt.hooks.source(rt.site_context(site)).check_connection()
            view["connection"] = {"ok": status.ok, "message": status.message}
        return view

    emit(_run(work), as_json, None)


@sites_group.command("set")
@click.argument("key")
@click.option("--name", default=None)
@click.option("--url", default=None)
@click.option("--reference-prefix", default=None)
@click.option("--oss/--no-oss", "oss_registered", default=None)
@click.option("--allow-private-network/--no-allow-private-network", default=None)
@click.option("--enabled/--disabled", default=None)
@click.option("--poll/--no-poll", "poll_enabled", default=None)
@setting_option
@secret_option
@stdin_option
@json_option
def sites_set(
    key,
    name,
    url,
    reference_prefix,
    oss_registered,
    allow_private_network,
    enabled,
    poll_enabled,
    settings,
    secrets,
    secrets_stdin,
    as_json,
) -> None:
    """Change a shop."""
    secret_values = secret_pairs(secrets, secrets_stdin)
    fields = {
        name_: value
        for name_, value in {
            "name": name,
            "url": url,
            "reference_prefix": reference_prefix,
            "oss_registered": oss_registered,
            "allow_private_network": allow_private_network,
            "enabled": enabled,
            "poll_enabled": poll_enabled,
        }.items()
        if value is not None
    }

    def work(rt, session):
        site = site_setup.get_site(session, key)
        site_setup.update_site(
            rt,
            session,
            site,
            actor=ACTOR,
            settings=pairs(settings, "--setting") if settings else None,
            secrets=secret_values or None,
            **fields,
        )
        return site_setup.site_view(rt, site)

    emit(_run(work), as_json, f"Changed site {key}.")


@sites_group.command("remove")
@click.argument("key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def sites_remove(key, yes) -> None:
    """Remove a shop and its routes (documents in the ledgers stay)."""
    if not yes:
        click.confirm(f"Remove site {key} and its routes?", abort=True)
    _run(
        lambda rt, session: site_setup.remove_site(
            session, site_setup.get_site(session, key), actor=ACTOR
        )
    )
    click.echo(f"Removed site {key}.")


# -- ledgers --------------------------------------------------------------------------------


@main.group("ledgers")
def ledgers_group() -> None:
    """Companies in accounting systems (targets)."""


@ledgers_group.command("add")
@click.argument("key")
@click.option("--connector", required=True, help="fortnox, bokio, or an installed target.")
@click.option("--name", default="")
@click.option("--plan", default="free", show_default=True)
@setting_option
@secret_option
@stdin_option
@json_option
def ledgers_add(key, connector, name, plan, settings, secrets, secrets_stdin, as_json) -> None:
    """Add a ledger."""
    secret_values = secret_pairs(secrets, secrets_stdin)

    def work(rt, session):
        ledger = ledger_setup.add_ledger(
            rt,
            session,
            key=key,
            name=name,
            connector=connector,
            settings=pairs(settings, "--setting"),
            secrets=secret_values,
            plan=plan,
            actor=ACTOR,
        )
        return ledger_setup.ledger_view(rt, session, ledger)

    view = _run(work)
    emit(view, as_json, f"Added ledger {view['key']} ({view['connector']}, {view['plan']} plan).")


@ledgers_group.command("list")
@json_option
def ledgers_list(as_json) -> None:
    """List ledgers with plan and quota use."""
    views = _run(
        lambda rt, session: [
            ledger_setup.ledger_view(rt, session, ledger)
            for ledger in session.query(Ledger).order_by(Ledger.key)
        ]
    )
    emit(
        views,
        as_json,
        lambda: table(
            [["KEY", "CONNECTOR", "PLAN", "USED", "STATUS", "SITES"]]
            + [
                [
                    v["key"],
                    v["connector"],
                    v["plan"],
                    f"{v['quota']['used']}/{v['quota']['limit']}",
                    v["status"],
                    ",".join(v["sites"]),
                ]
                for v in views
            ]
        ),
    )


@ledgers_group.command("show")
@click.argument("key")
@click.option("--check", is_flag=True, help="Also test the connection to the ledger.")
@json_option
def ledgers_show(key, check, as_json) -> None:
    """Show one ledger: plan, quota use this month, notices, sites (secrets masked)."""

    def work(rt, session):
        ledger = ledger_setup.get_ledger(session, key)
        view = ledger_setup.ledger_view(rt, session, ledger)
        if check:
            status = rt.hooks.target(rt.ledger_context(ledger)).check_connection()
            view["connection"] = {
                "ok": status.ok,
                "message": status.message,
                "details": dict(status.details),
            }
        return view

    def human(view):
        quota = view["quota"]
        click.echo(f"{view['name']} ({view['key']}, {view['connector']})")
        click.echo(f"Plan: {view['plan']}  features: {', '.join(view['plan_features']) or '-'}")
        click.echo(
            f"Quota {quota['period']}: {quota['used']} of {quota['limit']} used, "
            f"{quota['remaining']} left, {quota['waiting']} waiting"
        )
        if quota["level"] == "warning":
            click.echo("WARNING: two thirds of this month's transfers are used.")
        elif quota["level"] == "limit":
            click.echo("LIMIT REACHED: exports wait until the plan is raised or the month ends.")
        click.echo(f"Status: {view['status']} {view['status_message']}".rstrip())
        click.echo(f"Sites: {', '.join(view['sites']) or '-'}")
        for notice in view["notices"]:
            click.echo(f"Notice ({notice['level']}): {notice['message']}")
        if "connection" in view:
            click.echo(
                f"Connection: {'ok' if view['connection']['ok'] else 'FAILED'} — "
                f"{view['connection']['message']}"
            )

    view = _run(work)
    emit(view, as_json, lambda: human(view))


@ledgers_group.command("set")
@click.argument("key")
@click.option("--name", default=None)
@click.option("--plan", default=None, help="Move to another plan (waiting exports resume).")
@setting_option
@secret_option
@stdin_option
@json_option
def ledgers_set(key, name, plan, settings, secrets, secrets_stdin, as_json) -> None:
    """Change a ledger (name, settings, secrets, plan)."""
    from ledgerbridge.pipeline.actions import ActionRefused, set_plan

    secret_values = secret_pairs(secrets, secrets_stdin)

    def work(rt, session):
        ledger = ledger_setup.get_ledger(session, key)
        ledger_setup.update_ledger(
            rt,
            session,
            ledger,
            actor=ACTOR,
            name=name,
            settings=pairs(settings, "--setting") if settings else None,
            secrets=secret_values or None,
        )
        return ledger.id

    ledger_id = _run(work)
    if plan is not None:
        try:
            resumed = set_plan(runtime(), ledger_id, plan, ACTOR)
        except ActionRefused as error:
            raise click.ClickException(str(error)) from error
        if not as_json:
            click.echo(f"Plan set to {plan}; {len(resumed)} waiting exports resumed.")
    view = _run(
        lambda rt, session: ledger_setup.ledger_view(
            rt, session, ledger_setup.get_ledger(session, key)
        )
    )
    emit(view, as_json, f"Changed ledger {key}.")


@ledgers_group.command("remove")
@click.argument("key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def ledgers_remove(key, yes) -> None:
    """Remove a ledger and its routes (documents in the ledger stay)."""
    if not yes:
        click.confirm(f"Remove ledger {key} and its routes?", abort=True)
    _run(
        lambda rt, session: ledger_setup.remove_ledger(
            session, ledger_setup.get_ledger(session, key), actor=ACTOR
        )
    )
    click.echo(f"Removed ledger {key}.")


# -- routes ---------------------------------------------------------------------------------


@main.group("routes")
def routes_group() -> None:
    """Site → ledger routes and their mapping settings."""


@routes_group.command("add")
@click.argument("site")
@click.argument("ledger")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="An accounting setting (repeatable; JSON values allowed).",
)
@click.option(
    "--target-set",
    "target_settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting of the target connector (repeatable).",
)
@json_option
def routes_add(site, ledger, settings, target_settings, as_json) -> None:
    """Route SITE's orders to LEDGER."""

    def work(rt, session):
        route = route_setup.add_route(
            rt,
            session,
            site=site_setup.get_site(session, site),
            ledger=ledger_setup.get_ledger(session, ledger),
            settings=pairs(settings, "--set"),
            target_settings=pairs(target_settings, "--target-set"),
            actor=ACTOR,
        )
        return route_setup.route_view(route)

    view = _run(work)
    emit(view, as_json, f"Added route {view['id']}: {site} → {ledger}.")


@routes_group.command("list")
@json_option
def routes_list(as_json) -> None:
    """List routes."""
    views = _run(
        lambda rt, session: [
            route_setup.route_view(route) for route in session.query(Route).order_by(Route.id)
        ]
    )
    emit(
        views,
        as_json,
        lambda: table(
            [["ID", "SITE", "LEDGER", "ENABLED"]]
            + [[str(v["id"]), v["site"], v["ledger"], str(v["enabled"])] for v in views]
        ),
    )


@routes_group.command("show")
@click.argument("route_id", type=int)
@json_option
def routes_show(route_id, as_json) -> None:
    """Show one route with all its settings."""
    emit(
        _run(lambda rt, session: route_setup.route_view(route_setup.get_route(session, route_id))),
        as_json,
        None,
    )


@routes_group.command("set")
@click.argument("route_id", type=int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE")
@click.option("--target-set", "target_settings", multiple=True, metavar="KEY=VALUE")
@click.option("--enabled/--disabled", default=None)
@json_option
def routes_set(route_id, settings, target_settings, enabled, as_json) -> None:
    """Change a route's settings (merged over the current ones)."""

    def work(rt, session):
        route = route_setup.update_route(
            rt,
            session,
            route_setup.get_route(session, route_id),
            actor=ACTOR,
            settings=pairs(settings, "--set"),
            target_settings=pairs(target_settings, "--target-set"),
            enabled=enabled,
        )
        return route_setup.route_view(route)

    emit(_run(work), as_json, f"Changed route {route_id}.")


@routes_group.command("remove")
@click.argument("route_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def routes_remove(route_id, yes) -> None:
    """Remove a route and its export history."""
    if not yes:
        click.confirm(f"Remove route {route_id}?", abort=True)
    _run(
        lambda rt, session: route_setup.remove_route(
            session, route_setup.get_route(session, route_id), actor=ACTOR
        )
    )
    click.echo(f"Removed route {route_id}.")
