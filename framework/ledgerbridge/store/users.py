"""Users and API tokens: hashed passwords (werkzeug's scrypt), hashed tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ledgerbridge.store.models import ApiToken, User, utcnow

ROLES = ("admin", "viewer")
MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user cannot be created or changed as asked (the message says why)."""


def create_user(
    session: Session, username: str, password: str, role: str = "viewer", language: str = "sv"
) -> User:
    """A new user with a hashed password. Caller commits."""
    username = username.strip()
    if not username:
        raise UserError("A user name is required.")
    if role not in ROLES:
        raise UserError(f"Role must be one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Passwords must have at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password. Caller commits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Passwords must have at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        # Spend the same time as a real check so user names cannot be probed by timing.
        check_password_hash(generate_password_hash("x" * MIN_PASSWORD_LENGTH), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str) -> str:
    """A new API token for ``user``; the token is returned once and only its hash is kept."""
    token = "lb_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token), last_chars=token[-4:])
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning ``token``, or None."""
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if record is None or not record.user.active:
        return None
    record.last_used_at = utcnow()
    return record.user
