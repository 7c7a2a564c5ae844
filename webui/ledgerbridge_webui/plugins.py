"""Installed connectors and extensions: distributions, versions, hooks."""

from __future__ import annotations

from flask import Blueprint, render_template

from ledgerbridge_webui.views import runtime

blueprint = Blueprint("plugins", __name__)


@blueprint.get("/plugins")
def index():
    """What ``ledgerbridge plugins`` lists, as a page."""
    described = [entry for entry in runtime().pm.describe() if entry["name"] != "core"]
    return render_template("plugins.html", plugins=described)
