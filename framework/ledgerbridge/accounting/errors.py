"""Errors of the accounting rules beyond the shared taxonomy."""

from __future__ import annotations

from ledgerbridge.errors import DataError


class SkipExport(DataError):
    """The order is deliberately not exported (a zero total on a route that skips them).

    A ``DataError`` subclass so code that only knows the taxonomy still stops the export; the
    pipeline catches it first and marks the export "skipped" instead of "needs review".
    """
