"""Deterministic job ids (letters, digits, ``-`` and ``_`` only, as RQ requires)."""

from __future__ import annotations

import hashlib
import re

_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _part(value: object) -> str:
    text = str(value)
    if _SAFE.match(text):
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:20]


def sync_job(site_id: int, order_id: str) -> str:
    """The job that fetches one order of one site."""
    return f"sync-{site_id}-{_part(order_id)}"


def export_job(export_id: int) -> str:
    """The job that runs one export."""
    return f"export-{export_id}"


def follow_up_job(export_id: int, original_id: int) -> str:
    """A second run of a credit note's export once its original (export ``original_id``) is
    booked, for when the first one is still finishing."""
    return f"export-{export_id}-after-{original_id}"


def write_back_job(export_id: int) -> str:
    """The job that writes one export's result back to the shop."""
    return f"note-{export_id}"


def pdf_job(export_id: int) -> str:
    """The job that archives one document's PDF."""
    return f"pdf-{export_id}"


def bulk_job(run_id: int) -> str:
    """The job that enumerates one bulk run."""
    return f"bulk-{run_id}"


def periodic_job(task: str, bucket: int) -> str:
    """A periodic maintenance job, unique per time bucket across all workers."""
    return f"tick-{task}-{bucket}"
