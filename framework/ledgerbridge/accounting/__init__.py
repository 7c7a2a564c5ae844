"""The accounting rules: canonical order or refund → balanced Swedish accounting document.

Public API (the pipeline, the targets and ``ledgerbridge preview`` call exactly these):

* :func:`build_document` — an order's invoice or cash sale;
* :func:`build_credit_note` — the credit note of one refund, referencing the original;
* :func:`build_daily_summary` — one day's cash sales of a route as one document (dagskassa);
* :class:`SkipExport` — raised for a zero-total order on a route that skips them.

The rules are described in ``docs/accounting.md``.
"""

from ledgerbridge.accounting.builder import build_document
from ledgerbridge.accounting.credit import build_credit_note
from ledgerbridge.accounting.errors import SkipExport
from ledgerbridge.accounting.summary import build_daily_summary, daily_summary_eligible

__all__ = [
    "SkipExport",
    "build_credit_note",
    "build_daily_summary",
    "build_document",
    "daily_summary_eligible",
]
