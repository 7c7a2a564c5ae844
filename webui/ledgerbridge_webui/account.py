"""The user's own account: API tokens (issued once, only their last characters shown)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import ApiToken, User
from ledgerbridge.store.users import issue_token
from ledgerbridge_webui.security import actor
from ledgerbridge_webui.views import runtime

blueprint = Blueprint("account", __name__, url_prefix="/account")


@blueprint.get("/")
def index():
    """The user's API tokens."""
    with runtime().transaction() as session:
        tokens = [
            {
                "id": token.id,
                "name": token.name,
                "last_chars": token.last_chars,
                "created_at": token.created_at,
                "last_used_at": token.last_used_at,
            }
            for token in session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == current_user.user_id)
                .order_by(ApiToken.id)
            )
        ]
    return render_template("account.html", tokens=tokens)


@blueprint.post("/tokens")
def create_token():
    """Issue a token for the JSON API; it is shown once, on the page that follows."""
    name = request.form.get("name", "").strip()[:100]
    if not name:
        flash(_("Give the token a name."), "error")
        return redirect(url_for("account.index"))
    with runtime().transaction() as session:
        user = session.get(User, current_user.user_id) or abort(404)
        token = issue_token(session, user, name)
        audit(session, actor(), "token.issued", f"user:{user.id}", name=name)
    return render_template("account_token.html", name=name, token=token)


@blueprint.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of the user's own tokens."""
    with runtime().transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != current_user.user_id:
            abort(404)
        audit(session, actor(), "token.revoked", f"user:{token.user_id}", name=token.name)
        session.delete(token)
    flash(_("The token was revoked."), "ok")
    return redirect(url_for("account.index"))
