"""The Bokio sandbox: a local Company API and General API (OAuth) server."""

from __future__ import annotations

from typing import Any

from ledgerbridge_bokio.sandbox.app import create_app
from ledgerbridge_bokio.sandbox.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_COMPANY_ID,
    DEMO_TOKEN,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_COMPANY_ID",
    "DEMO_TOKEN",
    "create_app",
    "describe",
]


def describe(app: Any, base_url: str) -> list[str]:
    """What ``ledgerbridge sandbox bokio`` prints at start: settings to paste, admin API."""
    return [
        f"API base URL (api_url):   {base_url}/v1",
        f"Company id (company_id):  {DEMO_COMPANY_ID}",
        f"Private token (token):    {DEMO_TOKEN}",
        f"OAuth client id / secret: {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}",
        f"Everything created:       GET {base_url}/_sandbox/companies/{DEMO_COMPANY_ID}/documents",
        f"Knobs and counters:       {base_url}/_sandbox/knobs, {base_url}/_sandbox/stats",
    ]
