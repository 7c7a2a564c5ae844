"""Which day a document is booked on, in Swedish time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ledgerbridge.model.order import Order

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local_date(moment: datetime) -> date:
    """The calendar day of ``moment`` in Europe/Stockholm."""
    return moment.astimezone(STOCKHOLM).date()


def booking_date(order: Order) -> date:
    """The day of the taxable event: payment when it came before completion, else completion.

    A prepayment makes the VAT due when it is received (Skatteverket), so an order paid on
    30 April and completed on 3 May belongs to April. Without a completion date the order's
    paid date, then its creation date, is used.
    """
    paid = order.paid_at or order.payment.paid_at
    completed = order.completed_at
    if paid is not None and (completed is None or paid <= completed):
        return local_date(paid)
    if completed is not None:
        return local_date(completed)
    return local_date(order.created_at)
