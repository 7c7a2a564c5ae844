"""Everything the UI configures is scriptable: sites, ledgers, routes, users with --json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from ledgerbridge.cli import main

pytestmark = pytest.mark.db


@pytest.fixture
def cli(make_runtime, redis_url, redis_prefix):
    runtime = make_runtime()
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True):
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run.runtime = runtime
    run.settings = [f"--setting=namespace={redis_prefix}-cli", f"--setting=redis_url={redis_url}"]
    return run


def test_sites_ledgers_routes_round_trip(cli):
    added = json.loads(
        cli(
            "sites",
            "add",
            "shop-one",
            "--connector",
            "memshop",
            "--url",
            "http://127.0.0.1:9",
            "--allow-private-network",
            "--reference-prefix",
            "S1-",
            *cli.settings,
            "--secrets-stdin",
            "--json",
            input='{"token": "abcdef-secret-987"}',
        ).output
    )
    assert added["secrets"] == {"token": "••••-987"}
    assert "abcdef-secret-987" not in json.dumps(added)
    cli("ledgers", "add", "books", "--connector", "memledger", "--plan", "starter", *cli.settings)
    route = json.loads(
        cli(
            "routes",
            "add",
            "shop-one",
            "books",
            "--set",
            'payment_accounts={"stripe": "1580"}',
            "--set",
            "daily_summary=true",
            "--json",
        ).output
    )
    assert route["settings"]["payment_accounts"] == {"stripe": "1580"}
    assert route["settings"]["daily_summary"] is True

    listed = json.loads(cli("sites", "list", "--json").output)
    assert [site["key"] for site in listed] == ["shop-one"]
    shown = json.loads(cli("ledgers", "show", "books", "--json").output)
    assert shown["plan"] == "starter"
    assert shown["quota"] == {
        "period": shown["quota"]["period"],
        "used": 0,
        "limit": 100,
        "remaining": 100,
        "level": "ok",
        "waiting": 0,
    }
    assert shown["sites"] == ["shop-one"]

    changed = json.loads(
        cli(
            "routes", "set", str(route["id"]), "--set", "default_payment_account=1940", "--json"
        ).output
    )
    assert changed["settings"]["default_payment_account"] == "1940"
    assert changed["settings"]["payment_accounts"] == {"stripe": "1580"}
    bad = cli("routes", "set", str(route["id"]), "--set", "default_payment_account=19x0", ok=False)
    assert bad.exit_code == 2
    assert "four-digit account number" in bad.output

    cli("sites", "set", "shop-one", "--name", "Shop One", "--secret", "token=new-secret-4321")
    with cli.runtime.engine.connect() as connection:
        stored = connection.execute(text("SELECT secrets FROM sites")).scalar_one()
    assert "new-secret-4321" not in stored
    shown = json.loads(cli("sites", "show", "shop-one", "--json").output)
    assert (shown["name"], shown["secrets"]) == ("Shop One", {"token": "••••4321"})

    cli("routes", "remove", str(route["id"]), "--yes")
    cli("ledgers", "remove", "books", "--yes")
    cli("sites", "remove", "shop-one", "--yes")
    assert json.loads(cli("sites", "list", "--json").output) == []


def test_site_urls_must_be_https_on_public_addresses(cli):
    refused = cli(
        "sites",
        "add",
        "plain",
        "--connector",
        "memshop",
        "--url",
        "http://shop.example.se",
        *cli.settings,
        ok=False,
    )
    assert refused.exit_code == 2
    assert "is not https" in refused.output
    loopback = cli(
        "sites",
        "add",
        "loop",
        "--connector",
        "memshop",
        "--url",
        "https://127.0.0.1:8443",
        *cli.settings,
        ok=False,
    )
    assert "loopback or private" in loopback.output
    metadata = cli(
        "sites",
        "add",
        "meta",
        "--connector",
        "memshop",
        "--url",
        "https://169.254.169.254",
        *cli.settings,
        ok=False,
    )
    assert "loopback or private" in metadata.output


def test_unknown_connector_settings_are_named(cli):
    result = cli(
        "sites",
        "add",
        "shop-two",
        "--connector",
        "memshop",
        "--url",
        "http://127.0.0.1:9",
        "--allow-private-network",
        *cli.settings,
        "--setting",
        "colour=blue",
        ok=False,
    )
    assert result.exit_code == 2
    assert "colour" in result.output


def test_users_and_tokens(cli):
    created = json.loads(
        cli(
            "users",
            "create",
            "anna",
            "--role",
            "admin",
            "--password",
            "correct horse battery",
            "--token",
            "ci",
            "--json",
        ).output
    )
    assert created["token"].startswith("lb_")
    weak = cli("users", "create", "bob", "--password", "short", ok=False)
    assert "at least 10 characters" in weak.output
    with cli.runtime.engine.connect() as connection:
        hashes = connection.execute(text("SELECT password_hash FROM users")).scalars().all()
        tokens = connection.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert "correct horse battery" not in hashes[0]
    assert created["token"] not in tokens
