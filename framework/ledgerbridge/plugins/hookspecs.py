"""The ledgerbridge plugin contract: every hook a plugin may implement, grouped by phase.

Phases:

1. **Registration** — a plugin says which connectors it provides, and may add hookspecs of its own.
2. **Source contract** — called only on the source connector that owns the site.
3. **Target contract** — called only on the target connector that owns the ledger.
4. **Pipeline** — open to every plugin: change the order, choose document type, VAT scenario and
   accounts, and change every payload a target sends.

Rules every implementation must know (pluggy's):

* Hooks are called with keyword arguments; an implementation may accept any subset of them.
  Arguments with default values are **never** filled in: write ``def hook(order, route)``,
  not ``def hook(order, route=None)``.
* ``firstresult`` hooks stop at the first implementation that returns something other than
  None. The "filter" hooks (``*_payload``, ``order_received``, ``document_built``) have a
  built-in implementation that returns the input unchanged; change the value with a
  new-style wrapper::

      @hookimpl(wrapper=True)
      def ledgerbridge_row_payload(payload, row, document, route):
          payload = yield            # what the inner implementations produced
          payload["CostCenter"] = "WEB"
          return payload

  Wrappers chain: each sees the result of the ones inside it.
* Contract hooks (``ledgerbridge_source_*`` and ``ledgerbridge_target_*``) are implemented as
  methods of the ``implementation`` object of a :class:`~ledgerbridge.plugins.types.ConnectorSpec`.

Errors: contract hooks raise the classes of :mod:`ledgerbridge.errors` (``ConfigError``,
``TransientError``, ``DataError``, ``NotFound``, ``WebhookRejected``); anything else is
treated as a bug. Notification hooks must not raise: an exception there is logged with the
plugin's name and ignored, so a broken notifier never fails an export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledgerbridge.plugins.markers import hookspec

if TYPE_CHECKING:
    import pluggy

    from ledgerbridge.contexts import LedgerContext, RouteContext, SiteContext
    from ledgerbridge.errors import ExportError
    from ledgerbridge.model import (
        AccountingDocument,
        ConnectionStatus,
        DocumentRow,
        DocumentType,
        ExportResult,
        ItemKind,
        Order,
        OrderLine,
        OrderSummary,
        Product,
        ReferenceItem,
        StockLevel,
        VatScenario,
        WebhookEvent,
        WebhookStatus,
    )
    from ledgerbridge.plugins.types import ConnectorSpec
    from ledgerbridge.progress import ExportProgress

# ---------------------------------------------------------------------------------------------
# 1. Registration
# ---------------------------------------------------------------------------------------------


@hookspec
def ledgerbridge_register_connectors() -> Iterable[ConnectorSpec]:
    """Return the connectors this plugin provides.

    Called once when the plugin manager loads plugins. Return an iterable of
    :class:`~ledgerbridge.plugins.types.ConnectorSpec`. Two plugins returning one connector
    name is an error naming both distributions. May raise only for a broken installation
    (the plugin is then skipped and logged).

    Example::

        @hookimpl
        def ledgerbridge_register_connectors():
            return [ConnectorSpec(name="sie", role="target", title="SIE files",
                                  implementation=SieTarget(), settings_schema=SieSettings)]
    """


@hookspec(historic=True)
def ledgerbridge_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add hookspecs of your own, for other plugins to implement.

    Called once per plugin right after it is registered (historic: late plugins still see
    it). A target uses this to publish hooks specific to its API. Must not raise.

    Example::

        @hookimpl
        def ledgerbridge_add_hookspecs(pluginmanager):
            pluginmanager.add_hookspecs(fortnox_hookspecs)
    """


# ---------------------------------------------------------------------------------------------
# 2. Source contract (dispatched to the connector that owns the site)
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def ledgerbridge_source_check_connection(site: SiteContext) -> ConnectionStatus:
    """Check that the shop answers and the credentials work.

    Called by "Test connection" in the UI and ``ledgerbridge sites show --check``. Return a
    :class:`~ledgerbridge.model.ConnectionStatus` whose message tells the user what to fix.
    Should not raise: report failures in the status.

    Example::

        return ConnectionStatus(ok=False, message="The consumer key was refused (401): "
                                "create a new REST API key with Read/Write access.")
    """


