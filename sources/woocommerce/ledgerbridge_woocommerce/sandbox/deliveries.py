"""Webhook deliveries the way WooCommerce makes them (reference §5.2–§5.5).

A change queues (webhook, order id); a background thread delivers it a moment later with the
payload built **at delivery time** (the order's current state; ``order.deleted`` sends only
``{"id": N}``). Pending identical deliveries are coalesced. The request carries the seven
``X-WC-Webhook-*`` headers and the base64 HMAC-SHA256 signature; 200–302 is success; there
are no retries; a webhook whose ``failure_count`` is already above ``max_failures`` (5) when
another delivery fails is set to ``disabled``, so the 7th consecutive failure disables it.
A new webhook first gets the ping: ``webhook_id=N`` as a form body, without signature.

API knobs: ``latency_ms``, ``error_rate`` (a share of API requests answered 500 or 503),
``fail_next`` (the next N API requests answer 503, for deterministic retry tests).
Delivery knobs: ``drop_rate`` (a delivery silently never happens, as when Action Scheduler
loses it), ``duplicate_rate`` (delivered twice), ``copies`` (every delivery that is not
dropped is made this many times, as when several sites' plugins re-send), ``reorder`` (the
queue is delivered newest first), ``delivery_delay_ms``. Every attempt is logged for the
admin API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from ledgerbridge_woocommerce.sandbox.state import WC_VERSION, Shop, WebhookRecord, utcnow
from ledgerbridge_woocommerce.sandbox.wcjson import php_json


@dataclass
class Knobs:
    """Fault and latency knobs shared by the API and the delivery worker."""

    latency_ms: int = 0
    error_rate: float = 0.0
    fail_next: int = 0
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    copies: int = 1
    reorder: bool = False
    delivery_delay_ms: int = 0
    delivery_timeout_s: float = 10.0
    max_failures: int = 5

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from JSON; unknown names or bad values raise ``ValueError``."""
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"Unknown knob {name!r}.")
            current = getattr(self, name)
            if isinstance(current, bool):
                converted: Any = (
                    value
                    if isinstance(value, bool)
                    else str(value).lower()
                    in (
                        "1",
                        "true",
                        "yes",
                    )
                )
            else:
                converted = type(current)(value)
            if name.endswith("_rate") and not 0 <= converted <= 1:
                raise ValueError(f"{name} must be between 0 and 1.")
            setattr(self, name, converted)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready knobs."""
        return asdict(self)


@dataclass
class DeliveryLog:
    """One delivery attempt (or a dropped one)."""

    id: int
    webhook_id: int
    topic: str
    order_id: int | None
    delivery_url: str
    status: int | None = None
    ok: bool = False
    error: str = ""
    dropped: bool = False
    duplicate: bool = False
    ping: bool = False
    delivery_id: str = ""
    at: str = field(default_factory=lambda: utcnow().isoformat())


def signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature`` of ``body``.

    Written again here rather than imported from the connector on purpose: the sandbox plays
    WooCommerce, and a shared bug would make the connector's verification tests pass wrongly.
    """
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Deliverer:
    """The background delivery queue of one sandbox."""

    def __init__(self, shop: Shop, knobs: Knobs, source_url: str, random_seed: int = 7) -> None:
        self.shop = shop
        self.knobs = knobs
        self.source_url = source_url
        self.build_payload = lambda order_id: {"id": order_id}
        self.log: list[DeliveryLog] = []
        self._queue: deque[tuple[int, str, int | None]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._random = random.Random(random_seed)
        self._log_id = 0
        self._thread = threading.Thread(target=self._run, name="wc-sandbox-webhooks", daemon=True)
        self._thread.start()

    # Queueing ---------------------------------------------------------------------------------

    def order_event(self, topic: str, order_id: int) -> None:
        """Queue deliveries of ``topic`` for ``order_id`` to every active webhook on that topic."""
        with self.shop.lock:
            hooks = [w.id for w in self.shop.webhooks.values() if w.topic == topic]
        with self._cond:
            for webhook_id in hooks:
                job = (webhook_id, topic, order_id)
                if job not in self._queue:  # coalescing, as Action Scheduler does
                    self._queue.append(job)
            self._cond.notify_all()

    def ping(self, webhook: WebhookRecord) -> None:
        """Queue the creation ping of a new webhook."""
        with self._cond:
            self._queue.append((webhook.id, "ping", None))
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has been attempted."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def clear(self) -> None:
        """Forget queued deliveries and the log."""
        with self._cond:
            self._queue.clear()
            self.log = []

    # Delivering -------------------------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while True:
                with self._cond:
                    while not self._queue:
                        self._busy = False
                        self._cond.notify_all()
                        self._cond.wait()
                    self._busy = True
                    job = self._queue.pop() if self.knobs.reorder else self._queue.popleft()
                if self.knobs.delivery_delay_ms:
                    time.sleep(self.knobs.delivery_delay_ms / 1000)
                try:
                    self._deliver(client, *job)
                except Exception as exc:  # the worker must survive anything a receiver does
                    self._record(job[0], job[1], job[2], "", error=f"{type(exc).__name__}: {exc}")

    def _record(self, webhook_id: int, topic: str, order_id: int | None, url: str, **values):
        with self._cond:
            self._log_id += 1
            entry = DeliveryLog(self._log_id, webhook_id, topic, order_id, url, **values)
            self.log.append(entry)
            return entry

    def _deliver(self, client: httpx.Client, webhook_id: int, topic: str, order_id: int | None):
        with self.shop.lock:
            webhook = self.shop.webhooks.get(webhook_id)
            if webhook is None:
                return
            url, secret = webhook.delivery_url, webhook.secret
            active = webhook.status == "active"
        user_agent = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.7.1)"
        if topic == "ping":
            response = self._post(
                client,
                url,
                f"webhook_id={webhook_id}".encode(),
                {
                    "User-Agent": user_agent,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            self._record(webhook_id, "ping", None, url, ping=True, **response)
            return
        if not active:
            return
        if self._random.random() < self.knobs.drop_rate:
            self._record(webhook_id, topic, order_id, url, dropped=True)
            return
        payload = {"id": order_id} if topic == "order.deleted" else self.build_payload(order_id)
        if payload is None:
            return
        body = php_json(payload).strip().encode()
        resource, _, event = topic.partition(".")
        delivery_id = hashlib.md5(  # noqa: S324 - WooCommerce's wp_hash is an id, not security
            f"{webhook_id}{int(time.time())}".encode()
        ).hexdigest()
        headers = {
            "User-Agent": user_agent,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"{self.source_url}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(body, secret),
            "X-WC-Webhook-ID": str(webhook_id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        copies = max(self.knobs.copies, 1)
        if self._random.random() < self.knobs.duplicate_rate:
            copies += 1
        for copy in range(copies):
            outcome = self._post(client, url, body, headers)
            self._record(
                webhook_id,
                topic,
                order_id,
                url,
                duplicate=copy > 0,
                delivery_id=delivery_id,
                **outcome,
            )
            self._count(webhook_id, outcome["ok"])

    def _post(
        self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        try:
            response = client.post(
                url, content=body, headers=headers, timeout=self.knobs.delivery_timeout_s
            )
        except httpx.HTTPError as exc:
            return {"status": None, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"status": response.status_code, "ok": 200 <= response.status_code < 303}

    def _count(self, webhook_id: int, ok: bool) -> None:
        with self.shop.lock:
            webhook = self.shop.webhooks.get(webhook_id)
            if webhook is None:
                return
            webhook.pending_delivery = False
            if ok:
                webhook.failure_count = 0
            elif webhook.failure_count > self.knobs.max_failures:
                webhook.status = "disabled"
            else:
                webhook.failure_count += 1
