"""Bokio's official OpenAPI files (see README.md for provenance), shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

COMPANY_API = "bokio-company-api.openapi.yml"
GENERAL_API = "bokio-general-api.openapi.yml"


@cache
def load_spec(name: str) -> dict[str, Any]:
    """The parsed OpenAPI document ``name`` (needs PyYAML, from the ``test`` extra)."""
    import yaml

    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
