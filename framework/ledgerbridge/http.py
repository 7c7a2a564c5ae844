"""The HTTP client every connector uses: httpx with timeouts, a shared throttle, retries,
metrics, and a masked record of every exchange for the audit trail.

Connectors build their clients with :func:`build_client` and map status codes to the failure
classes themselves (each API words its errors differently). Exchanges made while a
:func:`recording` block is active are captured, masked, for the export's timeline.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ledgerbridge import metrics
from ledgerbridge.errors import TransientError
from ledgerbridge.masking import is_secret_key, mask, mask_mapping, mask_url, scrub
from ledgerbridge.netcheck import check_url

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
BODY_LIMIT = 8_000
#: Where a request keeps the throttle's ``settle`` until its answer arrives.
_SETTLE = "ledgerbridge_settle"
T = TypeVar("T")


@dataclass
class Exchange:
    """One request and its response, masked, as the audit trail keeps it."""

    method: str
    url: str
    status: int
    request_headers: dict[str, str]
    request_body: Any
    response_body: Any
    duration_ms: int
    at: str
    target: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class ExchangeRecorder:
    """Collects the exchanges of one export attempt."""

    exchanges: list[Exchange] = field(default_factory=list)

    def as_list(self) -> list[dict[str, Any]]:
        """JSON-ready form of every exchange."""
        return [exchange.as_dict() for exchange in self.exchanges]


_recorder: contextvars.ContextVar[ExchangeRecorder | None] = contextvars.ContextVar(
    "ledgerbridge_http_recorder", default=None
)


@contextmanager
def recording() -> Iterator[ExchangeRecorder]:
    """Record (masked) every exchange made inside the block."""
    recorder = ExchangeRecorder()
    token = _recorder.set(recorder)
    try:
        yield recorder
    finally:
        _recorder.reset(token)


def _masked_headers(headers: httpx.Headers) -> dict[str, str]:
    return {
        key: (mask(value) if is_secret_key(key) or key.lower() == "cookie" else scrub(value))
        for key, value in headers.items()
    }


def _masked_body(content: bytes, content_type: str) -> Any:
    if not content:
        return None
    if "json" in content_type:
        try:
            return mask_mapping(json.loads(content))
        except ValueError:
            pass
    if content_type.startswith(("application/pdf", "image/", "application/octet-stream")):
        return f"<{len(content)} bytes of {content_type}>"
    text = content[:BODY_LIMIT].decode("utf-8", errors="replace")
    if "x-www-form-urlencoded" in content_type:
        text = mask_url("?" + text)[1:]
    return scrub(text) + ("…" if len(content) > BODY_LIMIT else "")


@functools.cache
def ssl_context(verify: bool = True) -> ssl.SSLContext:
    """The process's SSL context for ``verify`` (certificate checks on or off).

    Building one loads the whole CA bundle — about 30 ms of CPU — and httpx builds one per
    client; clients are made per export step, so that was a large share of the CPU an order
    costs. Workers build it before they fork, so every job inherits it.
    """
    return httpx.create_ssl_context(verify=verify)


#: How long an idle connection is kept for the next job's request to the same API: under the
#: shortest idle timeout common servers use (Apache's 5 s), so a kept connection is seldom
#: one the server is closing just as a request goes out.
KEEPALIVE_SECONDS = 4.0

_pools: dict[tuple[int, bool], httpx.HTTPTransport] = {}
_pools_guard = threading.Lock()


class _LentTransport(httpx.BaseTransport):
    """The process's connection pool lent to one client: closing the client leaves it open."""

    def __init__(self, pool: httpx.HTTPTransport) -> None:
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        """The pool outlives the client (see :func:`shared_transport`)."""


def shared_transport(verify: bool = True) -> httpx.BaseTransport:
    """The process's HTTP connection pool (on the shared SSL context), lent to one client.

    Clients are made per export step, so a pool of their own would open a new connection —
    a TLS handshake, two round trips to the API — for nearly every request; the shared pool
    keeps connections to each API alive between jobs. Keyed by process: a forked job never
    uses its parent's sockets.
    """
    key = (os.getpid(), verify)
    with _pools_guard:
        pool = _pools.get(key)
        if pool is None:
            pool = httpx.HTTPTransport(
                verify=ssl_context(verify),
                limits=httpx.Limits(
                    max_connections=100,
                    max_keepalive_connections=20,
                    keepalive_expiry=KEEPALIVE_SECONDS,
                ),
            )
            _pools[key] = pool
    return _LentTransport(pool)


