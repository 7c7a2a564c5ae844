"""The target conformance suite: subclass :class:`TargetConformance` to prove a target right.

A third-party target (or a built-in one) gets the same checks the host relies on::

    from ledgerbridge.testing.conformance import StoredDocument, TargetConformance

    class TestSieConformance(TargetConformance):
        connector = "sie"

        def ledger_context(self, request):
            return memory_ledger(connector="sie", settings={"output_folder": str(tmp)})

        def stored_documents(self, ledger):
            return [StoredDocument(...) for voucher in read_vouchers(tmp)]

        def provoke_data_error(self, ledger, route, document):
            return document.replace(journal=...)   # something the target must refuse

        not_applicable = {"transient_error": "writes local files; nothing to retry"}

What is checked (each a test method):

* the connector is installed, is a target and implements the required hooks;
* ``build_payloads`` is pure: the same answer twice, JSON bodies, nothing created, and every
  payload passed through the route's payload filters;
* ``export_document`` through a :class:`~ledgerbridge.progress.MemoryProgress` creates the
  document once, and a second call with the same progress returns the same result;
* an unknown outcome (a step started, no result recorded) resolves through ``recover``
  instead of creating again, whichever step is in doubt;
* ``find_document`` returns None for an unknown reference, the result for a known one, and
  nothing for a reference that only contains or is contained in a known one;
* error classes: a refused document raises ``DataError`` and leaves no step in doubt; a
  transient failure raises ``TransientError`` and the retry creates exactly one document
  (an author may declare either not applicable, with a reason, in :attr:`not_applicable`:
  the reason is shown as a warning, never silently skipped);
* credit notes reference the original and are created once;
* every fixture order (:mod:`ledgerbridge.testing.orders`) and its refunds round-trip: what
  the target holds has the document's totals.
"""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from ledgerbridge.contexts import LedgerContext, PayloadFilters, RouteContext
from ledgerbridge.errors import DataError, TransientError
from ledgerbridge.model import AccountingDocument, DocumentRow, ExportResult
from ledgerbridge.plugins.facade import Hooks, RouteFilters, TargetCalls
from ledgerbridge.plugins.manager import REQUIRED_HOOKS, PluginManager
from ledgerbridge.progress import MemoryProgress
from ledgerbridge.testing.orders import (
    FIXTURE_ORDER_NAMES,
    FixtureDocuments,
    build_documents,
    fixture_orders,
    fixture_route,
    sek_amount,
)

#: The checks an author may declare not applicable (with a reason).
OPTIONAL_CHECKS = ("data_error", "transient_error")


