"""Hooks the Fortnox connector publishes for other plugins (added via
``ledgerbridge_add_hookspecs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledgerbridge.plugins.markers import hookspec

if TYPE_CHECKING:
    from ledgerbridge.contexts import RouteContext
    from ledgerbridge.model import AccountingDocument, DocumentRow


@hookspec(firstresult=True)
def ledgerbridge_fortnox_invoice_row(
    payload: dict[str, Any],
    row: DocumentRow,
    document: AccountingDocument,
    route: RouteContext,
) -> dict[str, Any]:
    """Filter: change one Fortnox invoice or order row just before it is sent.

    Called for every row of every Fortnox invoice, order and credit invoice, after the
    general ``ledgerbridge_row_payload`` filter, with Fortnox's own field names
    (``ArticleNumber``, ``Description``, ``DeliveredQuantity`` (a string), ``Price``, ``VAT``,
    ``AccountNumber``, ``CostCenter``, ``Project``...). The built-in implementation returns
    ``payload`` unchanged; wrap it to change fields. Must not raise except ``DataError``.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_fortnox_invoice_row(payload, row, document, route):
            payload = yield
            if row.kind == "shipping":
                payload["CostCenter"] = "FRAKT"
            return payload
    """
