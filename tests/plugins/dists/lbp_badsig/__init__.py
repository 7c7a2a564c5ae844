"""A plugin whose hook asks for an argument the spec does not have."""

from ledgerbridge import hookimpl


@hookimpl
def ledgerbridge_classify_line(order, line, default, colour):
    return None
