"""The ``ledgerbridge`` command line."""

from __future__ import annotations

import logging
import sys

import click

from ledgerbridge import __version__
from ledgerbridge.masking import install_log_scrubbing


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ledgerbridge")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """ledgerbridge moves web-shop orders into accounting systems, exactly once."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_log_scrubbing()


def _register_commands() -> None:
    # Each command lives in its own module; the imports add them to ``main``.
    from ledgerbridge.cli import (  # noqa: F401
        config_cmd,
        db_cmd,
        demo_cmd,
        plans_cmd,
        plugins_cmd,
        preview_cmd,
        sandbox_cmd,
        sync_cmd,
        users_cmd,
        worker_cmd,
    )


_register_commands()