@hookspec(firstresult=True)
def ledgerbridge_source_fetch_order(site: SiteContext, order_id: str) -> dict[str, Any]:
    """Fetch the current state of one order, with its refunds, as the shop's raw JSON.

    Called by a worker for every order it processes (webhook payloads are point-in-time, so
    the worker always refetches). Raises ``NotFound`` when the order is gone,
    ``TransientError`` for timeouts/5xx, ``ConfigError`` for refused credentials.

    Example::

        return client.get(f"orders/{order_id}") | {"refunds_detail": client.refunds(order_id)}
    """


@hookspec(firstresult=True)
def ledgerbridge_source_iter_orders(
    site: SiteContext, modified_after: datetime | None, statuses: list[str]
) -> Iterator[OrderSummary]:
    """Yield every order modified after ``modified_after`` with one of ``statuses``.

    Called by bulk sync and the polling fallback. Must stream (constant memory for 100,000
    orders) and yield in ascending ``modified_at`` order so a cursor can advance safely.
    Raises like ``fetch_order``.

    Example::

        for page in client.pages("orders", modified_after=..., orderby="modified", order="asc"):
            yield from (OrderSummary(id=str(o["id"]), status=o["status"], ...) for o in page)
    """


@hookspec(firstresult=True)
def ledgerbridge_source_parse_webhook(
    site: SiteContext, headers: Mapping[str, str], body: bytes
) -> WebhookEvent:
    """Verify and parse one webhook delivery.

    Called by the web process for ``POST /webhooks/<connector>/<site>``; it must answer in
    milliseconds and must not call the shop. Return a
    :class:`~ledgerbridge.model.WebhookEvent` (``action=PING`` for a creation ping). Raise
    ``WebhookRejected(status=401)`` for a bad signature, ``WebhookRejected(status=400)`` for
    a malformed body; nothing is enqueued then.

    Example::

        if not hmac.compare_digest(expected, headers.get("x-wc-webhook-signature", "")):
            raise WebhookRejected("signature mismatch", status=401)
    """


@hookspec(firstresult=True)
def ledgerbridge_source_normalize_order(site: SiteContext, raw: dict[str, Any]) -> Order:
    """Turn the shop's raw order JSON into the canonical :class:`~ledgerbridge.model.Order`.

    Called after ``fetch_order`` and by ``ledgerbridge preview``. Pure: no network. Raises
    ``DataError`` naming the field for anything that cannot be understood.

    Example::

        return Order(source="woocommerce", id=str(raw["id"]), number=raw["number"], ...)
    """


@hookspec(firstresult=True)
def ledgerbridge_source_order_digest(site: SiteContext, raw: dict[str, Any]) -> str:
    """A digest of what in the raw order matters to the books (optional).

    Must equal the ``content_digest`` that ``parse_webhook`` gives a delivery carrying the same
    state of the order, and leave out whatever changes without the books caring (modification
    dates, the status meta ``add_order_note`` writes): a delivery whose digest equals the one
    of the order last fetched is then answered without queueing a fetch. Pure: no network.
    Without an implementation every delivery queues a fetch.

    Example::

        kept = {key: value for key, value in raw.items() if key not in IGNORED_KEYS}
        return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()
    """


@hookspec(firstresult=True)
def ledgerbridge_source_register_webhooks(
    site: SiteContext, delivery_url: str
) -> list[WebhookStatus]:
    """Make sure the shop delivers order webhooks to ``delivery_url``; repair disabled ones.

    Called from the UI ("Register webhooks") and by the periodic health check. Creates
    missing webhooks with the site's secret, re-enables ones the shop disabled (marking them
    ``repaired=True`` so the user is told), and returns the state of each. Raises like
    ``fetch_order``.

    Example::

        return [WebhookStatus(id="12", topic="order.updated", delivery_url=url, status="active")]
    """


@hookspec(firstresult=True)
def ledgerbridge_source_add_order_note(
    site: SiteContext, order_id: str, note: str, status: Mapping[str, str]
) -> None:
    """Write the export result back to the order: a private note and status meta data.

    Called after an export succeeds or fails for good. ``note`` is plain text for the shop
    staff ("Bokförd i Fortnox som faktura 1234"); ``status`` is machine-readable meta.
    Raises like ``fetch_order`` (the write-back is retried on its own, never the export).

    Example::

        client.post(f"orders/{order_id}/notes", json={"note": note, "customer_note": False})
    """


