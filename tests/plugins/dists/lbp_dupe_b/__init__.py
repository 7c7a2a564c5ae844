"""One of two plugins claiming the connector name ``dupe``."""

from ledgerbridge import hookimpl
from ledgerbridge.model import ConnectionStatus
from ledgerbridge.plugins.types import ConnectorSpec


class Source:
    @hookimpl
    def ledgerbridge_source_check_connection(self, site):
        return ConnectionStatus(ok=True, message="dupe")

    @hookimpl
    def ledgerbridge_source_fetch_order(self, site, order_id):
        return {}

    @hookimpl
    def ledgerbridge_source_iter_orders(self, site, modified_after, statuses):
        return iter(())

    @hookimpl
    def ledgerbridge_source_parse_webhook(self, site, headers, body):
        return None

    @hookimpl
    def ledgerbridge_source_normalize_order(self, site, raw):
        return None


@hookimpl
def ledgerbridge_register_connectors():
    return [ConnectorSpec(name="dupe", role="source", title="Dupe", implementation=Source())]