class ConformanceWarning(UserWarning):
    """A conformance check that the connector's author declared not applicable."""


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as the target holds it, read back by the author's :meth:`stored_documents`.

    ``total`` is the gross amount (positive, also for a credit note) in ``currency``: the
    document's own currency, or SEK for targets that book in SEK only. ``corrects`` is, for a
    credit note, the ``target_id`` of the document it corrects.
    """

    target_id: str
    reference: str
    total: Decimal
    currency: str
    kind: str = ""
    corrects: str = ""


def asset_total(rows: Iterable[tuple[object, object, object]]) -> Decimal:
    """The gross of a voucher-like document: what moved on asset accounts (class 1).

    ``rows`` are (account, debit, credit) as the target stores them; a sale debits the
    receivable or the payment account with the gross, a credit note credits it. Use it in
    :meth:`TargetConformance.stored_documents` for targets that store journal entries.
    """
    total = Decimal("0.00")
    for account, debit, credit in rows:
        if str(account).startswith("1"):
            total += Decimal(str(debit or 0)) - Decimal(str(credit or 0))
    return abs(total)


class RecordingFilters:
    """Payload filters that count what a target passes through them, then delegate."""

    def __init__(self, inner: PayloadFilters) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def customer(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        self.calls["customer"] += 1
        return self.inner.customer(payload, document)

    def document(self, payload: dict[str, Any], document: AccountingDocument) -> dict[str, Any]:
        self.calls["document"] += 1
        return self.inner.document(payload, document)

    def row(
        self, payload: dict[str, Any], row: DocumentRow, document: AccountingDocument
    ) -> dict[str, Any]:
        self.calls["row"] += 1
        return self.inner.row(payload, row, document)

    def extension(self, hook: str, **kwargs: Any) -> Any:
        return self.inner.extension(hook, **kwargs)


@dataclass
class Conformance:
    """Everything one conformance test works with (the ``conformance`` fixture)."""

    suite: TargetConformance
    pm: PluginManager
    hooks: Hooks
    ledger: LedgerContext
    route: RouteContext
    filters: RecordingFilters
    prefix: str
    documents: dict[str, FixtureDocuments] = field(default_factory=dict)

    @property
    def target(self) -> TargetCalls:
        """The target contract of the ledger, dispatched like the pipeline does."""
        return self.hooks.target(self.ledger)

    def fixture(self, name: str) -> FixtureDocuments:
        """The documents of fixture order ``name`` (built once per test, unique references)."""
        return self.documents[name]

    def export(self, document: AccountingDocument, progress: MemoryProgress) -> ExportResult:
        """``export_document`` as the pipeline calls it."""
        return self.target.export_document(self.route, document, progress)

    def stored(self, reference: str) -> list[StoredDocument]:
        """What the target holds for ``reference``."""
        return [
            doc for doc in self.suite.stored_documents(self.ledger) if doc.reference == reference
        ]

    def expect_one(self, document: AccountingDocument, what: str) -> StoredDocument:
        """The one stored document of ``document.reference``; fails on none or duplicates."""
        found = self.stored(document.reference)
        assert len(found) == 1, (
            f"{what}: the target holds {len(found)} documents with reference "
            f"{document.reference!r}, expected exactly 1: {found}"
        )
        return found[0]


class TargetConformance:
    """Subclass as ``Test...`` in your tests to run the target conformance checks.

    Set :attr:`connector` and implement :meth:`ledger_context` and :meth:`stored_documents`;
    implement :meth:`provoke_data_error` and :meth:`provoke_transient_error`, or name them in
    :attr:`not_applicable` with the reason.
    """

    #: The connector name the target registers (``ConnectorSpec.name``).
    connector: ClassVar[str] = ""
    #: Accounting route settings on top of the fixture route's (``FIXTURE_ROUTE_SETTINGS``).
    route_settings: ClassVar[Mapping[str, Any]] = {}
    #: The target's own route settings (validated by its ``route_schema``).
    target_settings: ClassVar[Mapping[str, Any]] = {}
    #: Fixture orders the round trip exports (all of them unless you have a reason).
    fixture_names: ClassVar[tuple[str, ...]] = FIXTURE_ORDER_NAMES
    #: Checks that cannot apply to this target, with the reason (``data_error``,
    #: ``transient_error``, or ``fixture:<name>`` for a fixture order it cannot book).
    not_applicable: ClassVar[Mapping[str, str]] = {}
    #: Fixture orders (``fixture:<name>``) the target is known to get wrong, with the defect.
    #: They still run and must still fail: once the defect is fixed the suite says so, and
    #: the entry has to go.
    known_defects: ClassVar[Mapping[str, str]] = {}

    # -- what the author provides ------------------------------------------------------------

    def ledger_context(self, request: pytest.FixtureRequest) -> LedgerContext:
        """A ledger of this connector, connected to a fresh target (a sandbox, a folder).

        ``request`` gives access to other fixtures (``request.getfixturevalue("tmp_path")``).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement ledger_context()")

    def stored_documents(self, ledger: LedgerContext) -> list[StoredDocument]:
        """Every document the target holds for ``ledger``, read back from the target itself."""
        raise NotImplementedError(f"{type(self).__name__} must implement stored_documents()")

    def provoke_data_error(
        self, ledger: LedgerContext, route: RouteContext, document: AccountingDocument
    ) -> AccountingDocument:
        """A variant of ``document`` the target must refuse with ``DataError``.

        Arrange anything the refusal needs (a sandbox knob, a setting) and return the document
        to export.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement provoke_data_error() or declare "
            "not_applicable['data_error'] with the reason"
        )

    def provoke_transient_error(
        self, ledger: LedgerContext, route: RouteContext, document: AccountingDocument
    ) -> Callable[[], None] | None:
        """Make the next export of ``document`` fail with ``TransientError``.

        The failure must outlast the target's own in-process retries. Return a function that
        ends the condition (or None when it ends by itself); the suite then retries the export
        with the same progress and expects exactly one document.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement provoke_transient_error() or declare "
            "not_applicable['transient_error'] with the reason"
        )

    # -- the fixture ---------------------------------------------------------------------------

    @pytest.fixture
    def conformance(
        self, request: pytest.FixtureRequest, plugin_manager: PluginManager
    ) -> Conformance:
        """A connected ledger, a route with recording filters, and the fixture documents.

        The plugin host is the ``plugin_manager`` fixture of ledgerbridge's pytest plugin:
        every installed plugin plus the ``extra_plugins`` fixture (override that one to test a
        connector that is not installed yet).
        """
        pm = plugin_manager
        spec = pm.connectors.get(self.connector)
        assert spec is not None, (
            f"Connector {self.connector!r} is not installed; installed: {sorted(pm.connectors)}; "
            f"plugin problems: {[(r.name, r.error) for r in pm.records.values() if r.error]}"
        )
        hooks = Hooks(pm)
        ledger = self.ledger_context(request)
        assert ledger.connector == self.connector, (
            f"ledger_context() returned a ledger of connector {ledger.connector!r}, "
            f"expected {self.connector!r}"
        )
        prefix = f"C{uuid.uuid4().hex[:5].upper()}-"
        route = fixture_route(
            ledger,
            target_settings=self.target_settings,
            settings=self.route_settings,
            reference_prefix=prefix,
        )
        filters = RecordingFilters(RouteFilters(hooks, route))
        route = replace(route, filters=filters)
        documents = {
            name: build_documents(fixture, route, hooks)
            for name, fixture in fixture_orders(prefix="").items()
        }
        return Conformance(self, pm, hooks, ledger, route, filters, prefix, documents)

    def _not_applicable(self, check: str) -> bool:
        reason = self.not_applicable.get(check, "").strip()
        if check in self.not_applicable:
            assert len(reason) >= 10, (
                f"not_applicable[{check!r}] needs a real reason (a sentence), got {reason!r}"
            )
            warnings.warn(
                ConformanceWarning(f"{self.connector}: {check} not applicable: {reason}"),
                stacklevel=2,
            )
            return True
        return False

    # -- the checks ----------------------------------------------------------------------------

    def test_connector_is_a_registered_target(self, conformance: Conformance) -> None:
        spec = conformance.pm.connectors[self.connector]
        assert spec.role == "target", f"{self.connector!r} is a {spec.role}, not a target"
        assert spec.title, "a connector needs a title (shown in the UI)"
        implemented = {
            name for name in dir(spec.implementation) if name.startswith("ledgerbridge_target_")
        }
        missing = [hook for hook in REQUIRED_HOOKS["target"] if hook not in implemented]
        assert not missing, f"required target hooks missing: {missing}"
        owner = conformance.pm.connector_owner[self.connector]
        assert owner.status == "active", owner.error
        fixtures = {f"fixture:{name}" for name in FIXTURE_ORDER_NAMES}
        unknown = [key for key in self.not_applicable if key not in {*OPTIONAL_CHECKS, *fixtures}]
        unknown += [key for key in self.known_defects if key not in fixtures]
        assert not unknown, f"not_applicable or known_defects name unknown checks: {unknown}"

    def test_build_payloads_is_pure(self, conformance: Conformance) -> None:
        before = self.stored_documents(conformance.ledger)
        for name in self.fixture_names:
            if self._not_applicable(f"fixture:{name}"):
                continue
            fixture = conformance.fixture(name)
            for document in (fixture.document, *fixture.credit_notes):
                conformance.filters.calls.clear()
                first = conformance.target.build_payloads(conformance.route, document)
                filtered = sum(conformance.filters.calls.values())
                second = conformance.target.build_payloads(conformance.route, document)
                assert first == second, (
                    f"{document.reference}: build_payloads answered differently twice"
                )
                assert isinstance(first, dict) and first, (
                    f"{document.reference}: build_payloads must return a non-empty dict"
                )
                _assert_json_bodies(first, document.reference)
                assert filtered >= 1, (
                    f"{document.reference}: build_payloads did not pass any payload through "
                    "route.filters (customer/document/row): plugins could not change them"
                )
        after = self.stored_documents(conformance.ledger)
        assert after == before, "build_payloads created something in the target"

    def test_export_creates_once_and_a_repeat_returns_the_same_result(
        self, conformance: Conformance
    ) -> None:
        document = conformance.fixture("vat_mix").document
        progress = MemoryProgress()
        conformance.filters.calls.clear()
        first = conformance.export(document, progress)
        assert isinstance(first, ExportResult), f"export_document returned {first!r}"
        assert first.target_id, "the result needs the target's id of the document"
        assert conformance.filters.calls["document"] >= 1, (
            "export_document did not pass its document payload through route.filters.document"
        )
        json.dumps(progress.snapshot())  # step results must be JSON (they are stored)
        stored = conformance.expect_one(document, "after one export")
        assert stored.target_id == first.target_id
        second = conformance.export(document, progress)
        assert (second.target_id, second.document_kind) == (first.target_id, first.document_kind)
        conformance.expect_one(document, "after the export was repeated with its progress")

    @pytest.mark.parametrize("fixture_name", ["vat_mix", "coupon"])
    def test_an_unknown_outcome_resolves_through_recover(
        self, conformance: Conformance, fixture_name: str
    ) -> None:
        document = conformance.fixture(fixture_name).document
        progress = MemoryProgress()
        first = conformance.export(document, progress)
        steps = progress.store.steps
        assert steps, "export_document ran no step through progress.run()"
        for doubtful in [*sorted(steps), None]:
            seeded = copy.deepcopy(steps)
            for step in seeded if doubtful is None else [doubtful]:
                seeded[step] = {"done": False}  # started by an attempt that died
            again = conformance.export(document, MemoryProgress(seeded))
            which = "every step" if doubtful is None else f"step {doubtful!r}"
            assert again.target_id == first.target_id, (
                f"with {which} in doubt the export returned {again.target_id!r}, "
                f"first export was {first.target_id!r}"
            )
            conformance.expect_one(document, f"after recovering with {which} in doubt")

    def test_find_document_matches_the_reference_exactly(self, conformance: Conformance) -> None:
        document = conformance.fixture("vat_mix").document
        assert conformance.target.find_document(document) is None, (
            "find_document found a document that was never exported"
        )
        result = conformance.export(document, MemoryProgress())
        found = conformance.target.find_document(document)
        assert found is not None, "find_document did not find the exported document"
        assert found.target_id == result.target_id
        for reference in (document.reference[:-1], f"{document.reference}0"):
            lookalike = document.replace(reference=reference)
            assert conformance.target.find_document(lookalike) is None, (
                f"find_document({reference!r}) matched {document.reference!r}: "
                "references must match exactly"
            )

    def test_a_refused_document_raises_data_error(self, conformance: Conformance) -> None:
        if self._not_applicable("data_error"):
            return
        base = conformance.fixture("vat_mix").document
        document = self.provoke_data_error(conformance.ledger, conformance.route, base)
        progress = MemoryProgress()
        with pytest.raises(DataError) as raised:
            conformance.export(document, progress)
        assert str(raised.value).strip(), "a DataError needs a message for the user"
        doubtful = [step for step, state in progress.store.steps.items() if not state.get("done")]
        assert not doubtful, f"a refusal left steps in doubt: {doubtful}"
        # the user retries it as it is: refused again (or done), never a second document
        with contextlib.suppress(DataError):
            conformance.export(document, progress)
        found = conformance.stored(document.reference)
        assert len(found) <= 1, f"a refused document was created twice: {found}"

    def test_a_transient_failure_is_retried_into_exactly_one_document(
        self, conformance: Conformance
    ) -> None:
        if self._not_applicable("transient_error"):
            return
        document = conformance.fixture("coupon").document
        end = self.provoke_transient_error(conformance.ledger, conformance.route, document)
        progress = MemoryProgress()
        with pytest.raises(TransientError):
            conformance.export(document, progress)
        if end is not None:
            end()
        result = conformance.export(document, progress)
        stored = conformance.expect_one(document, "after a transient failure and a retry")
        assert stored.target_id == result.target_id

    def test_credit_notes_reference_the_original(self, conformance: Conformance) -> None:
        fixture = conformance.fixture("refund")
        original = conformance.export(fixture.document, MemoryProgress())
        assert fixture.credit_notes, "the refund fixture has credit notes"
        for credit in fixture.credit_notes:
            progress = MemoryProgress()
            result = conformance.target.export_credit_note(
                conformance.route, credit, original, progress
            )
            assert result.target_id and result.target_id != original.target_id
            again = conformance.target.export_credit_note(
                conformance.route, credit, original, progress
            )
            assert again.target_id == result.target_id
            stored = conformance.expect_one(credit, "credit note")
            assert stored.corrects == original.target_id, (
                f"credit note {credit.reference} corrects {stored.corrects!r}, "
                f"expected the original {original.target_id!r}"
            )
            found = conformance.target.find_document(credit)
            assert found is not None and found.target_id == result.target_id

    def test_fixture_orders_round_trip_with_their_totals(self, conformance: Conformance) -> None:
        problems: list[str] = []
        for name in self.fixture_names:
            if self._not_applicable(f"fixture:{name}"):
                continue
            found = _round_trip(conformance, conformance.fixture(name))
            defect = self.known_defects.get(f"fixture:{name}", "").strip()
            if not defect:
                problems.extend(f"{name}: {problem}" for problem in found)
            elif found:
                warnings.warn(
                    ConformanceWarning(
                        f"{self.connector}: known defect still present in fixture {name}: "
                        f"{defect} ({'; '.join(found)})"
                    ),
                    stacklevel=2,
                )
            else:
                problems.append(
                    f"{name}: listed in known_defects ({defect}) but round-trips now; "
                    "remove it from known_defects"
                )
        assert not problems, "\n".join(problems)


