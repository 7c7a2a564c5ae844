"""``ledgerbridge users``: people who may log in, and their API tokens."""

from __future__ import annotations

import click

from ledgerbridge.cli import main
from ledgerbridge.cli.common import ACTOR, emit, runtime, table
from ledgerbridge.store.audit import audit
from ledgerbridge.store.models import User
from ledgerbridge.store.users import ROLES, UserError, create_user, issue_token


@main.group("users")
def users_group() -> None:
    """Users of the web UI and the JSON API."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given (use the prompt: it stays out of shell history).",
)
@click.option(
    "--token",
    "token_name",
    default=None,
    help="Also issue an API token with this name (printed once).",
)
@click.option("--json", "as_json", is_flag=True)
def users_create(username, role, language, password, token_name, as_json) -> None:
    """Create a user (admin may change settings; viewer may only look)."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            user = create_user(session, username, password, role, language)
            token = issue_token(session, user, token_name) if token_name else None
            audit(session, ACTOR, "user.created", f"user:{user.id}", username=username, role=role)
            view = {"id": user.id, "username": user.username, "role": user.role}
    except UserError as error:
        raise click.ClickException(str(error)) from error
    if token:
        view["token"] = token
    emit(
        view,
        as_json,
        f"Created {role} {username}." + (f"\nAPI token (shown once): {token}" if token else ""),
    )


@users_group.command("token")
@click.argument("username")
@click.argument("name")
def users_token(username, name) -> None:
    """Issue an API token for USERNAME (printed once; only its hash is stored)."""
    rt = runtime()
    with rt.transaction() as session:
        user = session.query(User).filter_by(username=username).one_or_none()
        if user is None:
            raise click.ClickException(f"No user {username!r}.")
        token = issue_token(session, user, name)
        audit(session, ACTOR, "token.issued", f"user:{user.id}", name=name)
    click.echo(token)


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json) -> None:
    """List users."""
    rt = runtime()
    with rt.transaction() as session:
        views = [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "active": u.active,
                "language": u.language,
            }
            for u in session.query(User).order_by(User.username)
        ]
    emit(
        views,
        as_json,
        lambda: table(
            [["USER", "ROLE", "ACTIVE", "LANGUAGE"]]
            + [[v["username"], v["role"], str(v["active"]), v["language"]] for v in views]
        ),
    )
