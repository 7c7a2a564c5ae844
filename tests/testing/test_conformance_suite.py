"""The conformance suite itself: a correct in-memory target passes it, and each defect a
target can have makes the check that guards against it fail (run through ``pytester``, the way
a connector author runs the suite)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TARGET = """
import itertools
from decimal import Decimal
from marshmallow import Schema, fields

from ledgerbridge import hookimpl
from ledgerbridge.contexts import memory_ledger
from ledgerbridge.errors import DataError, TransientError
from ledgerbridge.model import ExportResult
from ledgerbridge.money import quantize
from ledgerbridge.plugins.manager import module_plugin
from ledgerbridge.plugins.types import ConnectorSpec
from ledgerbridge.testing.conformance import StoredDocument, TargetConformance

import pytest

DEFECT = "{defect}"
BOOKS = {{}}
NUMBERS = itertools.count(1)
BUSY = []


class MemoryTarget:
    def _find(self, ledger, reference):
        for record in BOOKS.setdefault(ledger.key, []):
            hit = record["reference"].startswith(reference) if DEFECT == "fuzzy_find" else (
                record["reference"] == reference)
            if hit:
                return record
        return None

    def _payload(self, route, document):
        payload = {{"reference": document.reference, "total": str(document.total)}}
        return payload if DEFECT == "no_filters" else route.filters.document(payload, document)

    def _create(self, ledger, route, document, corrects=""):
        payload = self._payload(route, document)
        if document.customer is None:
            if DEFECT == "data_error_as_bug":
                raise RuntimeError("no customer")
            raise DataError("An invoice needs a customer.")
        if BUSY:
            raise TransientError("busy", refused=True)
        total = quantize(document.total * document.sek_rate)
        if DEFECT == "wrong_total":
            total += Decimal("0.01")
        record = {{
            "id": str(next(NUMBERS)),
            "reference": payload["reference"],
            "total": total,
            "corrects": "" if DEFECT == "credit_unlinked" else corrects,
        }}
        BOOKS.setdefault(ledger.key, []).append(record)
        return {{"id": record["id"]}}

    def _export(self, ledger, route, document, progress, step, corrects=""):
        def recover():
            if DEFECT == "blind_recover":
                return None
            found = self._find(ledger, document.reference)
            return {{"id": found["id"]}} if found else None

        if DEFECT == "no_progress":
            state = self._create(ledger, route, document, corrects)
        else:
            state = progress.run(
                step, lambda: self._create(ledger, route, document, corrects), recover=recover
            )
        return ExportResult(target_id=state["id"], document_kind=step)

    @hookimpl
    def ledgerbridge_target_check_connection(self, ledger):
        return None

    @hookimpl
    def ledgerbridge_target_find_document(self, ledger, document):
        found = self._find(ledger, document.reference)
        return ExportResult(target_id=found["id"], document_kind="doc") if found else None

    @hookimpl
    def ledgerbridge_target_export_document(self, ledger, route, document, progress):
        return self._export(ledger, route, document, progress, "document")

    @hookimpl
    def ledgerbridge_target_export_credit_note(self, ledger, route, document, original, progress):
        return self._export(ledger, route, document, progress, "credit", original.target_id)

    @hookimpl
    def ledgerbridge_target_build_payloads(self, ledger, route, document):
        if DEFECT == "impure_preview":
            self._create(ledger, route, document)
        return {{"document": self._payload(route, document)}}


@hookimpl
def ledgerbridge_register_connectors():
    return [ConnectorSpec(name="memtarget", role="target", title="Memory", implementation=MemoryTarget())]


@pytest.fixture
def extra_plugins():
    return [("memtarget", module_plugin("memtarget", ledgerbridge_register_connectors=ledgerbridge_register_connectors))]


class TestMemoryTarget(TargetConformance):
    connector = "memtarget"
{declarations}

    def ledger_context(self, request):
        return memory_ledger(key=request.node.name, connector="memtarget")

    def stored_documents(self, ledger):
        return [
            StoredDocument(target_id=r["id"], reference=r["reference"], total=r["total"],
                           currency="SEK", corrects=r["corrects"])
            for r in BOOKS.get(ledger.key, [])
        ]

    def provoke_data_error(self, ledger, route, document):
        return document.replace(customer=None)

    def provoke_transient_error(self, ledger, route, document):
        BUSY.append(1)
        return BUSY.clear
