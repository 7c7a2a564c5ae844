"""A working third-party plugin: one target connector and one pipeline hook."""

from ledgerbridge import hookimpl
from ledgerbridge.model import ConnectionStatus
from ledgerbridge.plugins.types import ConnectorSpec


class Target:
    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger):
        return ConnectionStatus(ok=True, message=f"working target for {ledger.name}")

    @hookimpl
    def ledgerbridge_target_find_document(self, ledger, document):
        return None

    @hookimpl
    def ledgerbridge_target_export_document(self, ledger, route, document, progress):
        raise AssertionError("not exported in these tests")

    @hookimpl
    def ledgerbridge_target_export_credit_note(self, ledger, route, document, original, progress):
        raise AssertionError("not exported in these tests")


@hookimpl
def ledgerbridge_register_connectors():
    return [ConnectorSpec(name="working", role="target", title="Working", implementation=Target())]


@hookimpl
def ledgerbridge_classify_line(order, line, default):
    return None
