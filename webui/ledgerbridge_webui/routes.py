"""Routes: which shop books into which ledger, and the mapping editor fed by the ledger's
reference data (accounts, modes of payment, ways of delivery, terms of payment)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ledgerbridge.accounting.accounts import BAS_DEFAULTS
from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.masking import scrub
from ledgerbridge.model.document import DocumentType
from ledgerbridge.setup import routes as route_setup
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.store.models import Ledger, OrderRecord, Route, Site
from ledgerbridge_webui import forms
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import apply_setup, flash_setup_error, runtime

blueprint = Blueprint("routes", __name__, url_prefix="/routes")
TARGET_PREFIX = "target-"
#: Reference data the editor offers (each kind is cached by the connector).
REFERENCE_KINDS = ("accounts", "payment_modes", "ways_of_delivery", "terms_of_payment")
FLAGS = (
    "bookkeep",
    "send_document",
    "register_payment",
    "daily_summary",
    "split_shipping_by_rate",
    "show_discounts",
)
DOCUMENT_TYPES = (DocumentType.INVOICE.value, DocumentType.CASH_SALE.value)
SAMPLE_ORDERS = 500


@blueprint.get("/")
def index():
    """Every route with its site, ledger and main settings."""
    rt = runtime()
    with rt.transaction() as session:
        routes = [
            {
                **route_setup.route_view(route),
                "site_name": route.site.name,
                "ledger_name": route.ledger.name,
                "connector": route.ledger.connector,
            }
            for route in session.scalars(select(Route).order_by(Route.id))
        ]
        sites = [(s.id, s.name) for s in session.scalars(select(Site).order_by(Site.key))]
        ledgers = [(x.id, x.name) for x in session.scalars(select(Ledger).order_by(Ledger.key))]
    return render_template("routes/index.html", routes=routes, sites=sites, ledgers=ledgers)


@blueprint.post("/new")
def new():
    """Route a site to a ledger with the default settings, then open the editor."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            site = session.get(Site, request.form.get("site_id", type=int) or 0)
            ledger = session.get(Ledger, request.form.get("ledger_id", type=int) or 0)
            if site is None or ledger is None:
                raise SetupError(_("Choose a site and a ledger."))
            route = route_setup.add_route(rt, session, site=site, ledger=ledger, actor=actor())
            route_id = route.id
    except SetupError as error:
        flash_setup_error(error)
        return redirect(url_for("routes.index"))
    flash(_("The route was added with the default settings; adjust them below."), "ok")
    return redirect(url_for("routes.edit", route_id=route_id))


def _known_methods(session: Any, site_id: int) -> tuple[list[str], list[str]]:
    """Payment methods and shipping methods/zones seen in the site's recent orders."""
    payments: set[str] = set()
    shipping: set[str] = set()
    rows = session.scalars(
        select(OrderRecord.canonical)
        .where(OrderRecord.site_id == site_id, OrderRecord.canonical.is_not(None))
        .order_by(OrderRecord.id.desc())
        .limit(SAMPLE_ORDERS)
    )
    for canonical in rows:
        method = ((canonical or {}).get("payment") or {}).get("method")
        if method:
            payments.add(str(method))
        for line in (canonical or {}).get("shipping_lines") or []:
            if line.get("method_id"):
                shipping.add(str(line["method_id"]))
            if line.get("zone"):
                shipping.add(f"zone:{line['zone']}")
    return sorted(payments), sorted(shipping)


def _reference(rt: Any, context: Any) -> tuple[dict[str, list], str]:
    data: dict[str, list] = {}
    try:
        target = rt.hooks.target(context)
        for kind in REFERENCE_KINDS:
            data[kind] = [{"code": i.code, "name": i.name} for i in target.reference_data(kind)]
    except LedgerbridgeError as error:
        return data, scrub(str(error))
    return data, ""


def _read_accounting(form: Any) -> dict[str, Any]:
    methods = form.getlist("pm-method")
    types = form.getlist("pm-type")
    accounts = form.getlist("pm-account")
    document_types: dict[str, str] = {}
    payment_accounts: dict[str, str] = {}
    for method, doc_type, account in zip(methods, types, accounts):
        method = method.strip()
        if not method:
            continue
        if doc_type.strip():
            document_types[method] = doc_type.strip()
        if account.strip():
            payment_accounts[method] = account.strip()
    settings: dict[str, Any] = {
        "export_statuses": [
            part.strip() for part in form.get("export_statuses", "").split(",") if part.strip()
        ],
        "default_document_type": form.get("default_document_type", "invoice"),
        "default_payment_account": form.get("default_payment_account", "").strip(),
        "document_types": document_types,
        "payment_accounts": payment_accounts,
        "accounts": forms.read_mapping(form, "accounts"),
        "manual_rates": forms.read_mapping(form, "manual_rates"),
        "shipping_account": form.get("shipping_account", "").strip(),
        "fee_account": form.get("fee_account", "").strip(),
        "zero_total": form.get("zero_total", "skip"),
    }
    settings.update({flag: flag in form for flag in FLAGS})
    return settings


@blueprint.route("/<int:route_id>", methods=["GET", "POST"])
def edit(route_id: int):
    """The mapping editor."""
    rt = runtime()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":

        def change(session) -> bool:
            route = session.get(Route, route_id) or abort(404)
            spec = rt.hooks.connectors.get(route.ledger.connector)
            schema = spec.route_schema if spec else None
            target, _secrets = forms.read_form(schema, request.form, TARGET_PREFIX)
            route_setup.update_route(
                rt,
                session,
                route,
                actor=actor(),
                settings=_read_accounting(request.form),
                target_settings=target,
                enabled="enabled" in request.form,
            )
            return True

        saved, errors = apply_setup(change)
        if saved:
            flash(_("The route was saved."), "ok")
            return redirect(url_for("routes.edit", route_id=route_id))
    with rt.transaction() as session:
        route = session.get(Route, route_id) or abort(404)
        view = route_setup.route_view(route)
        spec = rt.hooks.connectors.get(route.ledger.connector)
        payments, shipping = _known_methods(session, route.site_id)
        ledger_context = rt.ledger_context(route.ledger)
        names = {"site": route.site.name, "ledger": route.ledger.name}
    # Outside the transaction: the connector caches in the database (SQLite has one writer).
    reference, reference_error = _reference(rt, ledger_context)
    settings = view["settings"]
    methods = sorted(
        set(payments)
        | set(settings.get("document_types", {}))
        | set(settings.get("payment_accounts", {}))
    )
    target_errors = errors.get("target", [])
    return render_template(
        "routes/form.html",
        route=view,
        names=names,
        spec=spec,
        settings=settings,
        methods=methods,
        shipping=shipping,
        payments=payments,
        reference=reference,
        reference_error=reference_error,
        errors=errors,
        target_errors=target_errors,
        account_keys=sorted(BAS_DEFAULTS),
        document_types=DOCUMENT_TYPES,
        flags=FLAGS,
        target_fields=forms.form_fields(
            spec.route_schema if spec else None, view["target_settings"], {}, {}
        ),
        target_prefix=TARGET_PREFIX,
    )


@blueprint.post("/<int:route_id>/remove")
def remove(route_id: int):
    """Remove a route and its export history (documents in the ledger stay)."""
    rt = runtime()
    with rt.transaction() as session:
        route = session.get(Route, route_id) or abort(404)
        route_setup.remove_route(session, route, actor=actor())
    flash(_("The route was removed."), "ok")
    return redirect(url_for("routes.index"))