@hookspec(firstresult=True)
def ledgerbridge_source_update_stock(site: SiteContext, levels: list[StockLevel]) -> int:
    """Set the shop's stock quantities to ``levels``; return how many products changed.

    Called by the inventory sync. Products already at the level are not written (that is
    what prevents update loops). Raises like ``fetch_order``.

    Example::

        return client.batch_update_stock({level.sku: level.quantity for level in levels})
    """


@hookspec(firstresult=True)
def ledgerbridge_source_iter_products(site: SiteContext) -> Iterator[Product]:
    """Yield every product and variation of the shop (for article sync and stock).

    Must stream. Raises like ``fetch_order``.

    Example::

        yield Product(id="311", sku="KB-1", name="Kaffebryggare", price=Decimal("1249.00"), ...)
    """


# ---------------------------------------------------------------------------------------------
# 3. Target contract (dispatched to the connector that owns the ledger)
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def ledgerbridge_target_check_connection(ledger: LedgerContext) -> ConnectionStatus:
    """Check that the ledger answers and the authorization works.

    Called by "Test connection" and the health check. Should not raise; a revoked
    authorization is reported with a message that says to reconnect.

    Example::

        return ConnectionStatus(ok=True, message="Connected to Fortnox as Exempelbolaget AB")
    """


@hookspec(firstresult=True)
def ledgerbridge_target_authorize_url(
    ledger: LedgerContext, redirect_uri: str, state: str
) -> str | None:
    """The URL to send the user to for an OAuth2 authorization, or None if not supported.

    Called when the user clicks "Connect". ``state`` is already signed by the host and
    must be passed through unchanged. Raises ``ConfigError`` when the app credentials are
    missing.

    Example::

        return f"{base}/oauth-v1/auth?client_id=...&state={state}&access_type=offline"
    """


@hookspec(firstresult=True)
def ledgerbridge_target_finish_authorization(
    ledger: LedgerContext, redirect_uri: str, params: Mapping[str, str]
) -> ConnectionStatus:
    """Finish an OAuth2 authorization from the callback ``params`` (code, state, error).

    Exchanges the code for tokens and stores them with ``ledger.secrets.update``. Raises
    ``ConfigError`` with the provider's message when the exchange is refused.

    Example::

        tokens = oauth.fetch_token(code=params["code"], redirect_uri=redirect_uri)
        ledger.secrets.update({"access_token": ..., "refresh_token": ...})
    """


@hookspec(firstresult=True)
def ledgerbridge_target_reference_data(ledger: LedgerContext, kind: str) -> list[ReferenceItem]:
    """Reference data for the mapping editors: ``kind`` is one of ``accounts``,
    ``payment_modes``, ``ways_of_delivery``, ``terms_of_payment``, ``currencies``,
    ``vat_codes``, ``bank_accounts`` or a connector-specific kind.

    Return an empty list for kinds the target does not have. Cache with
    ``ledger.services.cache``. Raises like any API call.

    Example::

        return [ReferenceItem(code=a["Number"], name=a["Description"]) for a in accounts]
    """


@hookspec(firstresult=True)
def ledgerbridge_target_find_document(
    ledger: LedgerContext, document: AccountingDocument
) -> ExportResult | None:
    """Look for a document already created for ``document.reference``; None when absent.

    Called before any create whose earlier attempt has an unknown outcome, and by the
    reliability sweeper. Must check the reference exactly (search APIs often match
    substrings). Raises ``TransientError`` when the target cannot be asked right now.

    Example::

        hits = client.get("invoices", params={"externalinvoicereference1": document.reference})
        return next((result_for(h) for h in hits if h["ExternalInvoiceReference1"] == ref), None)
    """


@hookspec(firstresult=True)
def ledgerbridge_target_export_document(
    ledger: LedgerContext,
    route: RouteContext,
    document: AccountingDocument,
    progress: ExportProgress,
) -> ExportResult:
    """Create the document (invoice, cash sale or daily summary) in the ledger.

    Called by a worker after the quota and the binding are reserved. Run every creating
    step through ``progress.run(step, action, recover=...)`` so a retry never duplicates;
    do the automation the route asks for (bookkeep, send, register payment). Read the
    totals back and set ``review`` on the result when they differ from the document.
    Raises the :mod:`ledgerbridge.errors` classes.

    Example::

        invoice = progress.run("invoice", create_invoice,
                               recover=lambda: find_by_reference(document.reference))
        return ExportResult(target_id=invoice["number"], document_kind="invoice")
    """


