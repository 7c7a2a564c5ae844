"""The example connector's package, importable without putting its folder on ``sys.path``
(its ``tests`` folder would shadow ours)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "ledgerbridge-sie" / "ledgerbridge_sie"


@pytest.fixture
def sie_package() -> ModuleType:
    """``ledgerbridge_sie`` loaded from the checkout (once per process)."""
    if "ledgerbridge_sie" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "ledgerbridge_sie", PACKAGE / "__init__.py", submodule_search_locations=[str(PACKAGE)]
        )
        assert spec is not None and spec.loader is not None
        sys.modules["ledgerbridge_sie"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["ledgerbridge_sie"])
    return sys.modules["ledgerbridge_sie"]
