"""The web process of a production installation (RQ on Redis): the admins' job list read from
RQ's registries, metrics counted in Redis, login throttling shared through Redis, health."""

from __future__ import annotations

import pytest

from ledgerbridge.metrics import sink
from ledgerbridge.runtime.config import load_config
from ledgerbridge.runtime.runtime import Runtime, install
from ledgerbridge.store.users import create_user
from ledgerbridge_webui.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.redis]


@pytest.fixture
def redis_runtime(tmp_path, database_url, redis_url, redis_prefix):
    config = load_config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        queue_mode="redis",
        queue_prefix=redis_prefix,
        secret_key=None,
    )
    runtime = Runtime(config)
    runtime.migrate()
    install(runtime)
    with runtime.transaction() as session:
        create_user(session, "anna", "correct horse battery", role="admin")
    yield runtime
    install(None)
    runtime.close()


def test_jobs_metrics_throttling_and_health_on_redis(redis_runtime, web):
    runtime = redis_runtime
    runtime.queue.enqueue("sweep", job_id="web-test-sweep", queue="maintenance", retry=None)
    sink().api_call("fortnox", 429, 0.2)
    sink().api_call("fortnox", 200, 0.1)
    sink().export_outcome("done", 1.5)
    app = create_app(runtime, TESTING=True, LEDGERBRIDGE_LOGIN_LIMIT="2 per minute")
    admin = app.test_client()
    assert web.login(admin, "anna").status_code == 302

    jobs = admin.get("/admin/jobs").get_data(as_text=True)
    assert "web-test-sweep" in jobs and "sweep" in jobs
    assert 'data-test="depth-maintenance">1<' in jobs

    metrics = admin.get("/metrics").get_data(as_text=True)
    assert 'ledgerbridge_api_429_total{target="fortnox"} 1.0' in metrics
    assert 'ledgerbridge_exports_total{outcome="done"} 1.0' in metrics
    assert 'ledgerbridge_queue_depth{queue="maintenance"} 1.0' in metrics

    # failed logins are counted in Redis: a second web process sees them
    first = app.test_client()
    for _ in range(2):
        assert web.login(first, "anna", "wrong password!").status_code == 401
    other_process = create_app(runtime, TESTING=True, LEDGERBRIDGE_LOGIN_LIMIT="2 per minute")
    assert web.login(other_process.test_client(), "anna").status_code == 429

    health = app.test_client().get("/healthz")
    assert health.status_code == 503  # no worker is running
    assert health.get_json()["checks"]["redis"]["ok"] is True
