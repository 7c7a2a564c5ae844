"""Entry point of the SIE connector (``ledgerbridge`` entry-point group, name ``sie``)."""

from __future__ import annotations

from ledgerbridge import hookimpl
from ledgerbridge.plugins.types import ConnectorSpec
from ledgerbridge_sie.settings import SieSettingsSchema
from ledgerbridge_sie.target import SieTarget

HELP = (
    "Writes every exported order, refund and daily summary as a voucher (#VER) in SIE 4 "
    "import files (.si, code page 437) in the output folder, one file per day or per order. "
    "Import the files into any Swedish accounting program (File → Import → SIE). Every "
    "worker must be able to write to the folder."
)


@hookimpl
def ledgerbridge_register_connectors() -> list[ConnectorSpec]:
    """The SIE file target (no sandbox: it writes local files)."""
    return [
        ConnectorSpec(
            name="sie",
            role="target",
            title="SIE 4 files",
            implementation=SieTarget(),
            settings_schema=SieSettingsSchema,
            capabilities=frozenset(
                {
                    "voucher",
                    "cash_sale_voucher",
                    "daily_summary_voucher",
                    "credit_reversal",
                    "preview",
                }
            ),
            description="Vouchers in SIE 4 files for any Swedish accounting program.",
            help=HELP,
        )
    ]
