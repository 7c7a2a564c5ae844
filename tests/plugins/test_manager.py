"""The plugin host: entry-point loading with fake installed distributions.

``dists/`` holds six fake distributions (dist-info + module), found through the
``ledgerbridge`` entry-point group exactly like pip-installed connectors: a working one, one
whose import fails, one with a hook of the wrong signature, one implementing an unknown hook,
and two that claim the same connector name.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerbridge.errors import ConfigError, PluginError
from ledgerbridge.plugins.facade import Hooks
from ledgerbridge.plugins.manager import create_plugin_manager

DISTS = Path(__file__).parent / "dists"
THIRD_PARTY = {"working", "broken", "badsig", "unknown", "dupe_a", "dupe_b"}


@pytest.fixture
def fake_dists(monkeypatch):
    """Put the fake distributions on sys.path for this test."""
    monkeypatch.syspath_prepend(str(DISTS))
    for name in (
        "lbp_working",
        "lbp_broken",
        "lbp_badsig",
        "lbp_unknown",
        "lbp_dupe_a",
        "lbp_dupe_b",
    ):
        sys.modules.pop(name, None)
    return DISTS


def test_working_plugin_loads_with_its_distribution(fake_dists):
    pm = create_plugin_manager(strict=False, disabled=())
    record = pm.records["working"]
    assert record.status == "active"
    assert (record.distribution, record.version, record.role) == ("lbp-working", "1.2.3", "target")
    spec = Hooks(pm).connector("working", "target")
    assert spec.title == "Working"


def test_broken_plugins_are_skipped_and_named(fake_dists, caplog):
    caplog.set_level(logging.ERROR, logger="ledgerbridge.plugins.manager")
    pm = create_plugin_manager(strict=False, disabled=())
    assert pm.records["broken"].status == "broken"
    assert "No module named 'a_module_that_does_not_exist'" in pm.records["broken"].error
    assert pm.records["badsig"].status == "broken"
    assert "colour" in pm.records["badsig"].error
    assert pm.records["unknown"].status == "broken"
    assert "ledgerbridge_clasify_line" in pm.records["unknown"].error
    logged = caplog.text
    for distribution in ("lbp-broken", "lbp-badsig", "lbp-unknown"):
        assert distribution in logged
    # the broken ones left nothing behind, the working one still works
    assert pm.get_plugin("badsig") is None and pm.get_plugin("unknown") is None
    assert "working" in pm.connectors


def test_two_plugins_claiming_one_connector_name_both_named(fake_dists, caplog):
    caplog.set_level(logging.ERROR, logger="ledgerbridge.plugins.manager")
    pm = create_plugin_manager(strict=False, disabled=())
    assert "dupe" not in pm.connectors
    assert pm.conflicts["dupe"] == ["lbp-dupe-a", "lbp-dupe-b"]
    assert "lbp-dupe-a" in caplog.text and "lbp-dupe-b" in caplog.text
    with pytest.raises(ConfigError, match="lbp-dupe-a and lbp-dupe-b"):
        Hooks(pm).connector("dupe", "source")


def test_strict_mode_makes_a_broken_plugin_fatal(fake_dists):
    with pytest.raises(PluginError, match="from distribution"):
        create_plugin_manager(strict=True, disabled=())


def test_strict_mode_from_the_environment(fake_dists, monkeypatch):
    monkeypatch.setenv("LEDGERBRIDGE_STRICT_PLUGINS", "1")
    monkeypatch.setenv("LEDGERBRIDGE_DISABLE_PLUGINS", "broken,badsig,unknown,lbp-dupe-b")
    pm = create_plugin_manager()
    assert "dupe" in pm.connectors  # one claimant left
    assert pm.records["broken"].status == "disabled"
    assert pm.records["dupe_b"].status == "disabled"
    monkeypatch.setenv("LEDGERBRIDGE_DISABLE_PLUGINS", "broken")
    with pytest.raises(PluginError):
        create_plugin_manager()


def test_disabled_plugins_are_not_imported(fake_dists):
    pm = create_plugin_manager(strict=False, disabled=THIRD_PARTY)
    assert all(pm.records[name].status == "disabled" for name in THIRD_PARTY)
    assert "lbp_broken" not in sys.modules
    assert "working" not in pm.connectors


def test_builtin_connectors_come_through_entry_points():
    pm = create_plugin_manager(strict=False, disabled=())
    entry_point_names = {
        record.name for record in pm.records.values() if record.distribution == "ledgerbridge"
    }
    assert {"woocommerce", "fortnox", "bokio"} <= entry_point_names


def test_a_connector_missing_required_hooks_is_refused(tmp_path):
    from ledgerbridge import hookimpl
    from ledgerbridge.plugins.manager import module_plugin
    from ledgerbridge.plugins.types import ConnectorSpec

    class HalfTarget:
        @hookimpl
        def ledgerbridge_target_check_connection(self, ledger):
            return None

    plugin = module_plugin(
        "half",
        ledgerbridge_register_connectors=hookimpl(
            lambda: [
                ConnectorSpec(name="half", role="target", title="Half", implementation=HalfTarget())
            ]
        ),
    )
    pm = create_plugin_manager(
        strict=False, disabled=(), entry_points=False, extra=[("half", plugin)]
    )
    assert "half" not in pm.connectors
    assert "ledgerbridge_target_export_document" in pm.records["half"].error
    with pytest.raises(PluginError):
        create_plugin_manager(strict=True, entry_points=False, extra=[("half", plugin)])


def test_local_hooks_file_is_loaded_and_a_bad_one_refused(tmp_path):
    good = tmp_path / "ledgerbridge_hooks.py"
    good.write_text(
        "from ledgerbridge import hookimpl\n\n"
        "@hookimpl\n"
        "def ledgerbridge_choose_account(purpose, order, route, line, default):\n"
        "    return '3011' if purpose == 'sales' else None\n"
    )
    pm = create_plugin_manager(strict=False, entry_points=False, local_hooks=good)
    assert pm.records["local-hooks"].status == "active"
    assert (
        "ledgerbridge_choose_account"
        in next(entry for entry in pm.describe() if entry["name"] == "local-hooks")["hooks"]
    )
    good.write_text(
        "from ledgerbridge import hookimpl\n\n"
        "@hookimpl\n"
        "def ledgerbridge_chose_account(purpose):\n"
        "    return None\n"
    )
    pm = create_plugin_manager(strict=False, entry_points=False, local_hooks=good)
    assert pm.records["local-hooks"].status == "broken"
    assert "ledgerbridge_chose_account" in pm.records["local-hooks"].error


def test_plugins_json_lists_every_plugin(fake_dists, tmp_path):
    env = {
        "PYTHONPATH": str(DISTS),
        "LEDGERBRIDGE_INSTANCE_PATH": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "LEDGERBRIDGE_DISABLE_PLUGINS": "broken,badsig",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    listed = {entry["name"]: entry for entry in json.loads(completed.stdout)}
    assert listed["working"]["role"] == "target"
    assert listed["working"]["distribution"] == "lbp-working"
    assert listed["working"]["version"] == "1.2.3"
    assert "ledgerbridge_classify_line" in listed["working"]["hooks"]
    assert "ledgerbridge_target_check_connection" in listed["working"]["hooks"]
    assert listed["broken"]["status"] == "disabled"
    assert listed["unknown"]["status"] == "broken"
    for entry in listed.values():
        assert set(entry) >= {"name", "role", "distribution", "version", "hooks"}
    table = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "lbp-working" in table and "1.2.3" in table
