"""The JSON API under ``/api/v1`` (``Authorization: Bearer <token>``): start a bulk sync, read
its progress, list exports, retry one. Described in ``openapi.json`` (served at
``/api/v1/openapi.json``); every error is a JSON body ``{"error", "message", "status"}``.

Reading needs any user's token; changing something needs an admin's.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from ledgerbridge.masking import scrub
from ledgerbridge.pipeline import actions
from ledgerbridge.pipeline import bulk as bulk_sync
from ledgerbridge.store.models import Export, ExportState, Route
from ledgerbridge.store.users import user_for_token
from ledgerbridge_webui.bulk import STATUSES, BulkRequestError, plan_run
from ledgerbridge_webui.security import SessionUser
from ledgerbridge_webui.views import STOCKHOLM, runtime

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
SPEC = Path(__file__).parent / "openapi.json"
MAX_LIMIT = 200


def token_user(header: str) -> SessionUser | None:
    """The active user owning the bearer token in an Authorization header, or None."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    with runtime().transaction() as session:
        user = user_for_token(session, token)
        return SessionUser.of(user) if user is not None else None


def _fail(status: int, message: str, fields_: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {
        "error": _NAMES.get(status, "Error"),
        "message": message,
        "status": status,
    }
    if fields_:
        body["fields"] = fields_
    response = jsonify(body)
    response.status_code = status
    return response


_NAMES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
}


@blueprint.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "api.openapi":
        return None
    user = token_user(request.headers.get("Authorization", ""))
    if user is None:
        response = _fail(401, "Send a valid API token: Authorization: Bearer <token>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="ledgerbridge"'
        return response
    g.api_user = user
    if request.method not in ("GET", "HEAD", "OPTIONS") and not user.is_admin:
        return _fail(403, "This token's user is a viewer; changes need an admin's token.")
    return None


def _actor() -> str:
    return f"api:{g.api_user.username}"


@cache
def _spec_text() -> str:
    return SPEC.read_text(encoding="utf-8")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return current_app.response_class(_spec_text(), content_type="application/json")


def export_json(export: Export) -> dict[str, Any]:
    """An export as the API returns it."""
    return {
        "id": export.id,
        "route": export.route_id,
        "kind": export.kind,
        "source_id": export.source_id,
        "order": export.order_id,
        "reference": export.reference,
        "state": export.state,
        "failure_class": export.failure_class,
        "message": scrub(export.message),
        "attempts": export.attempts,
        "target_id": export.target_id,
        "created_at": export.created_at.isoformat(),
        "updated_at": export.updated_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
    }


class _ExportFilter(Schema):
    class Meta:
        unknown = EXCLUDE  # unknown query parameters are ignored, as most APIs do

    state = fields.String(validate=validate.OneOf([s.value for s in ExportState]))
    route = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**31 - 1))
    ledger = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        return schema.load(data)
    except ValidationError as error:
        abort(_fail(400, "Invalid request.", error.normalized_messages()))


@blueprint.get("/exports")
def list_exports() -> Response:
    """Exports, newest first, filtered by state, route or ledger."""
    args = _load(_ExportFilter(), request.args.to_dict())
    query = select(Export)
    if "state" in args:
        query = query.where(Export.state == args["state"])
    if "route" in args:
        query = query.where(Export.route_id == args["route"])
    if "ledger" in args:
        query = query.where(
            Export.route_id.in_(select(Route.id).where(Route.ledger_id == args["ledger"]))
        )
    with runtime().transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        items = [
            export_json(export)
            for export in session.scalars(
                query.order_by(Export.id.desc()).offset(args["offset"]).limit(args["limit"])
            )
        ]
    return jsonify(
        {"items": items, "total": total, "limit": args["limit"], "offset": args["offset"]}
    )


def _id(value: int) -> int:
    if value < 1 or value > 2**31 - 1:
        abort(_fail(404, "Not found."))
    return value


@blueprint.get("/exports/<int:export_id>")
def get_export(export_id: int) -> Response:
    """One export."""
    with runtime().transaction() as session:
        export = session.get(Export, _id(export_id))
        if export is None:
            return _fail(404, f"No export {export_id}.")
        return jsonify(export_json(export))


@blueprint.post("/exports/<int:export_id>/retry")
def retry_export(export_id: int) -> Response:
    """Try a failed, reviewed or waiting export again now."""
    rt = runtime()
    try:
        actions.retry(rt, _id(export_id), _actor())
    except actions.ActionRefused as refused:
        status = 404 if str(refused).startswith("No export") else 409
        return _fail(status, str(refused))
    with rt.transaction() as session:
        export = session.get(Export, export_id)
        body = export_json(export) if export is not None else {"id": export_id}
    return jsonify(body), 202


def _moment(value: date | datetime | None, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    moment = datetime.combine(value, time.min, tzinfo=STOCKHOLM)
    return moment + timedelta(days=1) if end else moment


class _BulkRequest(Schema):
    routes = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=list,
        validate=validate.Length(max=1000),
    )
    statuses = fields.List(
        fields.String(validate=validate.OneOf(STATUSES)),
        load_default=lambda: ["completed"],
        validate=validate.Length(min=1, max=len(STATUSES)),
    )
    modified_after = fields.Date(load_default=None, allow_none=True)
    modified_before = fields.Date(load_default=None, allow_none=True)
    dry_run = fields.Boolean(load_default=False, truthy={True}, falsy={False})


@blueprint.post("/bulk")
def start_bulk() -> Response:
    """Start a bulk sync (or a dry run); its id and first progress."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _fail(400, "Send a JSON object (Content-Type: application/json).")
    data = _load(_BulkRequest(), body)
    rt = runtime()
    try:
        with rt.transaction() as session:
            params = plan_run(
                session,
                data["routes"],
                data["statuses"],
                _moment(data["modified_after"], end=False),
                _moment(data["modified_before"], end=True),
            )
    except BulkRequestError as error:
        return _fail(error.status, str(error))
    run_id = bulk_sync.start(rt, dry_run=data["dry_run"], actor=_actor(), **params)
    return jsonify(_progress(run_id)), 202


def _progress(run_id: int) -> dict[str, Any]:
    progress = bulk_sync.progress(runtime(), run_id)
    return json.loads(json.dumps(progress, default=str))


@blueprint.get("/bulk/<int:run_id>")
def get_bulk(run_id: int) -> Response:
    """A bulk sync's progress: found, done, failed, needs review, waiting, pending, percent."""
    try:
        return jsonify(_progress(_id(run_id)))
    except LookupError:
        return _fail(404, f"No bulk sync {run_id}.")


@blueprint.post("/bulk/<int:run_id>/cancel")
def cancel_bulk(run_id: int) -> Response:
    """Stop a running bulk sync (orders already queued still finish)."""
    try:
        _progress(_id(run_id))
    except LookupError:
        return _fail(404, f"No bulk sync {run_id}.")
    bulk_sync.cancel(runtime(), run_id, _actor())
    return jsonify(_progress(run_id))


@blueprint.post("/bulk/<int:run_id>/resume")
def resume_bulk(run_id: int) -> Response:
    """Continue a cancelled bulk sync where it stopped."""
    try:
        _progress(_id(run_id))
    except LookupError:
        return _fail(404, f"No bulk sync {run_id}.")
    if not bulk_sync.resume(runtime(), run_id, _actor()):
        return _fail(409, "Only a cancelled bulk sync can be resumed.")
    return jsonify(_progress(run_id)), 202
