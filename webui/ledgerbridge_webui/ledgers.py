"""Ledgers: add and edit a company in an accounting system, test it, connect it, pick its plan."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.masking import scrub
from ledgerbridge.pipeline import actions
from ledgerbridge.setup import ledgers as ledger_setup
from ledgerbridge.store.models import Ledger, Plan
from ledgerbridge_webui import forms
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import apply_setup, runtime

blueprint = Blueprint("ledgers", __name__, url_prefix="/ledgers")
PREFIX = "setting-"


def _targets() -> list:
    return [spec for spec in runtime().hooks.connectors.values() if spec.role == "target"]


def _spec(name: str):
    spec = runtime().hooks.connectors.get(name)
    if spec is None or spec.role != "target":
        abort(404)
    return spec


def _plans() -> list[dict]:
    with runtime().transaction() as session:
        return [
            {"name": plan.name, "title": plan.title, "quota": plan.monthly_quota}
            for plan in session.scalars(select(Plan).order_by(Plan.position))
        ]


@blueprint.get("/")
def index():
    """Every ledger with its plan, quota use and connection state."""
    rt = runtime()
    with rt.transaction() as session:
        views = [
            ledger_setup.ledger_view(rt, session, ledger)
            for ledger in session.query(Ledger).order_by(Ledger.key)
        ]
    return render_template("ledgers/index.html", ledgers=views, targets=_targets())


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    """Add a ledger."""
    targets = _targets()
    if not targets:
        abort(404)
    spec = _spec(request.values.get("connector") or targets[0].name)
    errors: dict[str, list[str]] = {}
    values = dict(request.form) if request.method == "POST" else {"plan": "free"}
    if request.method == "POST":
        settings, secrets = forms.read_form(spec.settings_schema, request.form, PREFIX)
        rt = runtime()
        ledger_id, errors = apply_setup(
            lambda session: (
                ledger_setup.add_ledger(
                    rt,
                    session,
                    key=request.form.get("key", "").strip(),
                    name=request.form.get("name", ""),
                    connector=spec.name,
                    settings=settings,
                    secrets=secrets,
                    plan=request.form.get("plan", "free"),
                    actor=actor(),
                ).id
            )
        )
        if ledger_id is not None:
            flash(_("The ledger was added."), "ok")
            return redirect(url_for("ledgers.edit", ledger_id=ledger_id))
    setting_values = {
        key.removeprefix(PREFIX): value for key, value in values.items() if key.startswith(PREFIX)
    }
    return render_template(
        "ledgers/form.html",
        ledger=None,
        spec=spec,
        targets=targets,
        values=values,
        errors=errors,
        plans=_plans(),
        fields=forms.form_fields(spec.settings_schema, setting_values or None, {}, errors),
        prefix=PREFIX,
    )


@blueprint.route("/<int:ledger_id>", methods=["GET", "POST"])
def edit(ledger_id: int):
    """Show and change a ledger (secrets left empty keep their stored value)."""
    rt = runtime()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":

        def change(session) -> bool:
            ledger = session.get(Ledger, ledger_id) or abort(404)
            settings, secrets = forms.read_form(
                _spec(ledger.connector).settings_schema, request.form, PREFIX
            )
            ledger_setup.update_ledger(
                rt,
                session,
                ledger,
                actor=actor(),
                settings=settings,
                secrets=secrets,
                name=request.form.get("name", ledger.name),
            )
            return True

        saved, errors = apply_setup(change)
        if saved:
            flash(_("The ledger was saved."), "ok")
            return redirect(url_for("ledgers.edit", ledger_id=ledger_id))
    with rt.transaction() as session:
        ledger = session.get(Ledger, ledger_id) or abort(404)
        spec = _spec(ledger.connector)
        view = ledger_setup.ledger_view(rt, session, ledger)
    return render_template(
        "ledgers/form.html",
        ledger=view,
        spec=spec,
        targets=_targets(),
        values=view,
        errors=errors,
        plans=_plans(),
        fields=forms.form_fields(spec.settings_schema, view["settings"], view["secrets"], errors),
        prefix=PREFIX,
        oauth="oauth2" in spec.capabilities,
    )


@blueprint.post("/<int:ledger_id>/test")
def test(ledger_id: int):
    """Test the connection to the ledger now."""
    rt = runtime()
    with rt.transaction() as session:
        ledger = session.get(Ledger, ledger_id) or abort(404)
        context = rt.ledger_context(ledger)
    try:
        status = rt.hooks.target(context).check_connection()
        ok, message = status.ok, status.message
    except LedgerbridgeError as error:
        ok, message = False, str(error)
    if ok:
        flash(_("Connection works: %(message)s", message=scrub(message)), "ok")
    else:
        flash(_("Connection failed: %(message)s", message=scrub(message)), "error")
    return redirect(url_for("ledgers.edit", ledger_id=ledger_id))


@blueprint.post("/<int:ledger_id>/plan")
def plan(ledger_id: int):
    """Move the ledger to another plan (exports waiting for quota continue)."""
    try:
        resumed = actions.set_plan(runtime(), ledger_id, request.form.get("plan", ""), actor())
    except actions.ActionRefused as error:
        flash(str(error), "error")
    else:
        flash(_("Plan changed; %(count)d waiting exports continue.", count=len(resumed)), "ok")
    return redirect(url_for("ledgers.edit", ledger_id=ledger_id))


@blueprint.post("/<int:ledger_id>/remove")
def remove(ledger_id: int):
    """Remove a ledger and its routes (documents in the ledger itself stay)."""
    rt = runtime()
    with rt.transaction() as session:
        ledger = session.get(Ledger, ledger_id) or abort(404)
        ledger_setup.remove_ledger(session, ledger, actor=actor())
    flash(_("The ledger was removed."), "ok")
    return redirect(url_for("ledgers.index"))
