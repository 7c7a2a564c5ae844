"""The third-party SIE connector, installed the way a user installs it.

Both distributions are built as wheels from this checkout and pip-installed into a fresh
virtual environment. There the example's own tests (its conformance run) pass against the
installed ledgerbridge, ``ledgerbridge plugins --json`` lists it next to an instance folder's
``ledgerbridge_hooks.py``, and the installed CLI routes orders of the WooCommerce sandbox
through a real ``ledgerbridge worker`` into SIE files, which are read back and checked against
the shop: every voucher balances, books the order's (or refund's) amount in SEK once, and
keeps the Swedish letters of the buyer's name through code page 437.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.money import quantize
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.testing.servers import serve_wsgi
from ledgerbridge_woocommerce.sandbox import create_app, sandbox_of

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ledgerbridge-sie"
D = Decimal
RATES = {"SEK": D("1"), "EUR": D("11.20"), "NOK": D("1.02"), "DKK": D("1.50"), "USD": D("10.50")}
LOCAL_HOOKS = '''
"""This shop's own change: every voucher text says where it came from."""
from ledgerbridge import hookimpl


@hookimpl(wrapper=True)
def ledgerbridge_document_payload(payload, document, route):
    payload = yield
    if route.ledger.connector == "sie":
        payload["text"] += " [webbshop]"
    return payload
