"""WooCommerce webhooks: verify and parse a delivery; register and repair the shop's webhooks.

Verification (reference §5.4): ``X-WC-Webhook-Signature`` is
``base64(HMAC-SHA256(raw body, secret))``, compared in constant time over the exact bytes
received. The creation ping (§5.5) is the form body ``webhook_id=N`` with no signature and must
get a 200. Parsing is pure and fast: no network, no clock, bounded work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping

from ledgerbridge.contexts import SiteContext
from ledgerbridge.errors import ConfigError, WebhookRejected
from ledgerbridge.masking import register_secrets
from ledgerbridge.model import WebhookAction, WebhookEvent, WebhookStatus
from ledgerbridge_woocommerce.client import WooClient
from ledgerbridge_woocommerce.digest import order_digest

#: Largest body accepted: a big order is ~100 kB; 2 MB leaves room without inviting abuse.
MAX_BODY_BYTES = 2 * 1024 * 1024
TOPICS = {
    "order.created": WebhookAction.CREATED,
    "order.updated": WebhookAction.UPDATED,
    "order.deleted": WebhookAction.DELETED,
    "order.restored": WebhookAction.RESTORED,
}
_PING = re.compile(rb"^webhook_id=(\d{1,20})$")
_MAX_ID = 2**63 - 1


def signature(body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` WooCommerce sends for ``body`` signed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else ""
    return ""


def parse_webhook(site: SiteContext, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The verified event of one delivery; :class:`WebhookRejected` (nothing to enqueue) else.

    401 for a missing or wrong signature, 413 for a body over :data:`MAX_BODY_BYTES`, 400 for
    an unknown topic, a body that is not a JSON object, or an order id that is not a number.
    """
    if not isinstance(body, bytes | bytearray):
        raise WebhookRejected("The webhook body must be bytes.", status=400)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(
            f"The webhook body is larger than {MAX_BODY_BYTES // 1024} kB.", status=413
        )
    given = _header(headers, "X-WC-Webhook-Signature").strip()
    if not given:
        ping = _PING.match(bytes(body).strip())
        if ping is not None and not _header(headers, "X-WC-Webhook-Topic"):
            return WebhookEvent(action=WebhookAction.PING, delivery_id=ping.group(1).decode())
        raise WebhookRejected("The webhook has no X-WC-Webhook-Signature header.", status=401)
    secret = site.secrets.get("webhook_secret") or ""
    register_secrets([secret])
    if not secret:
        raise WebhookRejected(
            "This site has no webhook secret yet; register the webhooks again.", status=401
        )
    if not hmac.compare_digest(signature(bytes(body), secret).encode(), given.encode("utf-8")):
        raise WebhookRejected("The webhook signature does not match.", status=401)
    topic = _header(headers, "X-WC-Webhook-Topic").strip()
    action = TOPICS.get(topic)
    if action is None:
        raise WebhookRejected(f"Webhook topic {topic[:60]!r} is not handled.", status=400)
    try:
        payload = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WebhookRejected("The webhook body is not JSON.", status=400) from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("The webhook body is not a JSON object.", status=400)
    if "code" in payload and "id" not in payload:
        raise WebhookRejected(
            "The shop sent an error instead of the order "
            f"({str(payload.get('code'))[:80]}); check the webhook owner's permissions.",
            status=400,
        )
    order_id = payload.get("id")
    if isinstance(order_id, str) and order_id.isascii() and order_id.isdigit():
        order_id = int(order_id)
    if isinstance(order_id, bool) or not isinstance(order_id, int) or not 0 < order_id <= _MAX_ID:
        raise WebhookRejected("The webhook body has no valid order id.", status=400)
    announces_state = action in (WebhookAction.CREATED, WebhookAction.UPDATED)
    return WebhookEvent(
        action=action,
        order_id=str(order_id),
        topic=topic,
        delivery_id=_header(headers, "X-WC-Webhook-Delivery-ID").strip()[:64],
        content_digest=order_digest(payload) if announces_state else "",
    )


def ensure_secret(site: SiteContext) -> str:
    """The site's webhook secret, generated and stored durably when it has none."""
    secret = site.secrets.get("webhook_secret") or ""
    if not secret:
        secret = secrets.token_urlsafe(32)
        register_secrets([secret])
        site.secrets.update({"webhook_secret": secret})
    return secret


def register_webhooks(client: WooClient, delivery_url: str) -> list[WebhookStatus]:
    """Make the four order webhooks exist, active and signed with our secret.

    Existing webhooks for our delivery URL get our secret again (WooCommerce never returns
    it, so this is the only way to be sure); ``disabled`` or ``paused`` ones are re-activated
    and reported with ``repaired=True`` and a message for the user.
    """
    if not delivery_url.lower().startswith(("https://", "http://")):
        raise ConfigError(f"The webhook address {delivery_url!r} must start with https://.")
    secret = ensure_secret(client.site)
    existing: dict[str, dict] = {}
    for hook in client.items("webhooks", status="all", orderby="id", order="asc"):
        if hook.get("delivery_url") == delivery_url and hook.get("topic") in TOPICS:
            existing.setdefault(hook["topic"], hook)
    results: list[WebhookStatus] = []
    for topic in TOPICS:
        hook = existing.get(topic)
        if hook is None:
            created = client.send(
                "POST",
                "webhooks",
                {
                    "name": f"ledgerbridge {topic}",
                    "topic": topic,
                    "delivery_url": delivery_url,
                    "secret": secret,
                    "status": "active",
                },
            )
            results.append(
                WebhookStatus(
                    id=str(created["id"]),
                    topic=topic,
                    delivery_url=delivery_url,
                    status=str(created.get("status", "active")),
                    message=f"Created the {topic} webhook.",
                )
            )
            continue
        was = str(hook.get("status", ""))
        updated = client.send(
            "PUT", f"webhooks/{hook['id']}", {"status": "active", "secret": secret}
        )
        repaired = was != "active"
        results.append(
            WebhookStatus(
                id=str(hook["id"]),
                topic=topic,
                delivery_url=delivery_url,
                status=str(updated.get("status", "active")),
                repaired=repaired,
                message=(
                    f"WooCommerce had {was} the {topic} webhook (it does so after repeated "
                    "failed deliveries); it is active again. Orders changed meanwhile are "
                    "picked up by the scheduled sync."
                    if repaired
                    else ""
                ),
            )
        )
    return results