@hookspec(firstresult=True)
def ledgerbridge_target_export_credit_note(
    ledger: LedgerContext,
    route: RouteContext,
    document: AccountingDocument,
    original: ExportResult,
    progress: ExportProgress,
) -> ExportResult:
    """Create a credit note for a refund, referencing ``original`` (the document it corrects).

    Same rules as ``export_document``; booked documents are never edited, only corrected by
    the new one.

    Example::

        credit = progress.run("credit", lambda: client.credit(original.target_id, rows))
    """


@hookspec(firstresult=True)
def ledgerbridge_target_build_payloads(
    ledger: LedgerContext, route: RouteContext, document: AccountingDocument
) -> dict[str, Any]:
    """The exact payloads the target would send for ``document``, without sending anything.

    Called by ``ledgerbridge preview --target`` and the order page. Keys name the request
    (``"customer"``, ``"invoice"``, ``"voucher"``...), values are the JSON bodies, after the
    payload filters. Pure: no network, no reference data beyond the route settings. Raises
    ``DataError`` when the document cannot be expressed in this target.

    Example::

        return {"customer": customer_payload(document), "invoice": invoice_payload(document)}
    """


@hookspec(firstresult=True)
def ledgerbridge_target_fetch_pdf(ledger: LedgerContext, result: ExportResult) -> bytes | None:
    """The PDF of a created document for the archive, or None if the target has none.

    Raises like any API call.

    Example::

        return client.get_bytes(f"invoices/{result.target_id}/preview")
    """


@hookspec(firstresult=True)
def ledgerbridge_target_sync_product(
    ledger: LedgerContext, route: RouteContext, product: Product
) -> str:
    """Create or update the article for a shop product; return the article number.

    Raises ``DataError`` for a product that cannot become an article.

    Example::

        return client.upsert_article(sku=product.sku or generated_sku(product), ...)
    """


@hookspec(firstresult=True)
def ledgerbridge_target_stock_levels(
    ledger: LedgerContext, skus: list[str] | None
) -> list[StockLevel]:
    """Stock per article number (``skus`` None means every stock article).

    Example::

        return [StockLevel(sku=a["ArticleNumber"], quantity=Decimal(a["QuantityInStock"]))]
    """


@hookspec(firstresult=True)
def ledgerbridge_target_currency_rate(
    ledger: LedgerContext, currency: str, on_date: date
) -> Decimal | None:
    """SEK per one unit of ``currency`` from the target's currency table, or None.

    Example::

        return Decimal(client.get(f"currencies/{currency}")["SellRate"])
    """


# ---------------------------------------------------------------------------------------------
# 4. Pipeline hooks (any plugin)
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def ledgerbridge_order_received(site: SiteContext, order: Order) -> Order:
    """Filter: change a freshly normalized order before anything is decided from it.

    Called once per fetched order. The built-in implementation returns ``order``; wrap it
    to change fields (orders are frozen: use ``order.replace(...)``). Raise ``DataError`` to
    stop the order with a message for the user.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_order_received(site, order):
            order = yield
            customer = order.customer.replace(email=order.customer.email.lower())
            return order.replace(customer=customer)
    """


@hookspec(firstresult=True)
def ledgerbridge_classify_line(order: Order, line: OrderLine, default: ItemKind) -> ItemKind | None:
    """Decide whether a line is goods or services; None keeps ``default``.

    Called for every line while the document is built. Must not raise.

    Example::

        if line.sku.startswith("GIFT-"):
            return ItemKind.SERVICE
    """


@hookspec(firstresult=True)
def ledgerbridge_choose_document_type(
    order: Order, route: RouteContext, default: DocumentType
) -> DocumentType | None:
    """Choose invoice or cash sale for an order; None keeps ``default`` (the route's choice).

    Must not raise.

    Example::

        if order.customer.is_company:
            return DocumentType.INVOICE
    """


@hookspec(firstresult=True)
def ledgerbridge_choose_vat_scenario(
    order: Order, route: RouteContext, default: VatScenario
) -> VatScenario | None:
    """Override the VAT scenario the rules chose; None keeps ``default``.

    Must not raise; a scenario that cannot be booked is still refused by the rules.

    Example::

        if order.meta.get("vat_exempt") == "yes":
            return VatScenario.EXPORT
    """


