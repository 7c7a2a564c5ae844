"""Logging in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import User, utcnow
from ledgerbridge.store.users import authenticate
from ledgerbridge_webui.i18n import LANGUAGES
from ledgerbridge_webui.security import (
    SessionUser,
    end_sessions,
    login_failed,
    login_throttled,
    session_generation,
)

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a failed attempt counts towards the throttle."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")[:150]
    password = request.form.get("password", "")[:1024]
    if login_throttled(username):
        return render_template(
            "login.html",
            next=request.form.get("next", ""),
            error=_("Too many failed attempts. Wait a few minutes and try again."),
        ), 429
    runtime = current_app.extensions["ledgerbridge"]
    with runtime.transaction() as db:
        user = authenticate(db, username, password)
        if user is not None:
            user.last_login_at = utcnow()
            audit(db, f"web:{user.username}", "user.login", f"user:{user.id}")
            person = SessionUser.of(user, session_generation(db, user.id))
    if user is None:
        login_failed(username)
        return render_template(
            "login.html",
            next=request.form.get("next", ""),
            error=_("Wrong user name or password."),
        ), 401
    session.clear()  # a new session id after login: no session fixation
    session.permanent = True
    login_user(person)
    session["language"] = person.language
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout():
    """End the session, and every copy of its cookie."""
    if current_user.is_authenticated:
        runtime = current_app.extensions["ledgerbridge"]
        with runtime.transaction() as db:
            end_sessions(db, current_user.user_id)
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@blueprint.post("/language")
def language():
    """Switch the language (kept in the session and on the user)."""
    chosen = request.form.get("language", "")
    if chosen not in LANGUAGES:
        flash(_("Unknown language."), "error")
        return redirect(url_for("dashboard.index"))
    session["language"] = chosen
    runtime = current_app.extensions["ledgerbridge"]
    with runtime.transaction() as db:
        user = db.get(User, current_user.user_id)
        if user is not None:
            user.language = chosen
    return redirect(_safe_next(request.form.get("next")))
