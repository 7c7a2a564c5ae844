"""After a database restore, exports look in the ledger before creating anything."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from ledgerbridge.cli import main
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.store.models import Binding, Export, ExportState, OrderRecord
from tests.support.factories import sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]


def forget_everything(world) -> None:
    """What a restore of a backup taken before the export looks like to the database."""
    with world.runtime.transaction() as session:
        session.execute(delete(Export))
        session.execute(delete(Binding))
        session.execute(delete(OrderRecord))


def test_without_the_restore_window_an_order_would_be_booked_twice(world):
    world.put_order(sample_order("1"))
    request_sync(world.runtime, world.site_id, "1", "webhook")
    world.worker()
    forget_everything(world)
    request_sync(world.runtime, world.site_id, "1", "poll")
    world.worker()
    assert [doc["reference"] for doc in world.documents()] == ["TS-1", "TS-1"]


def test_after_db_restored_the_existing_document_is_linked_not_booked_again(world):
    world.put_order(sample_order("1"))
    request_sync(world.runtime, world.site_id, "1", "webhook")
    world.worker()
    forget_everything(world)

    result = CliRunner().invoke(main, ["db", "restored", "--hours", "24"])
    assert result.exit_code == 0, result.output
    assert "every export first asks the ledger" in result.output

    world.put_order(sample_order("2"))
    for order_id in ("1", "2"):
        request_sync(world.runtime, world.site_id, order_id, "poll")
    world.worker()
    references = [doc["reference"] for doc in world.documents()]
    assert references == ["TS-1", "TS-2"]  # order 1 found and linked, order 2 created once
    with world.runtime.transaction() as session:
        exports = {e.source_id: e for e in session.scalars(select(Export))}
        assert exports["1"].state == ExportState.DONE
        assert exports["1"].target_id == world.documents()[0]["number"]
        assert exports["1"].quota_period is None  # relinking is not a new transfer
        assert exports["2"].state == ExportState.DONE
