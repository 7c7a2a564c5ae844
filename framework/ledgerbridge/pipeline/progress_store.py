"""Export progress kept in the export's row, written through at every step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge.progress import StoredProgress
from ledgerbridge.store.db import transaction
from ledgerbridge.store.models import Export, utcnow


class ExportStepStore:
    """The ``progress`` column of one export as a :class:`~ledgerbridge.progress.StepStore`."""

    def __init__(
        self, sessions: sessionmaker[Session], export_id: int, steps: dict[str, Any]
    ) -> None:
        self._sessions = sessions
        self._export_id = export_id
        self._steps = dict(steps)

    def load(self) -> dict[str, Any]:
        return dict(self._steps)

    def save(self, steps: dict[str, Any]) -> None:
        self._steps = {key: dict(value) for key, value in steps.items()}
        with transaction(self._sessions) as session:
            session.execute(
                update(Export)
                .where(Export.id == self._export_id)
                .values(progress=self._steps, updated_at=utcnow())
            )


def export_progress(sessions: sessionmaker[Session], export: Export) -> StoredProgress:
    """The durable progress of ``export``."""
    return StoredProgress(ExportStepStore(sessions, export.id, export.progress or {}))
