"""Contract checking: every request to the sandbox and every answer from it, against the
official Fortnox OpenAPI file packaged with the connector.

openapi-core (not bare jsonschema) does the checking: it matches the path template and method,
validates path and query parameters, picks the media type and applies OpenAPI 3.0 schema rules
(formats such as ``date`` and ``int32``, ``nullable``), which a plain JSON Schema validator would
have to be taught one by one. Three known defects of the published file are corrected in memory
(see ``ledgerbridge_fortnox/spec/README.md``): request bodies declared ``*/*`` are read as JSON,
PDF answers declared ``format: byte`` are checked for status and media type only, and the
article-number path parameter (declared int32, while article numbers are strings) is a string.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.wrappers import Request, Response

#: Header a test sets on a request it sends invalid on purpose (its answer is still checked).
DELIBERATELY_INVALID = "X-Contract-Deliberately-Invalid"


def load_api() -> OpenAPI:
    """The Fortnox OpenAPI file, servers made relative, known defects corrected."""
    source = resources.files("ledgerbridge_fortnox.spec").joinpath("fortnox-api.openapi.json")
    spec = json.loads(source.read_text("utf-8"))
    spec["servers"] = [{"url": "/"}]
    for path in spec["paths"].values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "*/*" in content:
                content["application/json"] = content.pop("*/*")
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] == "ArticleNumber":
                    parameter["schema"] = {"type": "string"}
    return OpenAPI.from_dict(spec)


@dataclass
class Checked:
    """The exchanges checked in one test, and the violations found."""

    exchanges: list[tuple[str, str, int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class ContractRecorder:
    """WSGI middleware factory that validates exchanges with the sandbox."""

    def __init__(self) -> None:
        self.api = load_api()
        self.current = Checked()

    def wrap(self, app: Any) -> Any:
        """``app`` wrapped so every ``/3/`` exchange is validated; starts a new record."""
        self.current = Checked()
        record = self.current

        def middleware(environ: dict[str, Any], start_response: Any) -> Any:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            response = Response.from_app(app, environ, buffered=True)
            if environ.get("PATH_INFO", "").startswith("/3/"):
                # Validate the path as it travelled (``%2F`` still encoded), not as decoded.
                raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
                wire = dict(environ, PATH_INFO=raw.split("?", 1)[0] or environ["PATH_INFO"])
                wire["wsgi.input"] = io.BytesIO(body)
                self._check(record, Request(wire), response)
            return response(environ, start_response)

        return middleware

    def _check(self, record: Checked, request: Request, response: Response) -> None:
        label = f"{request.method} {request.path}"
        record.exchanges.append((request.method, request.path, response.status_code))
        openapi_request = WerkzeugOpenAPIRequest(request)
        deliberate = request.headers.get(DELIBERATELY_INVALID) == "1"
        if response.status_code not in (401, 429) and not deliberate:
            try:
                self.api.validate_request(openapi_request)
            except Exception as exc:
                record.violations.append(f"request {label}: {_explain(exc)}")
        if response.mimetype == "application/pdf":
            if response.status_code != 200 or not response.data.startswith(b"%PDF"):
                record.violations.append(f"response {label}: not a PDF")
            return
        try:
            self.api.validate_response(openapi_request, WerkzeugOpenAPIResponse(response))
        except Exception as exc:
            record.violations.append(
                f"response {label} {response.status_code}: {_explain(exc)} "
                f"{response.get_data(as_text=True)[:300]}"
            )

    def assert_clean(self) -> None:
        """Fail when an exchange of the current test broke the contract."""
        violations = self.current.violations
        assert not violations, "\n".join(violations[:10])


def _explain(exc: Exception) -> str:
    cause = exc.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if details:
        return f"{type(exc).__name__}: " + "; ".join(str(error.message) for error in details)[:500]
    return f"{type(exc).__name__}: {cause or exc}"[:500]