@hookspec(firstresult=True)
def ledgerbridge_choose_account(
    purpose: str,
    order: Order,
    route: RouteContext,
    line: OrderLine | None,
    default: str,
) -> str | None:
    """Override one account; None keeps ``default``.

    ``purpose`` names what the account is for (``sales``, ``vat``, ``shipping``, ``fee``,
    ``discount``, ``rounding``, ``payment``, ``receivable``, ``foreign_tax``); ``line`` is the
    order line for line-level choices, else None. Must not raise.

    Example::

        if purpose == "sales" and line is not None and line.sku.startswith("BOOK-"):
            return "3003"
    """


@hookspec(firstresult=True)
def ledgerbridge_validate_vat_number(vat_number: str, country: str) -> bool | None:
    """Validate a buyer's VAT number online (e.g. VIES); None means "cannot tell".

    Nothing implements this by default (no network is assumed): the format check of
    python-stdnum decides then. May raise ``TransientError`` to retry later.

    Example::

        return vies_client.check(country, vat_number[2:]).valid
    """


@hookspec(firstresult=True)
def ledgerbridge_currency_rate(currency: str, on_date: date, route: RouteContext) -> Decimal | None:
    """SEK per one unit of ``currency`` on ``on_date``; None lets the next provider answer.

    The built-in providers are the route's manual rate, then the target's currency table.
    Must not raise except ``TransientError``.

    Example::

        return riksbank.mid_rate(currency, on_date)
    """


@hookspec(firstresult=True)
def ledgerbridge_document_built(
    document: AccountingDocument, order: Order, route: RouteContext
) -> AccountingDocument:
    """Filter: change the accounting document after the rules built it.

    The built-in implementation returns ``document``. The result must still balance: it is
    checked again and an unbalanced document becomes a data error.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_document_built(document, order, route):
            document = yield
            return document.replace(texts=(*document.texts, "Tack för ditt köp!"))
    """


@hookspec(firstresult=True)
def ledgerbridge_customer_payload(
    payload: dict[str, Any], document: AccountingDocument, route: RouteContext
) -> dict[str, Any]:
    """Filter: change the customer payload a target is about to send.

    Called by target connectors before creating or updating a customer. The built-in
    implementation returns ``payload`` unchanged.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_customer_payload(payload, document, route):
            payload = yield
            payload.setdefault("Comments", "Webbkund")
            return payload
    """


@hookspec(firstresult=True)
def ledgerbridge_document_payload(
    payload: dict[str, Any], document: AccountingDocument, route: RouteContext
) -> dict[str, Any]:
    """Filter: change the document payload (invoice, voucher, journal entry) a target sends.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_document_payload(payload, document, route):
            payload = yield
            payload["Remarks"] = f"Webborder {document.order_number}"
            return payload
    """


@hookspec(firstresult=True)
def ledgerbridge_row_payload(
    payload: dict[str, Any],
    row: DocumentRow,
    document: AccountingDocument,
    route: RouteContext,
) -> dict[str, Any]:
    """Filter: change one row of the document payload.

    Example::

        @hookimpl(wrapper=True)
        def ledgerbridge_row_payload(payload, row, document, route):
            payload = yield
            payload["CostCenter"] = "WEB"
            return payload
    """


@hookspec
def ledgerbridge_after_export(
    route: RouteContext, document: AccountingDocument, result: ExportResult
) -> None:
    """Notification: a document was created in the ledger.

    Called once per created document, after it is recorded. Must not raise.

    Example::

        slack.post(f"{document.reference} booked as {result.target_id}")
    """


@hookspec
def ledgerbridge_export_failed(
    route: RouteContext, reference: str, error: ExportError, failure_class: str
) -> None:
    """Notification: an export failed for good (config, data or bug; not a retry).

    Must not raise.

    Example::

        mail.send(owner, f"Order {reference} could not be booked: {error}")
    """


@hookspec
def ledgerbridge_quota_notice(ledger: LedgerContext, used: int, limit: int, level: str) -> None:
    """Notification: a ledger's monthly quota crossed a threshold.

    ``level`` is ``"warning"`` (two thirds used) or ``"limit"`` (all used). Called once per
    threshold per month. Must not raise.

    Example::

        mail.send(owner, f"{ledger.name} has used {used} of {limit} transfers this month")
    """
