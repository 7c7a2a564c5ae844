"""setup.cfg lists every package folder, so wheels contain all the code."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_setup_cfg_lists_every_package():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}
    mapping = dict(
        line.split("=", 1) for line in config["options"]["package_dir"].splitlines() if "=" in line
    )
    found: set[str] = set()
    for top, folder in ((key.strip(), value.strip()) for key, value in mapping.items()):
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base)
            parts = [top, *relative.parts] if relative.parts else [top]
            found.add(".".join(parts))
    assert found - listed == set(), f"packages missing from setup.cfg: {sorted(found - listed)}"
    assert listed - found == set(), f"setup.cfg lists packages that do not exist: {listed - found}"