def _round_trip(conformance: Conformance, fixture: FixtureDocuments) -> list[str]:
    """Export a fixture's document and credit notes; what does not match."""
    try:
        original = conformance.export(fixture.document, MemoryProgress())
        problems = _compare(conformance, fixture.document, original)
        for credit in fixture.credit_notes:
            result = conformance.target.export_credit_note(
                conformance.route, credit, original, MemoryProgress()
            )
            problems.extend(_compare(conformance, credit, result))
    except Exception as error:
        return [f"{type(error).__name__}: {error}"]
    return problems


def _compare(
    conformance: Conformance, document: AccountingDocument, result: ExportResult
) -> list[str]:
    problems = []
    if result.review:
        problems.append(f"{document.reference}: created but flagged for review: {result.review}")
    found = conformance.stored(document.reference)
    if len(found) != 1:
        return [*problems, f"{document.reference}: the target holds {len(found)} documents"]
    stored = found[0]
    if stored.currency == document.currency:
        expected = document.total
    elif stored.currency == "SEK":
        expected = sek_amount(document)
    else:
        return [*problems, f"{document.reference}: stored in {stored.currency}"]
    if abs(stored.total) != expected:
        problems.append(
            f"{document.reference}: the target holds {stored.total} {stored.currency}, "
            f"the document is {expected} {stored.currency}"
        )
    return problems


def _assert_json_bodies(payloads: Mapping[str, Any], reference: str) -> None:
    def default(value: object) -> str:
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"{type(value).__name__} is not JSON")

    try:
        json.dumps(payloads, default=default)
    except TypeError as error:
        raise AssertionError(
            f"{reference}: build_payloads returned non-JSON values: {error}"
        ) from error
