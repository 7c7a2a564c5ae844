"""Connecting a ledger through its provider's OAuth2 redirect (Fortnox, public Bokio apps).

The ``state`` sent to the provider is signed (itsdangerous) and names the ledger and a nonce
kept in the user's session, so a callback is accepted only in the browser session that
started it, for the ledger it started for, within ten minutes. The redirect URI is
``<LEDGERBRIDGE_PUBLIC_URL>/oauth/callback`` (register it in the provider's developer portal).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ledgerbridge.errors import LedgerbridgeError
from ledgerbridge.masking import scrub
from ledgerbridge.pipeline import actions
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import Ledger
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import runtime

blueprint = Blueprint("oauth", __name__)
STATE_SECONDS = 600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ledgerbridge-oauth")


def redirect_uri() -> str:
    """Where providers send the user back (must be registered with the provider)."""
    return f"{runtime().config.public_url}/oauth/callback"


def sign_state(ledger_id: int, nonce: str) -> str:
    """The ``state`` for an authorization of ``ledger_id`` in the session holding ``nonce``."""
    return _serializer().dumps({"ledger": ledger_id, "nonce": nonce})


def read_state(state: str) -> dict:
    """The content of a ``state`` we signed; BadSignature when forged, altered or expired."""
    data = _serializer().loads(state, max_age=STATE_SECONDS)
    if not isinstance(data, dict) or not isinstance(data.get("ledger"), int):
        raise BadSignature("malformed state")
    return data


@blueprint.post("/ledgers/<int:ledger_id>/connect")
def connect(ledger_id: int):
    """Send the user to the provider's consent page."""
    rt = runtime()
    with rt.transaction() as db:
        ledger = db.get(Ledger, ledger_id) or abort(404)
        context = rt.ledger_context(ledger)
    nonce = secrets.token_urlsafe(16)
    session["oauth_nonce"] = nonce
    try:
        url = rt.hooks.target(context).authorize_url(redirect_uri(), sign_state(ledger_id, nonce))
    except LedgerbridgeError as error:
        flash(
            _("Could not start the authorization: %(message)s", message=scrub(str(error))), "error"
        )
        return redirect(url_for("ledgers.edit", ledger_id=ledger_id))
    if not url:
        flash(
            _("This ledger connects with the settings above; no authorization is needed."), "info"
        )
        return redirect(url_for("ledgers.edit", ledger_id=ledger_id))
    return redirect(url, code=303)


@blueprint.get("/oauth/callback")
def callback():
    """Finish the authorization the provider sent the user back from."""
    if not current_user.is_admin:
        abort(403)
    try:
        data = read_state(request.args.get("state", ""))
    except BadSignature:
        abort(400, description=_("The authorization answer is invalid or expired; start again."))
    nonce = session.pop("oauth_nonce", None)
    if not nonce or not secrets.compare_digest(str(nonce), str(data.get("nonce", ""))):
        abort(400, description=_("The authorization was started in another session; start again."))
    ledger_id = data["ledger"]
    rt = runtime()
    with rt.transaction() as db:
        ledger = db.get(Ledger, ledger_id) or abort(404)
        context = rt.ledger_context(ledger)
    params = {key: value for key, value in request.args.items() if key != "state"}
    try:
        status = rt.hooks.target(context).finish_authorization(redirect_uri(), params)
        ok, message = status.ok, status.message
    except LedgerbridgeError as error:
        ok, message = False, str(error)
    with rt.transaction() as db:
        audit(db, actor(), "ledger.authorized", f"ledger:{ledger_id}", ok=ok)
    if ok:
        retried = actions.ledger_reconnected(rt, ledger_id, actor())
        flash(
            _(
                "Connected: %(message)s (%(count)d failed exports retried)",
                message=scrub(message),
                count=len(retried),
            ),
            "ok",
        )
    else:
        flash(_("The authorization failed: %(message)s", message=scrub(message)), "error")
    return redirect(url_for("ledgers.edit", ledger_id=ledger_id))
