"""The sandbox's wire format: envelopes, error bodies, body parsing, field checks, lists.

Errors are answered as Fortnox does: ``ErrorInformation`` with lower-case keys for validation
errors (400) and PascalCase keys for "not found" (404). Field names of request bodies are
checked against the official OpenAPI file (unknown name → 2001399), text values against
Fortnox's character class (→ 2000359).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from flask import Response, request

from ledgerbridge_fortnox.client import encode_json
from ledgerbridge_fortnox.text import invalid_characters

#: Sandbox-only codes: Fortnox publishes no code for these checks; 2001392 ("Ingen eller
#: felaktig typ av data") is used, with a message saying what is wrong.
GENERIC_CODE = 2001392


class FortnoxError(Exception):
    """An error answer: HTTP status, Fortnox code and (Swedish) message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        """The error as Fortnox sends it (key casing depends on the kind of error)."""
        if self.status == 404:
            body = {"ErrorInformation": {"Error": 1, "Message": self.message, "Code": self.code}}
        else:
            body = {"ErrorInformation": {"error": 1, "message": self.message, "code": self.code}}
        return json_response(body, self.status)


def bad(code: int, message: str) -> FortnoxError:
    """A 400 validation error."""
    return FortnoxError(400, code, message)


def not_found(code: int, message: str) -> FortnoxError:
    """A 404."""
    return FortnoxError(404, code, message)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Decimal numbers written exactly."""
    response = Response(encode_json(_strip_none(body)), status=status, mimetype="application/json")
    response.headers["Server"] = "Fortnox"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_strip_none(item) for item in value]
    return value


@lru_cache(maxsize=1)
def spec_schemas() -> dict[str, Any]:
    """The component schemas of the packaged OpenAPI file."""
    source = resources.files("ledgerbridge_fortnox.spec").joinpath("fortnox-api.openapi.json")
    return json.loads(source.read_text("utf-8"))["components"]["schemas"]


def field_names(schema: str) -> frozenset[str]:
    """Property names of a spec schema."""
    return frozenset(spec_schemas()[schema].get("properties", {}))


def parse_body(envelope: str, writable: str, full: str | None = None) -> dict[str, Any]:
    """The object inside ``{envelope: {...}}``, with unknown field names refused.

    ``writable`` is the spec schema of the payload; fields only in ``full`` (read-only ones)
    are tolerated and dropped, as Fortnox does for most of them.
    """
    content_type = request.headers.get("Content-Type", "")
    if request.data and "json" not in content_type:
        raise bad(1000031, "Invalid content type")
    if not request.data:
        raise bad(2001392, "Ingen eller felaktig typ av data.")
    try:
        data = json.loads(request.data, parse_float=Decimal)
    except ValueError:
        raise bad(2002115, "Error deserializing JSON: JSON_ERROR_SYNTAX") from None
    if not isinstance(data, dict) or not isinstance(data.get(envelope), dict):
        raise bad(2001392, "Ingen eller felaktig typ av data.")
    body = dict(data[envelope])
    check_fields(body, writable, full)
    check_text(body)
    return body


def check_fields(body: dict[str, Any], writable: str, full: str | None) -> None:
    """Refuse unknown field names; drop read-only ones."""
    allowed = field_names(writable)
    tolerated = field_names(full) if full else frozenset()
    for key in list(body):
        if key in allowed:
            continue
        if key in tolerated:
            del body[key]
            continue
        raise bad(2001399, f"Felaktigt fältnamn ({key})")


def check_text(value: Any, name: str = "") -> None:
    """Refuse text with characters outside Fortnox's class (emoji, quotes, brackets...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(item, key)
    elif isinstance(value, list):
        for item in value:
            check_text(item, name)
    elif isinstance(value, str) and invalid_characters(value):
        raise bad(2000359, f"Värdet innehåller ej tillåtna tecken. ({value})")


def decimal_of(value: Any, field: str, *, default: Decimal | None = None) -> Decimal:
    """A number field (number or numeric string) as Decimal; 2000108 otherwise."""
    if value is None or value == "":
        if default is not None:
            return default
        raise bad(2000108, f"Värdet måste vara numeriskt ({field})")
    if isinstance(value, bool):
        raise bad(2000108, f"Värdet måste vara numeriskt ({value})")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise bad(2000108, f"Värdet måste vara numeriskt ({value})") from None
    if not number.is_finite():
        raise bad(2000108, f"Värdet måste vara numeriskt ({value})")
    return number


def boolean_of(value: Any, *, default: bool = False) -> bool:
    """A boolean field (true/false or "true"/"false"); 2000134 otherwise."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad(2000134, f"Värdet måste vara en boolean ({value})")


def listing(
    items: Iterable[dict[str, Any]],
    key: str,
    *,
    search: dict[str, str] | None = None,
    filters: dict[str, Callable[[dict[str, Any]], bool]] | None = None,
    date_field: str = "",
    sort: dict[str, str] | None = None,
    modified: Callable[[dict[str, Any]], datetime | None] | None = None,
    subset: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Response:
    """A Fortnox list: substring search, filter, dates, sort, page/limit/offset, MetaInformation."""
    args = request.args
    rows = list(items)
    for param, field in (search or {}).items():
        wanted = args.get(param)
        if wanted:
            rows = [row for row in rows if wanted.lower() in str(row.get(field, "")).lower()]
    name = args.get("filter")
    if name:
        predicate = (filters or {}).get(name)
        if predicate is None:
            raise bad(2000587, "Ett ogiltigt filter har använts.")
        rows = [row for row in rows if predicate(row)]
    if date_field:
        if args.get("fromdate"):
            rows = [row for row in rows if str(row.get(date_field, "")) >= args["fromdate"]]
        if args.get("todate"):
            rows = [row for row in rows if str(row.get(date_field, "")) <= args["todate"]]
    if args.get("lastmodified") and modified is not None:
        since = _parse_lastmodified(args["lastmodified"])
        rows = [row for row in rows if (modified(row) or datetime.min.replace(tzinfo=UTC)) >= since]
    sort_by = args.get("sortby")
    if sort_by:
        field = (sort or {}).get(sort_by)
        if field is None:
            raise bad(2000588, "Ogiltig parameter i anropet.")
        rows.sort(key=lambda row: _sort_key(row.get(field)))
        if args.get("sortorder", "ascending") == "descending":
            rows.reverse()
    limit = min(max(_int_arg("limit", 100), 1), 500)
    offset = max(_int_arg("offset", 0), 0)
    page = max(_int_arg("page", 1), 1)
    rows = rows[offset:]
    total = len(rows)
    pages = math.ceil(total / limit) if total else 0
    chunk = rows[(page - 1) * limit : page * limit]
    return json_response(
        {
            "MetaInformation": {
                "@TotalResources": total,
                "@TotalPages": pages,
                "@CurrentPage": page,
            },
            key: [subset(row) if subset else row for row in chunk],
        }
    )


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise bad(2000588, "Ogiltig parameter i anropet.") from None


def _sort_key(value: Any) -> tuple[int, Any]:
    text = "" if value is None else str(value)
    if text.lstrip("-").isdigit():
        return (0, int(text))
    return (1, text.lower())


def _parse_lastmodified(value: str) -> datetime:
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, layout).astimezone()
        except ValueError:
            continue
    raise bad(2000588, "Ogiltig parameter i anropet.")
