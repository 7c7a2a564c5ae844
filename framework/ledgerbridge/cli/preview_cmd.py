"""``ledgerbridge preview``: a raw shop order → its accounting document, offline.

No server, database or network is needed and nothing is written: the order file is normalized
by the source connector, the route's accounting rules build the document (and the credit notes
of ``--refund-file``), and with ``--target`` the target connector shows the exact payloads it
would send. Plugins (installed ones and the instance folder's ``ledgerbridge_hooks.py``) take
part as they would in a real export. The SEK rate of a foreign-currency order comes from
plugins or the route file's ``manual_rates`` (the target's currency table is not read: that
would need the network).

Exit codes: 0 the document was built (or the route skips the order), 1 the order cannot be
booked as it is (the message says why), 2 bad usage or malformed input (the message names the
file and field).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ledgerbridge import jsonnum
from ledgerbridge.accounting import SkipExport, build_credit_note, build_document
from ledgerbridge.accounting.render import document_json
from ledgerbridge.cli import main
from ledgerbridge.cli.common import table
from ledgerbridge.cli.preview_input import (
    REFUNDS_KEY,
    RouteFile,
    read_json,
    refunds,
    route_file,
    single_order,
    target_settings,
)
from ledgerbridge.contexts import RouteContext, memory_ledger, memory_site
from ledgerbridge.errors import ConfigError, DataError
from ledgerbridge.model.document import AccountingDocument
from ledgerbridge.plugins.facade import Hooks

EXIT_DATA = 1

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command("preview")
@click.option("--order-file", type=_FILE, required=True, help="The shop's order JSON.")
@click.option(
    "--refund-file", type=_FILE, help="Refund JSON (one or a list): also preview credit notes."
)
@click.option(
    "--source", default="woocommerce", show_default=True, help="Source connector of the order."
)
@click.option("--settings", "settings_file", type=_FILE, help="Route file (docs/accounting.md).")
@click.option("--target", help="Also show the payloads this target (fortnox, bokio...) would send.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def preview_command(
    order_file: Path,
    refund_file: Path | None,
    source: str,
    settings_file: Path | None,
    target: str | None,
    as_json: bool,
) -> None:
    """Show the accounting document an order file becomes, without exporting anything."""
    # Nothing is written: not even byte code for a local hooks file.
    sys.dont_write_bytecode = True
    raw = single_order(read_json(order_file, "--order-file"), order_file)
    if refund_file is not None:
        raw = {**raw, REFUNDS_KEY: refunds(read_json(refund_file, "--refund-file"), refund_file)}
    settings = (
        route_file(read_json(settings_file, "--settings"), settings_file)
        if settings_file is not None
        else RouteFile()
    )
    hooks = _hooks()
    try:
        result = _preview(hooks, raw, source, settings, settings_file, target, refund_file)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    if as_json:
        click.echo(jsonnum.dumps_text(result, indent=2))
    else:
        _print_human(result)


def _hooks() -> Hooks:
    from ledgerbridge.plugins.manager import create_plugin_manager
    from ledgerbridge.runtime.config import load_config

    return Hooks(create_plugin_manager(local_hooks=load_config().local_hooks_path))


class DataProblem(click.ClickException):
    """The order cannot be booked as it is (exit code 1)."""

    exit_code = EXIT_DATA


def _preview(
    hooks: Hooks,
    raw: dict[str, Any],
    source: str,
    settings: RouteFile,
    settings_file: Path | None,
    target: str | None,
    refund_file: Path | None,
) -> dict[str, Any]:
    site = memory_site(
        connector=source,
        reference_prefix=str(settings.site.get("reference_prefix", "")),
        oss_registered=bool(settings.site.get("oss_registered", False)),
        settings=dict(settings.site.get("settings", {})),
    )
    source_calls = hooks.source(site)
    try:
        order = source_calls.normalize_order(raw)
    except DataError as error:
        raise click.UsageError(f"--order-file: {error}") from error
    order = hooks.order_received(site, order)
    target_route: RouteContext | None = None
    if target:
        spec = hooks.connector(target, "target")
        target_route = hooks.with_filters(
            RouteContext(
                id=settings.route_id,
                site=site,
                ledger=memory_ledger(connector=target),
                settings=settings.settings,
                target_settings=target_settings(spec.route_schema, settings.target, settings_file),
            )
        )
    # The rules run on a route without a ledger connector: the preview never asks a target's
    # currency table (that would need the network).
    route = RouteContext(
        id=settings.route_id,
        site=site,
        ledger=memory_ledger(),
        settings=settings.settings,
        target_settings=dict(settings.target),
    )
    try:
        document = build_document(order, route, hooks)
    except SkipExport as skip:
        return {"order_id": order.id, "skipped": True, "message": str(skip)}
    except DataError as error:
        raise DataProblem(str(error)) from error
    result = _describe(hooks, document, target, target_route)
    if refund_file is not None:
        if not order.refunds:
            raise click.UsageError(
                f"--refund-file {refund_file}: the {source} connector found no refunds in it."
            )
        credits = []
        for refund in order.refunds:
            try:
                credit = build_credit_note(order, refund.id, route, hooks, original=document)
            except SkipExport as skip:
                credits.append({"refund_id": refund.id, "skipped": True, "message": str(skip)})
                continue
            except DataError as error:
                raise DataProblem(f"refund {refund.id}: {error}") from error
            credits.append(_describe(hooks, credit, target, target_route))
        result["credit_notes"] = credits
    return result


def _describe(
    hooks: Hooks,
    document: AccountingDocument,
    target: str | None,
    target_route: RouteContext | None,
) -> dict[str, Any]:
    data = document_json(document)
    if target and target_route is not None:
        calls = hooks.target(target_route.ledger)
        try:
            data["target_payload"] = calls.build_payloads(target_route, document)
        except DataError as error:
            raise DataProblem(f"{target} cannot express {document.reference}: {error}") from error
    return data


def _print_human(result: dict[str, Any]) -> None:
    if result.get("skipped"):
        click.echo(f"Order {result['order_id']} is not exported: {result['message']}")
        return
    _print_document(result)
    for credit in result.get("credit_notes", []):
        click.echo("")
        if credit.get("skipped"):
            click.echo(f"Refund {credit['refund_id']} is not exported: {credit['message']}")
        else:
            _print_document(credit)


def _print_document(data: dict[str, Any]) -> None:
    title = f"{data['document_type']} {data['reference']}"
    if data.get("original_reference"):
        title += f" (credits {data['original_reference']})"
    click.echo(title)
    rate = "" if data["currency"] == "SEK" else f" at {data['sek_rate']} SEK"
    click.echo(
        f"  order {data['order_number'] or data['order_id']}, {data['scenario']}, "
        f"{data['date']}, total {data['total']} {data['currency']}{rate}"
    )
    click.echo("\nRows")
    table(
        [["KIND", "DESCRIPTION", "ACCOUNT", "QTY", "NET", "VAT %", "VAT", "VAT ACCOUNT"]]
        + [
            [
                row["kind"],
                row["description"],
                row["account"],
                row["quantity"],
                row["net"],
                row["vat_rate"],
                row["vat_amount"],
                row["vat_account"],
            ]
            for row in data["rows"]
        ]
    )
    click.echo("\nVAT")
    table(
        [["RATE", "BASE", "VAT", "ACCOUNT"]]
        + [[line["rate"], line["base"], line["amount"], line["account"]] for line in data["vat"]]
    )
    click.echo("\nJournal (SEK)")
    table(
        [["ACCOUNT", "DEBIT", "CREDIT", "DESCRIPTION"]]
        + [
            [line["account"], line["debit"], line["credit"], line["description"]]
            for line in data["journal"]
        ]
    )
    for heading, key in (("Texts", "texts"), ("Warnings", "warnings")):
        if data[key]:
            click.echo(f"\n{heading}")
            for text in data[key]:
                click.echo(f"  - {text}")
    if "target_payload" in data:
        click.echo("\nTarget payload")
        click.echo(jsonnum.dumps_text(data["target_payload"], indent=2))
