"""``ledgerbridge plugins``: what is installed, with versions and hooks."""

from __future__ import annotations

import json

import click

from ledgerbridge.cli import main
from ledgerbridge.plugins.manager import create_plugin_manager


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per plugin.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins: name, role, distribution, version and hooks."""
    from ledgerbridge.runtime.config import load_config

    config = load_config()
    manager = create_plugin_manager(local_hooks=config.local_hooks_path)
    described = [entry for entry in manager.describe() if entry["name"] != "core"]
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    if not described:
        click.echo("No plugins installed.")
        return
    rows = [("NAME", "ROLE", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS")]
    for entry in described:
        status = entry["status"] if not entry["error"] else f"{entry['status']}: {entry['error']}"
        rows.append(
            (
                entry["name"],
                entry["role"],
                entry["distribution"],
                entry["version"],
                status,
                str(len(entry["hooks"])),
            )
        )
    widths = [max(len(row[index]) for row in rows) for index in range(5)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[5])
    for entry in described:
        if entry["hooks"]:
            click.echo(f"\n{entry['name']}: " + ", ".join(entry["hooks"]))
