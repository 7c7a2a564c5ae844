"""The pluggy markers of the ``ledgerbridge`` project (also the entry-point group name)."""

import pluggy

PROJECT = "ledgerbridge"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
