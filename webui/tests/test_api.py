"""The JSON API: token authentication, roles, the OpenAPI description (valid, and every answer
conforms to it), bulk sync, exports and retry, and clean JSON errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from ledgerbridge.store.models import Export, ExportState

pytestmark = pytest.mark.db
SPEC = Path(__file__).resolve().parents[1] / "ledgerbridge_webui" / "openapi.json"


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    data = json.loads(SPEC.read_text())
    validate(data)
    data["servers"] = [{"url": "http://localhost/api/v1"}]
    return OpenAPI.from_dict(data)


class Api:
    """A client that checks every answer against the OpenAPI description."""

    def __init__(self, app, spec: OpenAPI, token: str | None) -> None:
        self.client = app.test_client()
        self.spec = spec
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs):
        response = self.client.open(f"/api/v1{path}", method=method, headers=self.headers, **kwargs)
        assert response.content_type.startswith("application/json"), (path, response.content_type)
        # The request again, unread (the app consumed the first one's body).
        request = EnvironBuilder(
            path=f"/api/v1{path}", method=method, headers=self.headers, **kwargs
        ).get_request()
        self.spec.validate_response(
            WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )
        return response


@pytest.fixture
def api(app, spec, users) -> Api:
    return Api(app, spec, users.admin_token)


def test_the_description_is_valid_and_served(app, spec):
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json()["openapi"].startswith("3.")


def test_a_token_is_required(app, spec, users):
    for token in (None, "lb_not-a-real-token"):
        answer = Api(app, spec, token).call("GET", "/exports")
        assert answer.status_code == 401
        assert answer.get_json()["status"] == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    # a session cookie is not enough for the API
    assert Api(app, spec, None).call("POST", "/bulk", json={}).status_code == 401


def test_a_viewer_token_reads_but_cannot_change(app, spec, users):
    viewer = Api(app, spec, users.viewer_token)
    assert viewer.call("GET", "/exports").status_code == 200
    assert viewer.call("POST", "/bulk", json={"dry_run": True}).status_code == 403
    assert viewer.call("POST", "/exports/1/retry").status_code == 403


def test_bulk_sync_runs_to_completion_through_the_api(api, runtime, installation):
    dry = api.call("POST", "/bulk", json={"dry_run": True, "statuses": ["completed"]})
    assert dry.status_code == 202
    assert runtime.queue.wait_idle(120)
    preview = api.call("GET", f"/bulk/{dry.get_json()['id']}").get_json()
    assert preview["state"] == "done" and preview["percent"] == 100
    assert sum(preview["summary"]["would_become"].values()) >= preview["found"] > 0
    started = api.call("POST", "/bulk", json={"routes": [installation.route_ids[1]]})
    assert started.status_code == 202
    run_id = started.get_json()["id"]
    assert runtime.queue.wait_idle(180)
    progress = api.call("GET", f"/bulk/{run_id}").get_json()
    assert progress["state"] == "done" and progress["percent"] == 100
    assert progress["done"] + progress["failed"] + progress["needs_review"] == progress["queued"]
    assert progress["done"] > 0
    # a finished run cannot be resumed; cancelling it changes nothing
    assert api.call("POST", f"/bulk/{run_id}/resume").status_code == 409
    assert api.call("POST", f"/bulk/{run_id}/cancel").get_json()["state"] == "done"
    assert api.call("GET", "/bulk/999999").status_code == 404


def test_exports_are_listed_filtered_and_retried(api, runtime, synced):
    page = api.call("GET", "/exports?limit=5").get_json()
    assert page["total"] >= 10 and len(page["items"]) == 5
    done = api.call("GET", "/exports?state=done&limit=200").get_json()["items"]
    assert done and all(item["state"] == "done" for item in done)
    with runtime.transaction() as session:
        review = session.scalars(
            select(Export.id).where(Export.state == ExportState.NEEDS_REVIEW)
        ).first()
    # a done export cannot be retried; one that needs review can
    assert api.call("POST", f"/exports/{done[0]['id']}/retry").status_code == 409
    assert review is not None
    retried = api.call("POST", f"/exports/{review}/retry")
    assert retried.status_code == 202
    assert retried.get_json()["state"] in ("pending", "running", "needs_review")
    assert runtime.queue.wait_idle(60)
    again = api.call("GET", f"/exports/{review}").get_json()
    assert again["attempts"] >= 2
    assert api.call("GET", "/exports/999999").status_code == 404
    assert api.call("POST", "/exports/999999/retry").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/exports?state=lost", None),
        ("GET", "/exports?limit=0", None),
        ("GET", "/exports?route=abc", None),
        ("POST", "/bulk", {"statuses": ["shipped"]}),
        ("POST", "/bulk", {"routes": ["one"]}),
        ("POST", "/bulk", {"dry_run": "yes"}),
        ("POST", "/bulk", {"modified_after": "yesterday"}),
        ("POST", "/bulk", []),
    ],
)
def test_bad_input_is_a_clean_400(api, method, path, body):
    answer = api.call(method, path, json=body)
    assert answer.status_code == 400
    assert answer.get_json()["message"]


def test_errors_outside_the_description_are_json_too(app, users):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {users.admin_token}"}
    for method, path, status in (
        ("GET", "/api/v1/nothing-here", 404),
        ("DELETE", "/api/v1/exports", 405),
        ("POST", "/api/v1/bulk", 400),  # no JSON body
    ):
        answer = client.open(path, method=method, headers=headers, data="x")
        assert answer.status_code == status, path
        assert answer.get_json()["status"] == status


def test_bulk_requests_that_cannot_start_say_why(api, runtime, installation):
    assert api.call("POST", "/bulk", json={"routes": [999]}).status_code == 404
    reversed_days = {"modified_after": "2026-05-02", "modified_before": "2026-05-01"}
    assert api.call("POST", "/bulk", json=reversed_days).status_code == 422


def test_no_enabled_route_is_a_conflict(api, runtime):
    assert api.call("POST", "/bulk", json={}).status_code == 409
