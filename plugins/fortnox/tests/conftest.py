"""Fixtures for the Fortnox connector tests: a sandbox over real HTTP (validated against the
official OpenAPI file), connected ledgers, routes and realistic accounting documents."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.masking import registry
from ledgerbridge.plugins.types import SandboxOptions
from ledgerbridge.testing.servers import serve_wsgi

sys.path.insert(0, str(Path(__file__).parent))

from fortnox_contract import ContractRecorder
from fortnox_documents import *  # noqa: F403
from fortnox_ledgers import connect

from ledgerbridge_fortnox.sandbox.app import create_app, sandbox_state


@pytest.fixture(scope="session")
def contract() -> ContractRecorder:
    """Validates every exchange with the sandbox against the Fortnox OpenAPI file."""
    return ContractRecorder()


@pytest.fixture
def sandbox(contract: ContractRecorder) -> Iterator[Any]:
    """A fresh Fortnox sandbox on a loopback port; every exchange is contract-checked."""
    app = create_app(SandboxOptions(extra={"timeout_seconds": "1.5"}))
    checked = contract.wrap(app)
    with serve_wsgi(checked) as server:
        server.state = sandbox_state(app)
        yield server
    contract.assert_clean()


@pytest.fixture
def ledger(sandbox: Any) -> Any:
    """A ledger connected to the sandbox's first company."""
    return connect(sandbox)


@pytest.fixture(autouse=True)
def _clean_secret_registry() -> Iterator[None]:
    yield
    registry.clear()