"""

CHECKS = (
    "test_connector_is_a_registered_target",
    "test_build_payloads_is_pure",
    "test_export_creates_once_and_a_repeat_returns_the_same_result",
    "test_an_unknown_outcome_resolves_through_recover[vat_mix]",
    "test_an_unknown_outcome_resolves_through_recover[coupon]",
    "test_find_document_matches_the_reference_exactly",
    "test_a_refused_document_raises_data_error",
    "test_a_transient_failure_is_retried_into_exactly_one_document",
    "test_credit_notes_reference_the_original",
    "test_fixture_orders_round_trip_with_their_totals",
)


def _run(pytester: pytest.Pytester, defect: str, declarations: str = "") -> pytest.RunResult:
    source = TARGET.format(defect=defect, declarations=declarations)
    pytester.makepyfile(test_memtarget=source)
    return pytester.runpytest("-q", "-rA", "-p", "no:cacheprovider")


def _outcomes(pytester: pytest.Pytester, defect: str, declarations: str = "") -> dict[str, str]:
    result = _run(pytester, defect, declarations)
    outcomes: dict[str, str] = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED", "ERROR"):
            if line.startswith(word) and "::" in line:
                test = line.split("::")[-1].split(" - ")[0].strip()
                outcomes[test] = word
    return outcomes


def test_a_correct_target_passes_every_check(pytester: pytest.Pytester) -> None:
    outcomes = _outcomes(pytester, "none")
    assert outcomes == dict.fromkeys(CHECKS, "PASSED")


@pytest.mark.parametrize(
    ("defect", "caught_by"),
    [
        ("fuzzy_find", {"test_find_document_matches_the_reference_exactly"}),
        (
            "blind_recover",
            {
                "test_an_unknown_outcome_resolves_through_recover[vat_mix]",
                "test_an_unknown_outcome_resolves_through_recover[coupon]",
            },
        ),
        (
            "no_progress",
            {
                "test_export_creates_once_and_a_repeat_returns_the_same_result",
                "test_an_unknown_outcome_resolves_through_recover[vat_mix]",
                "test_an_unknown_outcome_resolves_through_recover[coupon]",
                "test_credit_notes_reference_the_original",
            },
        ),
        (
            "no_filters",
            {
                "test_build_payloads_is_pure",
                "test_export_creates_once_and_a_repeat_returns_the_same_result",
            },
        ),
        ("impure_preview", {"test_build_payloads_is_pure"}),
        ("data_error_as_bug", {"test_a_refused_document_raises_data_error"}),
        ("credit_unlinked", {"test_credit_notes_reference_the_original"}),
        ("wrong_total", {"test_fixture_orders_round_trip_with_their_totals"}),
    ],
)
def test_each_defect_fails_its_check(
    pytester: pytest.Pytester, defect: str, caught_by: set[str]
) -> None:
    outcomes = _outcomes(pytester, defect)
    failed = {test for test, outcome in outcomes.items() if outcome != "PASSED"}
    assert caught_by <= failed, (defect, outcomes)
    assert set(outcomes) == set(CHECKS)


def test_a_check_declared_not_applicable_needs_a_reason_and_is_reported(
    pytester: pytest.Pytester,
) -> None:
    vague = _outcomes(pytester, "none", '    not_applicable = {"transient_error": "n/a"}')
    assert vague["test_a_transient_failure_is_retried_into_exactly_one_document"] == "FAILED"

    reason = "this target never talks to a remote system"
    result = _run(pytester, "none", f'    not_applicable = {{"transient_error": "{reason}"}}')
    result.assert_outcomes(passed=len(CHECKS))
    assert any(reason in line for line in result.outlines)


def test_a_known_defect_must_still_fail(pytester: pytest.Pytester) -> None:
    declared = '    known_defects = {"fixture:export": "books exports twice"}'
    fixed = _outcomes(pytester, "none", declared)
    assert fixed["test_fixture_orders_round_trip_with_their_totals"] == "FAILED"

    result = _run(pytester, "wrong_total", declared)
    lines = "\n".join(result.outlines)
    assert "known defect still present in fixture export" in lines
