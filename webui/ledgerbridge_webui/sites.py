"""Shops: add and edit a site, test its connection, register its webhooks and see their state."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.masking import scrub
from ledgerbridge.pipeline.maintenance import check_webhooks, delivery_url
from ledgerbridge.setup import sites as site_setup
from ledgerbridge.store.models import Site
from ledgerbridge_webui import forms
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import apply_setup, runtime
from ledgerbridge_webui.webhooks import forget_sites

blueprint = Blueprint("sites", __name__, url_prefix="/sites")
PREFIX = "setting-"


def _sources() -> list:
    return [spec for spec in runtime().hooks.connectors.values() if spec.role == "source"]


def _spec(name: str):
    spec = runtime().hooks.connectors.get(name)
    if spec is None or spec.role != "source":
        abort(404)
    return spec


def _flags() -> dict:
    return {
        "oss_registered": "oss_registered" in request.form,
        "allow_private_network": "allow_private_network" in request.form,
    }


@blueprint.get("/")
def index():
    """Every site with its webhook health."""
    rt = runtime()
    with rt.transaction() as session:
        views = [site_setup.site_view(rt, site) for site in session.query(Site).order_by(Site.key)]
    return render_template("sites/index.html", sites=views, sources=_sources())


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    """Add a site."""
    connector = request.values.get("connector") or (_sources() or [None])[0]
    if connector is None:
        abort(404)
    spec = _spec(connector if isinstance(connector, str) else connector.name)
    errors: dict[str, list[str]] = {}
    values = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        settings, secrets = forms.read_form(spec.settings_schema, request.form, PREFIX)
        rt = runtime()
        site_id, errors = apply_setup(
            lambda session: (
                site_setup.add_site(
                    rt,
                    session,
                    key=request.form.get("key", "").strip(),
                    name=request.form.get("name", ""),
                    connector=spec.name,
                    url=request.form.get("url", "").strip(),
                    settings=settings,
                    secrets=secrets,
                    reference_prefix=request.form.get("reference_prefix", "").strip(),
                    actor=actor(),
                    **_flags(),
                ).id
            )
        )
        if site_id is not None:
            forget_sites()
            flash(_("The site was added. Test the connection and register the webhooks."), "ok")
            return redirect(url_for("sites.edit", site_id=site_id))
    setting_values = {
        key.removeprefix(PREFIX): value for key, value in values.items() if key.startswith(PREFIX)
    }
    return render_template(
        "sites/form.html",
        site=None,
        spec=spec,
        values=values,
        errors=errors,
        fields=forms.form_fields(spec.settings_schema, setting_values or None, {}, errors),
        prefix=PREFIX,
    )


@blueprint.route("/<int:site_id>", methods=["GET", "POST"])
def edit(site_id: int):
    """Show and change a site (secrets left empty keep their stored value)."""
    rt = runtime()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":

        def change(session) -> bool:
            site = session.get(Site, site_id) or abort(404)
            settings, secrets = forms.read_form(
                _spec(site.connector).settings_schema, request.form, PREFIX
            )
            site_setup.update_site(
                rt,
                session,
                site,
                actor=actor(),
                settings=settings,
                secrets=secrets,
                name=request.form.get("name", site.name),
                url=request.form.get("url", site.url).strip(),
                reference_prefix=request.form.get("reference_prefix", "").strip(),
                enabled="enabled" in request.form,
                poll_enabled="poll_enabled" in request.form,
                **_flags(),
            )
            return True

        saved, errors = apply_setup(change)
        if saved:
            forget_sites()
            flash(_("The site was saved."), "ok")
            return redirect(url_for("sites.edit", site_id=site_id))
    with rt.transaction() as session:
        site = session.get(Site, site_id) or abort(404)
        spec = _spec(site.connector)
        view = site_setup.site_view(rt, site)
        hook_url = delivery_url(rt, site)
    return render_template(
        "sites/form.html",
        site=view,
        spec=spec,
        values=view,
        errors=errors,
        fields=forms.form_fields(spec.settings_schema, view["settings"], view["secrets"], errors),
        prefix=PREFIX,
        delivery_url=hook_url,
    )


@blueprint.post("/<int:site_id>/test")
def test(site_id: int):
    """Test the connection to the shop now."""
    rt = runtime()
    with rt.transaction() as session:
        site = session.get(Site, site_id) or abort(404)
        context = rt.site_context(site)
    try:
        status = rt.hooks.source(context).check_connection()
        ok, message = status.ok, status.message
    except LedgerbridgeError as error:
        ok, message = False, str(error)
    flash(
        (_("Connection works: %(message)s", message=scrub(message)))
        if ok
        else _("Connection failed: %(message)s", message=scrub(message)),
        "ok" if ok else "error",
    )
    return redirect(url_for("sites.edit", site_id=site_id))


@blueprint.post("/<int:site_id>/webhooks")
def register_webhooks(site_id: int):
    """Create or repair the site's webhooks in the shop and record their state."""
    rt = runtime()
    with rt.transaction() as session:
        session.get(Site, site_id) or abort(404)
    check_webhooks(rt, site_id)
    with rt.transaction() as session:
        state = dict((session.get(Site, site_id) or abort(404)).webhooks or {})
    if state.get("ok"):
        flash(
            _("Webhooks registered: %(count)d active.", count=len(state.get("webhooks", []))), "ok"
        )
    else:
        flash(
            _("Webhooks could not be registered: %(message)s", message=state.get("error", "")),
            "error",
        )
    return redirect(url_for("sites.edit", site_id=site_id))


@blueprint.post("/<int:site_id>/remove")
def remove(site_id: int):
    """Remove a site and its routes (documents in the ledgers stay)."""
    rt = runtime()
    with rt.transaction() as session:
        site = session.get(Site, site_id) or abort(404)
        site_setup.remove_site(session, site, actor=actor())
    forget_sites()
    flash(_("The site was removed."), "ok")
    return redirect(url_for("sites.index"))
