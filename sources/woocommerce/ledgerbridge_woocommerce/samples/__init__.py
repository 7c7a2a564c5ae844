"""Real WooCommerce payloads (see README.md for provenance), and helpers to read them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def names() -> list[str]:
    """File names of every JSON sample shipped with the connector."""
    folder = resources.files(__name__)
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".json"))


def load(name: str) -> Any:
    """One sample, parsed (an order, a list of orders or a list of refunds)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))
