"""OAuth2 against the sandbox: code flow, single-use refresh under a shared lock, service
accounts, reconnect; the shared rate limiter across threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fortnox_ledgers import REDIRECT_URI, connect
from fortnox_workers import FileSecrets, process_worker

from ledgerbridge.contexts import memory_ledger
from ledgerbridge.errors import ConfigError, ReconnectNeeded
from ledgerbridge.services import MemorySecrets, MemoryServices
from ledgerbridge_fortnox.client import FortnoxClient
from ledgerbridge_fortnox.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from ledgerbridge_fortnox.settings import SCOPES
from ledgerbridge_fortnox.target import FortnoxTarget

TARGET = FortnoxTarget()


def test_authorize_url_asks_for_every_scope_offline(sandbox, ledger):
    url = TARGET.ledgerbridge_target_authorize_url(
        ledger=ledger, redirect_uri=REDIRECT_URI, state="s1.sig"
    )
    query = parse_qs(urlparse(url).query)
    assert query["access_type"] == ["offline"] and query["state"] == ["s1.sig"]
    assert query["response_type"] == ["code"] and query["client_id"] == [DEFAULT_CLIENT_ID]
    assert set(query["scope"][0].split()) == set(SCOPES)
    assert "account_type" not in query


def test_code_flow_stores_tokens_and_tenant(sandbox, ledger):
    secrets = ledger.secrets
    assert secrets.get("access_token") and secrets.get("refresh_token")
    assert float(secrets.get("access_token_expires_at")) > time.time() + 3000
    assert secrets.get("tenant_id") == "1000001"
    status = TARGET.ledgerbridge_target_check_connection(ledger=ledger)
    assert status.ok and "Sandlådan 1 AB" in status.message


def test_a_code_works_once(sandbox, ledger):
    url = TARGET.ledgerbridge_target_authorize_url(
        ledger=ledger, redirect_uri=REDIRECT_URI, state="x"
    )
    code = parse_qs(urlparse(httpx.get(url).headers["location"]).query)["code"][0]
    params = {"code": code, "state": "x"}
    TARGET.ledgerbridge_target_finish_authorization(
        ledger=ledger, redirect_uri=REDIRECT_URI, params=params
    )
    with pytest.raises(ReconnectNeeded):
        TARGET.ledgerbridge_target_finish_authorization(
            ledger=ledger, redirect_uri=REDIRECT_URI, params=params
        )


def test_refusal_and_bad_client_are_config_errors(sandbox, ledger):
    with pytest.raises(ConfigError, match="did not authorize"):
        TARGET.ledgerbridge_target_finish_authorization(
            ledger=ledger, redirect_uri=REDIRECT_URI, params={"error": "access_denied"}
        )
    bad = memory_ledger(
        id=9, connector="fortnox", settings={**ledger.settings, "client_secret": "wrong-secret"}
    )
    with pytest.raises(ConfigError, match="invalid_client"):
        TARGET.ledgerbridge_target_finish_authorization(
            ledger=bad, redirect_uri=REDIRECT_URI, params={"code": "c"}
        )


def test_expired_access_token_is_refreshed_and_rotated(sandbox, ledger):
    old_refresh = ledger.secrets.get("refresh_token")
    httpx.post(f"{sandbox.url}/_sandbox/tokens/expire")
    ledger.secrets.update(
        {"access_token_expires_at": str(time.time() + 3600)}
    )  # we still believe it
    with FortnoxClient(ledger) as client:
        assert client.get("companyinformation", what="test")["CompanyInformation"]
    assert ledger.secrets.get("refresh_token") != old_refresh
    assert sandbox.state.stats.token_refreshes == 1


def test_concurrent_workers_refresh_once(sandbox):
    services = MemoryServices()
    secrets = MemorySecrets()
    ledger = connect(sandbox, services=services, secrets=secrets)
    ledger.secrets.update({"access_token_expires_at": "0"})
    errors: list[str] = []

    def work() -> None:
        try:
            with FortnoxClient(ledger) as client:
                client.get("companyinformation", what="test")
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.state.stats.token_refreshes == 1
    assert sandbox.state.stats.refresh_rejected == 0


def test_dead_refresh_token_means_reconnect(sandbox, ledger):
    ledger.secrets.update({"access_token_expires_at": "0", "refresh_token": "used-or-revoked"})
    with (
        pytest.raises(ReconnectNeeded, match="Connect to Fortnox"),
        FortnoxClient(ledger) as client,
    ):
        client.get("companyinformation", what="test")
    status = TARGET.ledgerbridge_target_check_connection(ledger=ledger)
    assert not status.ok and status.details["reconnect"] == "yes"


def test_service_account_uses_client_credentials_with_tenant(sandbox):
    ledger = connect(sandbox, auth_mode="service")
    url = TARGET.ledgerbridge_target_authorize_url(
        ledger=ledger, redirect_uri=REDIRECT_URI, state="s"
    )
    assert "account_type=service" in url
    ledger.secrets.update({"access_token_expires_at": "0"})
    with FortnoxClient(ledger) as client:
        assert (
            client.get("companyinformation", what="t")["CompanyInformation"]["DatabaseNumber"]
            == 1000001
        )
    assert sandbox.state.stats.client_credentials == 1


def test_service_account_without_consent_is_refused(sandbox):
    ledger = memory_ledger(
        id=3,
        connector="fortnox",
        settings={
            "auth_mode": "service",
            "tenant_id": "1000002",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "api_base_url": sandbox.url,
            "auth_base_url": f"{sandbox.url}/oauth-v1",
        },
    )
    with pytest.raises(ReconnectNeeded), FortnoxClient(ledger) as client:
        client.get("companyinformation", what="t")


def _limit_sandbox(sandbox, limit: int) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"rate_limit": limit, "rate_window": 5.0})


def test_sandbox_answers_429_past_the_window(sandbox):
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"rate_limit": 25, "rate_window": 60.0})
    fresh = connect(sandbox, ledger_id=5)  # its connection check is the token's first request
    token = fresh.secrets.get("access_token")
    statuses = [
        httpx.get(
            f"{sandbox.url}/3/companyinformation", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        for _ in range(25)
    ]
    assert statuses[:24] == [200] * 24 and statuses[24] == 429


def test_threads_sharing_the_limiter_never_see_429(sandbox):
    # The client's limit is exactly the sandbox's 14 per 5 s, with no spare request, and the
    # requests reach the sandbox 0-300 ms late, each differently (as over a network, or on a
    # loaded test machine): counting each request from its answer leaves nothing to chance.
    # Without a shared limiter the 17 requests (the connection check and 16) would exceed 14.
    _limit_sandbox(sandbox, 14)
    ledger = connect(sandbox, rate_limit_margin=11)
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"latency_jitter_ms": 300})
    errors: list[str] = []

    def work() -> None:
        with FortnoxClient(ledger) as client:
            for _ in range(4):
                try:
                    client.get("companyinformation", what="t")
                except Exception as exc:
                    errors.append(repr(exc))

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.state.stats.rate_limited == 0
    assert time.monotonic() - started >= 5.0  # 16 requests at 14 per 5 s had to wait


@pytest.mark.parametrize("shared", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_counting_answers_keeps_a_jittery_network_under_the_limit(sandbox, request, shared):
    """Requests at the API's exact limit, delayed 0-200 ms each on their way: none refused.

    Counting departures instead, a request delayed less than an earlier one arrives inside
    that one's window (Fortnox's clients that sent exactly 5/s saw 429)."""
    from ledgerbridge.http import build_client
    from ledgerbridge.services import RateLimit

    token = connect(sandbox, ledger_id=9).secrets["access_token"]
    httpx.post(
        f"{sandbox.url}/_sandbox/knobs",
        json={"rate_limit": 10, "rate_window": 1.0, "latency_jitter_ms": 200},
    )
    time.sleep(1.0)  # the connection check's request leaves the sandbox's window
    if shared == "memory":
        services = MemoryServices()
    else:
        import redis

        from ledgerbridge.runtime.redis_services import RedisServices

        services = RedisServices(
            redis.Redis.from_url(request.getfixturevalue("redis_url")),
            request.getfixturevalue("redis_prefix"),
        )
    limit = RateLimit(10, 1.0, settle_within=15.0)
    statuses: list[int] = []

    def work() -> None:
        with build_client(
            base_url=f"{sandbox.url}/3",
            target="fortnox",
            headers={"Authorization": f"Bearer {token}"},
            throttle=lambda: services.throttle("jitter", limit),
        ) as client:
            statuses.extend(client.get("/companyinformation").status_code for _ in range(10))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 60
    assert sandbox.state.stats.rate_limited == 0, statuses
    assert set(statuses) == {200}


def test_a_429_burst_is_retried_not_shown(sandbox, ledger):
    httpx.post(f"{sandbox.url}/_sandbox/knobs", json={"burst_429": 2})
    from ledgerbridge import http

    with FortnoxClient(ledger) as client:
        original = http.time.sleep
        http.time.sleep = lambda seconds: None
        try:
            assert client.get("companyinformation", what="t")["CompanyInformation"]
        finally:
            http.time.sleep = original
    assert sandbox.state.stats.rate_limited == 2


def test_a_429_is_a_refusal_waited_out_past_the_retries():
    from ledgerbridge_fortnox.client import RATE_LIMIT_PATIENCE
    from ledgerbridge_fortnox.errors import error_for

    error = error_for(429, b'{"message":"Too Many Requests"}', what="creating the invoice")
    assert error.refused and error.retry_after == 5.0  # Fortnox did nothing: send it again
    assert RATE_LIMIT_PATIENCE >= 60


@pytest.mark.redis
def test_worker_processes_share_refresh_lock_and_rate_limit(
    sandbox, tmp_path, redis_url, redis_prefix
):
    _limit_sandbox(sandbox, 14)  # 11 per 5 s for all processes together, as above
    secrets = FileSecrets(tmp_path / "secrets.json")
    ledger = connect(sandbox, secrets=secrets, ledger_id=7, rate_limit_margin=14)
    secrets.update({"access_token_expires_at": "0"})  # every process starts needing a refresh
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(
            target=process_worker,
            args=(dict(ledger.settings), str(secrets.path), redis_url, redis_prefix, 5, queue),
        )
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert results == [[], [], []]
    assert sandbox.state.stats.token_refreshes == 1
    assert sandbox.state.stats.refresh_rejected == 0
    assert sandbox.state.stats.rate_limited == 0
