"""Let the tests run from a checkout too: when the distribution is not installed
(``pip install -e .``), the package is loaded from this folder and its plugin module is
registered in code instead of found through its entry point.

The package is loaded by path rather than by putting this folder on ``sys.path``, which would
make this ``tests`` folder shadow other projects' ``tests`` packages in one pytest run.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ledgerbridge_sie"
INSTALLED = any(
    entry_point.name == "sie"
    for entry_point in importlib.metadata.entry_points(group="ledgerbridge")
)
if not INSTALLED and "ledgerbridge_sie" not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        "ledgerbridge_sie", PACKAGE / "__init__.py", submodule_search_locations=[str(PACKAGE)]
    )
    assert spec is not None and spec.loader is not None
    sys.modules["ledgerbridge_sie"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules["ledgerbridge_sie"])


@pytest.fixture
def extra_plugins() -> list[tuple[str, object]]:
    """Plugins ledgerbridge's ``plugin_manager`` fixture registers besides the installed ones."""
    if INSTALLED:
        return []
    from ledgerbridge_sie import plugin

    return [("sie", plugin)]
