"""The Flask application factory of the ledgerbridge web process."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ledgerbridge.runtime.runtime import Runtime, current

#: Largest request body accepted (webhook deliveries included); larger ones get 413.
MAX_BODY = 2 * 1024 * 1024

#: URL prefixes answered with JSON errors instead of pages.
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/metrics")


def create_app(runtime: Runtime | None = None, **config: Any) -> Flask:
    """The web app for ``runtime`` (this process's runtime by default)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, JSON_SORT_KEYS=False)
    app.config.update(config)
    runtime = runtime or current()
    app.extensions["ledgerbridge"] = runtime

    from ledgerbridge_webui import (
        account,
        api,
        audit_log,
        auth,
        bulk,
        dashboard,
        health,
        i18n,
        jobs,
        ledgers,
        metrics,
        oauth,
        orders,
        plugins,
        routes,
        security,
        sites,
        views,
        webhooks,
    )

    security.configure(app, runtime)
    app.config.update(config)
    i18n.configure(app)
    views.install_template_helpers(app)
    metrics.configure(app, runtime)
    for module in (
        webhooks,
        health,
        auth,
        account,
        dashboard,
        sites,
        ledgers,
        oauth,
        routes,
        orders,
        bulk,
        plugins,
        audit_log,
        jobs,
        metrics,
        api,
    ):
        app.register_blueprint(module.blueprint)
    security.csrf.exempt(webhooks.blueprint)
    security.csrf.exempt(api.blueprint)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if (
        request.path.startswith(JSON_PREFIXES)
        or request.accept_mimetypes.best == "application/json"
    ):
        response = jsonify({"error": error.name, "message": error.description, "status": status})
        response.status_code = status
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response
    return render_template("error.html", error=error, status=status), status


def runtime_of(app: Flask) -> Runtime:
    """The runtime an app was created for."""
    return app.extensions["ledgerbridge"]
