"""The JSON API under generated input: schemathesis, from the served OpenAPI description,
against the app served over real HTTP, as an admin, a viewer and nobody.

For every generated request: never a 5xx, an answer that conforms to the description, and —
unless an admin's request was accepted (2xx) — nothing changed: no row in any table, no sync
request, no queued job. A viewer's and an anonymous request never change anything.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from ledgerbridge.store.models import Export, ExportState, Ledger, OrderRecord, Route
from ledgerbridge.testing.servers import serve_wsgi
from tests.security.conftest import examples

pytestmark = [pytest.mark.db, pytest.mark.redis]
#: Generated requests per operation and caller in a full run.
PER_OPERATION = 220


def _populate(installation) -> None:
    """A ledger, a route and exports in the states the API acts on, so ids exist."""
    with installation.runtime.transaction() as session:
        ledger = Ledger(key="fortnox", name="Fortnox AB", connector="fortnox", plan="pro")
        session.add(ledger)
        session.flush()
        route = Route(site_id=installation.shops["webshop"].id, ledger_id=ledger.id)
        session.add(route)
        session.flush()
        for number, state in enumerate(
            (ExportState.FAILED, ExportState.DONE, ExportState.NEEDS_REVIEW), start=1
        ):
            order = OrderRecord(site_id=route.site_id, source_id=str(1000 + number))
            session.add(order)
            session.flush()
            session.add(
                Export(
                    route_id=route.id,
                    kind="order",
                    source_id=order.source_id,
                    order_id=order.id,
                    reference=f"WS-{order.source_id}",
                    state=state,
                    message="Fortnox: the customer's VAT number is not valid",
                    failure_class="data" if state == ExportState.NEEDS_REVIEW else "config",
                )
            )


@pytest.mark.parametrize("caller", ["admin", "viewer", "anonymous"])
def test_generated_requests_get_clean_answers_and_change_nothing_unless_allowed(
    app, installation, caller
):
    _populate(installation)
    token = {"admin": installation.admin_token, "viewer": installation.viewer_token}.get(caller)
    per_operation = examples(PER_OPERATION) if caller == "admin" else examples(PER_OPERATION // 2)
    statuses: dict[int, int] = {}
    with serve_wsgi(app) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 7
        for operation in operations:

            @settings(
                max_examples=per_operation,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def call(case):
                headers = dict(case.headers or {})
                headers.pop("Authorization", None)
                if token is not None:
                    headers["Authorization"] = f"Bearer {token}"
                case.headers = headers
                before = installation.snapshot()
                response = case.call(base_url=f"{server.url}/api/v1")
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, (case.operation.label, response.text[:300])
                if caller == "anonymous" and case.operation.path != "/openapi.json":
                    assert response.status_code == 401, case.operation.label
                if caller == "viewer" and case.method == "POST":
                    assert response.status_code in (400, 403, 404, 422), response.text[:200]
                changed = installation.snapshot() != before
                if changed:
                    assert caller == "admin" and response.status_code < 300, (
                        case.operation.label,
                        response.status_code,
                    )
                case.validate_response(response, excluded_checks=[positive_data_acceptance])

            call()
    assert sum(statuses.values()) >= per_operation
