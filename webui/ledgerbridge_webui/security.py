"""Who may do what: sessions (Flask-Login), roles, CSRF (Flask-WTF), login throttling
(Flask-Limiter), API tokens, and the cookie and header hardening of every response.

Access is denied by default: every endpoint needs a logged-in user unless it is listed in
:data:`PUBLIC_ENDPOINTS` (or is token-authenticated: the JSON API); every request that may
change something needs the admin role unless it is listed in :data:`SELF_SERVICE_ENDPOINTS`
(a user's own session, language and API tokens).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from limits import parse
from sqlalchemy.orm import Session

from ledgerbridge.runtime.runtime import Runtime
from ledgerbridge.store.crypto import load_or_create_key_file
from ledgerbridge.store.models import KeyValue, User, utcnow
from ledgerbridge.store.upsert import upsert

#: Endpoints anyone may reach (the webhook endpoint verifies its own signatures; the API and
#: /metrics check their own tokens).
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "auth.login",
        "health.healthz",
        "webhooks.receive",
        "metrics.metrics",
        "api.openapi",
    }
)
#: State-changing endpoints a viewer may use: they touch only the user's own session.
SELF_SERVICE_ENDPOINTS = frozenset(
    {"auth.login", "auth.logout", "auth.language", "account.create_token", "account.revoke_token"}
)
#: Blueprints authenticated by API token instead of a session (and exempt from CSRF).
TOKEN_BLUEPRINTS = frozenset({"api"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Failed logins allowed per client address and per user name.
LOGIN_LIMIT = "10 per 5 minutes"
#: Minutes of inactivity after which a session ends.
SESSION_MINUTES = 60

csrf = CSRFProtect()


@dataclass(frozen=True)
class SessionUser(UserMixin):
    """The logged-in user as the web process sees it (plain values, no database session)."""

    user_id: int
    username: str
    role: str
    language: str
    active: bool = True
    #: The user's session generation at login (see :func:`end_sessions`).
    generation: int = 0

    def get_id(self) -> str:
        return f"{self.user_id}.{self.generation}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def is_admin(self) -> bool:
        """True for admins (they may change settings)."""
        return self.role == "admin"

    @classmethod
    def of(cls, user: User, generation: int = 0) -> SessionUser:
        """The session view of a stored user."""
        return cls(user.id, user.username, user.role, user.language, user.active, generation)


def _generation_key(user_id: int) -> tuple[str, str]:
    return (f"user:{user_id}", "session_generation")


def session_generation(db: Session, user_id: int) -> int:
    """The user's current session generation: sessions of an older one are over."""
    row = db.get(KeyValue, _generation_key(user_id))
    return int((row.value or {}).get("v", 0)) if row is not None else 0


def end_sessions(db: Session, user_id: int) -> None:
    """End every session of a user, including copies of its cookie (session cookies are
    signed, not stored: without this a cookie copied before logout would stay valid until
    it expires)."""
    scope, key = _generation_key(user_id)
    value = {"v": session_generation(db, user_id) + 1}
    upsert(
        db,
        KeyValue,
        {"scope": scope, "key": key, "value": value, "updated_at": utcnow()},
        ["scope", "key"],
        {"value": value, "updated_at": utcnow()},
    )


def flask_secret_key(runtime: Runtime) -> bytes:
    """The session-signing key, derived from the installation's secret key material.

    Derived with HKDF under its own label, so the key that signs cookies is never the key that
    encrypts stored secrets, and all web processes of one installation agree on it.
    """
    material = runtime.config.secret_key or load_or_create_key_file(runtime.config.instance_path)
    first = next(part.strip() for part in material.split(",") if part.strip())
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ledgerbridge-web", info=b"flask-session"
    ).derive(first.encode())


def configure(app: Flask, runtime: Runtime) -> None:
    """Install sessions, CSRF, throttling and the access rules on ``app``.

    Settings given to :func:`~ledgerbridge_webui.app.create_app` are applied again afterwards,
    so tests may override any of them.
    """
    https = runtime.config.public_url.startswith("https://")
    minutes = app.config.get("LEDGERBRIDGE_SESSION_MINUTES", SESSION_MINUTES)
    app.config.update(
        SECRET_KEY=flask_secret_key(runtime),
        SESSION_COOKIE_NAME="ledgerbridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which times out itself
        WTF_CSRF_SSL_STRICT=https,
        LEDGERBRIDGE_LOGIN_LIMIT=app.config.get("LEDGERBRIDGE_LOGIN_LIMIT", LOGIN_LIMIT),
    )

    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)

    csrf.init_app(app)
    app.extensions["ledgerbridge_limiter"] = _limiter(app, runtime)
    # Keys given straight to the rate limiter carry the installation's prefix themselves.
    app.extensions["ledgerbridge_limiter_prefix"] = (
        f"{runtime.config.queue_prefix}:login" if runtime.redis is not None else "login"
    )
    app.before_request(_access_rules)
    app.after_request(_hardening)


def _limiter(app: Flask, runtime: Runtime) -> Limiter:
    if runtime.redis is None:
        storage, prefix = "memory://", "lb"
    else:
        storage, prefix = runtime.config.redis_url, f"{runtime.config.queue_prefix}:limiter"
    return Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI", storage),
        key_prefix=prefix,
        default_limits=[],
        headers_enabled=False,
    )


def _login_keys(username: str) -> list[str]:
    prefix = current_app.extensions["ledgerbridge_limiter_prefix"]
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"{prefix}:ip:{get_remote_address()}", f"{prefix}:user:{digest}"]


def login_throttled(username: str) -> bool:
    """Whether this client or this user name has used up its failed logins."""
    limiter: Limiter = current_app.extensions["ledgerbridge_limiter"]
    limit = parse(current_app.config["LEDGERBRIDGE_LOGIN_LIMIT"])
    return not all(limiter.limiter.test(limit, key) for key in _login_keys(username))


def login_failed(username: str) -> None:
    """Count a failed login for this client and this user name."""
    limiter: Limiter = current_app.extensions["ledgerbridge_limiter"]
    limit = parse(current_app.config["LEDGERBRIDGE_LOGIN_LIMIT"])
    for key in _login_keys(username):
        limiter.limiter.hit(limit, key)


def _load_user(session_id: str) -> SessionUser | None:
    user_id, _, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    runtime = current_app.extensions["ledgerbridge"]
    with runtime.transaction() as session:
        user = session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        if session_generation(session, user.id) != int(generation):
            return None  # logged out since: the cookie is a leftover or a copy
        return SessionUser.of(user, int(generation))


def _unauthorized() -> Any:
    if request.method in SAFE_METHODS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401)


def _access_rules() -> Any:
    endpoint = request.endpoint or ""
    if request.blueprint in TOKEN_BLUEPRINTS or endpoint in PUBLIC_ENDPOINTS:
        return None
    if not endpoint:
        return None  # unknown URL: the 404 handler answers
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    changes = request.method not in SAFE_METHODS and endpoint not in SELF_SERVICE_ENDPOINTS
    if changes and not current_user.is_admin:
        abort(403)
    return None


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages only admins may see (even to read), e.g. the queue's job list."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def actor() -> str:
    """How the audit trail names whoever makes this request."""
    user = getattr(g, "api_user", None) or current_user
    prefix = "api" if getattr(g, "api_user", None) else "web"
    return f"{prefix}:{user.username}" if user and user.is_authenticated else "web:anonymous"


def _hardening(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self' http: https:",
    )
    if request.blueprint not in ("webhooks",) and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