'''


def run(command: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess:
    """Run ``command``; fail the test with its output when it fails."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def source_copy(destination: Path) -> Path:
    """The checkout's files (tracked and new, not ignored), so building leaves it untouched."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> dict[str, Any]:
    """A fresh virtual environment with ledgerbridge and ledgerbridge-sie installed as wheels."""
    root = tmp_path_factory.mktemp("sie-venv")
    source = source_copy(root / "src")
    wheels = root / "wheels"
    build_env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for project in (source, source / "examples" / "ledgerbridge-sie"):
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "-w",
                str(wheels),
                str(project),
            ],
            build_env,
        )
    built = sorted(path.name for path in wheels.glob("*.whl"))
    assert [name.split("-")[0] for name in built] == ["ledgerbridge", "ledgerbridge_sie"], built
    environment = root / "venv"
    run([sys.executable, "-m", "venv", str(environment)], build_env)
    python = environment / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "-q", *map(str, wheels.glob("*.whl")), "pytest"],
        build_env,
    )
    return {"root": root, "bin": environment / "bin", "python": python}


def clean_env(venv: dict[str, Any], instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell in that virtual environment (nothing of ours)."""
    env = {
        "PATH": f"{venv['bin']}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "LEDGERBRIDGE_INSTANCE_PATH": str(instance),
        "LEDGERBRIDGE_STRICT_PLUGINS": "1",
    }
    env.update(extra)
    return env


def test_the_example_passes_its_own_tests_against_the_installed_ledgerbridge(venv, tmp_path):
    copy = shutil.copytree(EXAMPLE, tmp_path / "ledgerbridge-sie", ignore=_caches)
    done = run(
        [str(venv["python"]), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        clean_env(venv, tmp_path / "instance"),
        cwd=copy,
    )
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-2000:]
    # the installed entry point, not the checkout: the conftest registers nothing itself
    probe = run(
        [str(venv["python"]), "-c", "import ledgerbridge_sie; print(ledgerbridge_sie.__file__)"],
        clean_env(venv, tmp_path / "instance"),
    )
    assert "site-packages" in probe.stdout


def test_plugins_lists_the_connector_and_the_local_hooks(venv, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "ledgerbridge_hooks.py").write_text(LOCAL_HOOKS, encoding="utf-8")
    done = run([str(venv["bin"] / "ledgerbridge"), "plugins", "--json"], clean_env(venv, instance))
    plugins = {entry["name"]: entry for entry in json.loads(done.stdout)}
    sie = plugins["sie"]
    assert (sie["distribution"], sie["version"], sie["status"]) == (
        "ledgerbridge-sie",
        "0.1.0",
        "active",
    )
    assert sie["role"] == "target"
    assert sie["connectors"][0]["name"] == "sie" and sie["connectors"][0]["title"] == "SIE 4 files"
    assert "ledgerbridge_target_export_document" in sie["hooks"]
    assert {"woocommerce", "fortnox", "bokio"} <= set(plugins)
    local = plugins["local-hooks"]
    assert local["status"] == "active" and local["hooks"] == ["ledgerbridge_document_payload"]

    table = run([str(venv["bin"] / "ledgerbridge"), "plugins"], clean_env(venv, instance)).stdout
    assert "ledgerbridge-sie" in table and "local-hooks" in table


def test_shop_orders_flow_through_a_worker_into_sie_files(
    venv, tmp_path, redis_url, redis_prefix, sie_package
):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "ledgerbridge_hooks.py").write_text(LOCAL_HOOKS, encoding="utf-8")
    output = tmp_path / "sie"
    env = clean_env(
        venv,
        instance,
        LEDGERBRIDGE_REDIS_URL=redis_url,
        LEDGERBRIDGE_QUEUE="redis",
        LEDGERBRIDGE_QUEUE_PREFIX=redis_prefix,
        LEDGERBRIDGE_RETRY_INTERVALS="1,1,1",
    )
    cli = str(venv["bin"] / "ledgerbridge")
    app = create_app(SandboxOptions(extra={"orders": 16}))
    shop = sandbox_of(app).shop
    # a buyer whose name has the Swedish letters, and one code page 437 does not have (Ø)
    buyers = [r.data for r in shop.orders.values() if r.data["status"] == "completed"]
    for data in buyers:
        data["billing"].update(first_name="Åsa", last_name="Ödegård-Øberg", company="")
    with serve_wsgi(app) as server:
        run([cli, "db", "upgrade"], env)
        secrets = {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}
        run(
            [
                cli,
                "sites",
                "add",
                "webbshop",
                "--url",
                server.url,
                "--allow-private-network",
                "--reference-prefix",
                "WS-",
                "--secrets-stdin",
            ],
            env,
            input=json.dumps(secrets),
        )
        run(
            [
                cli,
                "ledgers",
                "add",
                "sie",
                "--connector",
                "sie",
                "--setting",
                f"output_folder={output}",
                "--setting",
                "company_name=Kaffebolaget i Åre AB",
                "--setting",
                "organisation_number=5566778899",
            ],
            env,
        )
        rates = {code: str(rate) for code, rate in RATES.items() if code != "SEK"}
        run(
            [
                cli,
                "routes",
                "add",
                "webbshop",
                "sie",
                "--set",
                f"manual_rates={json.dumps(rates)}",
                "--set",
                "zero_total=skip",
            ],
            env,
        )
        run([cli, "sync", "--site", "webbshop", "--json"], env)
        worker = run([cli, "worker", "--burst", "--no-ticker"], env, timeout=300)
        exports = json.loads(run([cli, "exports", "list", "--json", "--limit", "1000"], env).stdout)

    done = [e for e in exports if e["state"] == "done"]
    assert len([e for e in done if e["kind"] == "order"]) >= 5, (exports, worker.stderr[-2000:])
    from ledgerbridge_sie.sie import parse  # the example's reader (the sie_package fixture)

    vouchers = {}
    for path in sorted(output.glob("*.si")):
        raw = path.read_bytes()
        assert raw.startswith(b"#FLAGGA 0\r\n#PROGRAM"), path.name
        for voucher in parse(raw).vouchers:
            reference = voucher.text.split(": ", 1)[0]
            assert reference not in vouchers, f"{reference} was written twice"
            vouchers[reference] = voucher
    assert set(vouchers) == {e["reference"] for e in done}
    swedish = 0
    for export in done:
        voucher = vouchers[export["reference"]]
        assert voucher.target_id == export["target_id"]
        assert voucher.balance == 0, voucher
        assert voucher.text.endswith(" [webbshop]"), voucher.text  # the local hook ran
        if export["kind"] == "order":
            order = shop.orders[int(export["source_id"])].data
            expected = quantize(D(order["total"]) * RATES[order["currency"]])
            billing = order["billing"]
            name = billing["company"] or f"{billing['first_name']} {billing['last_name']}"
            cp437 = name.encode("cp437", errors="replace").decode("cp437")
            assert f", {cp437} [webbshop]" in voucher.text, (voucher.text, name)
            swedish += any(letter in cp437 for letter in "åäöÅÄÖ")
        else:
            record, refund = next(
                (record, refund)
                for record in shop.orders.values()
                for refund in record.refunds
                if str(refund["id"]) == export["source_id"]
            )
            rate = RATES[record.data["currency"]]
            expected = quantize(abs(D(str(refund["amount"]))) * rate)
        assert abs(voucher.moved_on("1")) == expected, (export, voucher)
    assert any(export["kind"] == "refund" for export in done), "no refund was credited"
    assert swedish >= 5, "the buyers' Swedish letters did not reach the files"
    texts = " ".join(voucher.text for voucher in vouchers.values())
    assert "Åsa Ödegård-?berg" in texts


def _caches(folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name in ("__pycache__", ".pytest_cache")}
