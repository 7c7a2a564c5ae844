"""A shop's own ``ledgerbridge_hooks.py`` in the instance folder, as an installation sees it:
listed by ``ledgerbridge plugins``, used by the runtime, refused clearly when it is wrong."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ledgerbridge.cli import main
from ledgerbridge.contexts import memory_route
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime

GOOD = """
from ledgerbridge import hookimpl


@hookimpl(wrapper=True)
def ledgerbridge_document_payload(payload, document, route):
    payload = yield
    payload["Remarks"] = "Webborder"
    return payload
"""

MISSPELT = """
from ledgerbridge import hookimpl


@hookimpl
def ledgerbridge_documnet_payload(payload):
    return payload
"""


def plugins(tmp_path, source: str, *, strict: bool = False):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "ledgerbridge_hooks.py").write_text(source, encoding="utf-8")
    env = {
        "LEDGERBRIDGE_INSTANCE_PATH": str(instance),
        "LEDGERBRIDGE_STRICT_PLUGINS": "1" if strict else "0",
    }
    return CliRunner().invoke(main, ["plugins", "--json"], env=env)


def by_name(result) -> dict[str, dict]:
    assert result.exit_code == 0, result.output
    return {entry["name"]: entry for entry in json.loads(result.output)}


def test_a_local_hooks_file_is_listed_with_its_hooks(tmp_path):
    listed = by_name(plugins(tmp_path, GOOD))
    local = listed["local-hooks"]
    assert local["status"] == "active"
    assert local["role"] == "extension"
    assert local["hooks"] == ["ledgerbridge_document_payload"]
    assert str(tmp_path / "instance" / "ledgerbridge_hooks.py") in local["distribution"]


def test_a_file_with_an_unknown_hook_is_refused_and_the_rest_keeps_running(tmp_path):
    listed = by_name(plugins(tmp_path, MISSPELT))
    local = listed["local-hooks"]
    assert local["status"] == "broken"
    assert local["error"] == (
        "implements unknown hooks: ledgerbridge_documnet_payload "
        "(misspelt, or written for another ledgerbridge version)"
    )
    assert local["hooks"] == []
    for name in ("woocommerce", "fortnox", "bokio"):
        assert listed[name]["status"] == "active"


def test_a_file_that_does_not_import_is_refused_with_the_reason(tmp_path):
    local = by_name(plugins(tmp_path, "def broken(:\n"))["local-hooks"]
    assert local["status"] == "broken"
    assert "could not be loaded: SyntaxError" in local["error"]


def test_strict_plugins_make_a_bad_file_fatal(tmp_path):
    result = plugins(tmp_path, MISSPELT, strict=True)
    assert result.exit_code != 0
    assert "ledgerbridge_documnet_payload" in str(result.exception)


def test_the_runtime_passes_payloads_through_the_local_hooks(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "ledgerbridge_hooks.py").write_text(GOOD, encoding="utf-8")
    runtime = Runtime(load_config(instance_path=instance, queue_mode="embedded"))
    try:
        route = runtime.hooks.with_filters(memory_route())
        assert route.filters.document({"Total": "1"}, None) == {
            "Total": "1",
            "Remarks": "Webborder",
        }
    finally:
        runtime.close()
