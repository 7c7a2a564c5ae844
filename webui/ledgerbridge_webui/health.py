"""``/healthz``: is the database, Redis and at least one worker there?"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

blueprint = Blueprint("health", __name__)


def checks() -> dict[str, dict[str, object]]:
    """Each dependency's health: ``ok`` and a short detail."""
    runtime = current_app.extensions["ledgerbridge"]
    result: dict[str, dict[str, object]] = {}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result["database"] = {"ok": True, "detail": runtime.engine.dialect.name}
    except Exception as error:  # report, never raise: this is the health page
        result["database"] = {"ok": False, "detail": type(error).__name__}
    if runtime.redis is None:
        result["queue"] = {"ok": True, "detail": "embedded"}
        result["workers"] = {"ok": True, "detail": "in-process"}
        return result
    try:
        runtime.redis.ping()
        result["redis"] = {"ok": True, "detail": "ping"}
    except Exception as error:
        result["redis"] = {"ok": False, "detail": type(error).__name__}
        result["workers"] = {"ok": False, "detail": "unknown (Redis unreachable)"}
        return result
    from rq.worker import Worker

    workers = Worker.all(connection=runtime.redis)
    prefix = f"{runtime.config.queue_prefix}-"
    ours = [w for w in workers if any(name.startswith(prefix) for name in w.queue_names())]
    result["workers"] = {"ok": bool(ours), "detail": f"{len(ours)} running"}
    return result


@blueprint.get("/healthz")
def healthz():
    """200 when everything answers, 503 otherwise, with the details as JSON."""
    result = checks()
    healthy = all(check["ok"] for check in result.values())
    return jsonify({"ok": healthy, "checks": result}), (200 if healthy else 503)
