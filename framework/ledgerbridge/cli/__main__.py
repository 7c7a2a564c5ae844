"""``python -m ledgerbridge.cli``: the same as the ``ledgerbridge`` command."""

from ledgerbridge.cli import main

main(prog_name="ledgerbridge")
