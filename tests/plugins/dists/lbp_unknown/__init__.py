"""A plugin implementing a hook that does not exist (a typo)."""

from ledgerbridge import hookimpl


@hookimpl
def ledgerbridge_clasify_line(order, line, default):
    return None
