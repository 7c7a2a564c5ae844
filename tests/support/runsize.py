"""Full or short sizes for the long suites (reliability, fuzzing).

Full when ``LEDGERBRIDGE_FULL_RELIABILITY=1``, or when pytest was pointed only at the suite's
own folder and ``CI`` is not set; short in whole-suite runs and in CI (``CI=true``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_TRUE = ("1", "true", "yes")


def full_run(config: pytest.Config, folder: Path) -> bool:
    """Whether this session runs ``folder``'s full sizes."""
    if os.environ.get("LEDGERBRIDGE_FULL_RELIABILITY", "").strip().lower() in _TRUE:
        return True
    if os.environ.get("CI", "").strip().lower() in _TRUE:
        return False
    arguments = [arg for arg in config.args if not arg.startswith("-")]
    if not arguments:
        return False
    folder = folder.resolve()
    for argument in arguments:
        path = Path(argument.split("::", 1)[0]).resolve()
        if not (path == folder or folder in path.parents):
            return False
    return True
