"""Durable export steps: how a target makes every step of an export idempotent.

A target's export is a few steps (customer, document, bookkeeping, payment). Each runs through
:meth:`ExportProgress.run`, which records *that the step started* before running it and *what it
produced* right after, both durably. If a worker dies in between, the next attempt sees a
step that started but never finished — an unknown outcome — and calls the step's ``recover``
function (which looks the object up in the target, e.g. by external reference) before it
would ever create it again.

The pipeline gives targets a database-backed progress; tests and previews use
:class:`MemoryProgress`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ledgerbridge.errors import ExportError, TransientError

StepResult = dict[str, Any]


class ExportProgress(Protocol):
    """The steps of one export, their outcomes, and a way to run a step exactly once."""

    def get(self, step: str) -> StepResult | None:
        """The recorded result of a finished step, or None."""

    def started(self, step: str) -> bool:
        """Whether the step was started by an earlier attempt (finished or not)."""

    def run(
        self,
        step: str,
        action: Callable[[], StepResult],
        *,
        recover: Callable[[], StepResult | None] | None = None,
    ) -> StepResult:
        """Run ``action`` for ``step`` unless it already finished, and record its result.

        When an earlier attempt started the step without recording a result, ``recover`` is
        called first; if it finds the object, its result is recorded and ``action`` is not run.
        Without ``recover`` such a step raises :class:`TransientError` rather than risk a
        duplicate. Results must be JSON-able dicts.

        If ``action`` raises ``ConfigError``, ``DataError`` or ``TransientError(refused=True)``
        the target is taken to have refused (nothing created) and the step is forgotten; any
        other exception leaves it "started", i.e. in doubt. So raise those only when the target
        certainly created nothing (a 4xx answer, a 429).
        """

    def snapshot(self) -> Mapping[str, Any]:
        """All recorded steps (for the audit trail and the UI timeline)."""


class StepStore(Protocol):
    """Where step states live (a database row, or a dict)."""

    def load(self) -> dict[str, Any]:
        """All step states."""

    def save(self, steps: dict[str, Any]) -> None:
        """Persist all step states durably before returning."""


class StoredProgress:
    """:class:`ExportProgress` over any :class:`StepStore`."""

    def __init__(self, store: StepStore) -> None:
        self._store = store
        self._steps: dict[str, Any] = dict(store.load())

    def get(self, step: str) -> StepResult | None:
        state = self._steps.get(step)
        if state and state.get("done"):
            return dict(state.get("result") or {})
        return None

    def started(self, step: str) -> bool:
        return step in self._steps

    def run(
        self,
        step: str,
        action: Callable[[], StepResult],
        *,
        recover: Callable[[], StepResult | None] | None = None,
    ) -> StepResult:
        finished = self.get(step)
        if finished is not None:
            return finished
        if self.started(step):
            if recover is None:
                raise TransientError(
                    f"The outcome of step {step!r} of an earlier attempt is unknown and the "
                    "target cannot look it up; refusing to risk a duplicate."
                )
            found = recover()
            if found is not None:
                self._record(step, found, recovered=True)
                return found
        self._steps[step] = {"done": False}
        self._store.save(self._steps)
        try:
            result = action()
        except ExportError as error:
            if error.failure_class in ("config", "data") or getattr(error, "refused", False):
                # The target refused the request (validation, authorization, rate limit):
                # nothing was created, so the step is not in doubt and may simply be retried.
                del self._steps[step]
                self._store.save(self._steps)
            raise
        self._record(step, result)
        return result

    def record(self, step: str, result: StepResult) -> None:
        """Record a step's result directly (for steps that cannot be duplicated)."""
        self._record(step, result)

    def _record(self, step: str, result: StepResult, *, recovered: bool = False) -> None:
        state: dict[str, Any] = {"done": True, "result": dict(result)}
        if recovered:
            state["recovered"] = True
        self._steps[step] = state
        self._store.save(self._steps)

    def snapshot(self) -> Mapping[str, Any]:
        return dict(self._steps)

    def anything_created(self) -> bool:
        """Whether any step finished or is in doubt (something may exist in the target)."""
        return bool(self._steps)


class _DictStore:
    def __init__(self, steps: dict[str, Any] | None = None) -> None:
        self.steps: dict[str, Any] = dict(steps or {})

    def load(self) -> dict[str, Any]:
        return dict(self.steps)

    def save(self, steps: dict[str, Any]) -> None:
        self.steps = {key: dict(value) for key, value in steps.items()}


class MemoryProgress(StoredProgress):
    """Progress kept in memory (tests, previews). ``steps`` may seed earlier attempts."""

    def __init__(self, steps: dict[str, Any] | None = None) -> None:
        self.store = _DictStore(steps)
        super().__init__(self.store)