def build_client(
    *,
    base_url: str,
    target: str,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    throttle: Callable[[], Callable[[], None] | None] | None = None,
    transport: httpx.BaseTransport | None = None,
    params: dict[str, str] | None = None,
    allow_private_network: bool = True,
) -> httpx.Client:
    """An httpx client that throttles, times out, counts and records every exchange.

    ``throttle`` is called before each request (typically
    ``lambda: ledger.services.throttle(key, limit)``) so all workers together stay under the
    API's rate limit; the ``settle`` it returns is called when the answer (or the failure,
    see :func:`record_failure`) arrives. ``target`` names the API in metrics and the audit
    trail. With ``allow_private_network=False`` (shop URLs) every request is refused whose
    host is not https on a public address (see :mod:`ledgerbridge.netcheck`).
    """

    def before(request: httpx.Request) -> None:
        if not allow_private_network:
            check_url(str(request.url), allow_private_network=False)
        if throttle is not None:
            request.extensions[_SETTLE] = throttle()
        request.extensions["ledgerbridge_started"] = time.monotonic()

    def after(response: httpx.Response) -> None:
        request = response.request
        settle(request)
        started = request.extensions.get("ledgerbridge_started", time.monotonic())
        response.read()
        seconds = time.monotonic() - started
        metrics.sink().api_call(target, response.status_code, seconds)
        recorder = _recorder.get()
        if recorder is None:
            return
        recorder.exchanges.append(
            Exchange(
                method=request.method,
                url=mask_url(str(request.url)),
                status=response.status_code,
                request_headers=_masked_headers(request.headers),
                request_body=_masked_body(request.content, request.headers.get("content-type", "")),
                response_body=_masked_body(
                    response.content, response.headers.get("content-type", "")
                ),
                duration_ms=int(seconds * 1000),
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                target=target,
            )
        )

    return httpx.Client(
        base_url=base_url,
        headers=headers,
        auth=auth,
        timeout=timeout,
        transport=transport or shared_transport(),
        params=params,
        event_hooks={"request": [before], "response": [after]},
        follow_redirects=False,
    )


def settle(request: httpx.Request) -> None:
    """Tell the throttle the request's answer or failure arrived (once; later calls do
    nothing): a limit counted from answers counts it from now."""
    done = request.extensions.pop(_SETTLE, None)
    if done is not None:
        done()


def record_failure(target: str, request: httpx.Request, error: Exception) -> None:
    """Record a request that got no response (timeout, refused connection)."""
    settle(request)
    metrics.sink().api_call(target, 0, 0.0)
    recorder = _recorder.get()
    if recorder is None:
        return
    recorder.exchanges.append(
        Exchange(
            method=request.method,
            url=mask_url(str(request.url)),
            status=0,
            request_headers=_masked_headers(request.headers),
            request_body=_masked_body(request.content, request.headers.get("content-type", "")),
            response_body=scrub(f"{type(error).__name__}: {error}"),
            duration_ms=0,
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            target=target,
        )
    )


def _stop(attempts: int, patience: float) -> Callable[[RetryCallState], bool]:
    fixed = stop_after_attempt(attempts)

    def stop(state: RetryCallState) -> bool:
        if not fixed(state):
            return False
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        refused = isinstance(error, TransientError) and error.refused
        return not (refused and (state.seconds_since_start or 0.0) < patience)

    return stop


def _wait_with_retry_after(
    base: Callable[[RetryCallState], float],
) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after:
            return min(float(error.retry_after), 60.0)
        return base(state)

    return wait


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = 4,
    initial: float = 0.5,
    maximum: float = 20.0,
    patience: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying :class:`TransientError` with jittered exponential backoff.

    A ``retry_after`` on the error (from a 429's ``Retry-After``) is honoured. After the last
    attempt the error propagates, and the job-level retry takes over — except that an error
    the remote *refused* (``refused=True``: a 429, it did nothing) is retried past
    ``attempts`` until ``patience`` seconds have passed, so a burst of 429s is waited out
    here instead of failing the attempt.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=_stop(attempts, patience),
        wait=_wait_with_retry_after(wait_exponential_jitter(multiplier=initial, max=maximum)),
        sleep=sleep,
        reraise=True,
    )
    return retrying(call)


def transient_from_transport(target: str, error: httpx.TransportError) -> TransientError:
    """A TransientError for a timeout or connection failure, in plain words."""
    if isinstance(error, httpx.TimeoutException):
        return TransientError(f"{target} did not answer in time; will retry.")
    return TransientError(f"Could not reach {target} ({type(error).__name__}); will retry.")
