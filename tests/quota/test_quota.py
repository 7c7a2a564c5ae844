"""Plans and monthly transfer quotas shared by several sites, under real concurrent workers.

"Exactly N documents" is counted in the test ledger itself, not in our tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from ledgerbridge.cli import main
from ledgerbridge.model import DocumentType
from ledgerbridge.pipeline import actions, clock
from ledgerbridge.pipeline.maintenance import archive_pdf
from ledgerbridge.pipeline.sweeper import sweep
from ledgerbridge.pipeline.sync import request_sync
from ledgerbridge.queue.rq_backend import queue_name
from ledgerbridge.queue.worker import InProcessWorker
from ledgerbridge.setup.routes import add_route
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import Export, Ledger, Notice, QuotaUsage
from tests.support.factories import sample_order

pytestmark = [pytest.mark.db, pytest.mark.redis]


def states(world) -> dict[str, int]:
    with world.runtime.transaction() as session:
        rows = session.execute(select(Export.state, func.count()).group_by(Export.state)).all()
    return {str(state): count for state, count in rows}


def used(world, period: str) -> int:
    with world.runtime.transaction() as session:
        usage = session.get(QuotaUsage, (world.ledger_id, period))
        return usage.used if usage else 0


def three_sites_on_a_free_ledger(world) -> list[int]:
    """Two more shops routed to the world's ledger, which moves to the Free plan (15/month)."""
    runtime = world.runtime
    site_ids = [world.site_id]
    with runtime.transaction() as session:
        ledger = session.get(Ledger, world.ledger_id)
        ledger.plan = "free"
        for key, prefix in (("second-shop", "SB-"), ("third-shop", "SC-")):
            site = add_site(
                runtime,
                session,
                key=key,
                name=key,
                connector="memshop",
                url="http://127.0.0.1:9",
                settings={"namespace": world.namespace, "redis_url": runtime.config.redis_url},
                secrets={"token": "shop-token-123456"},
                reference_prefix=prefix,
                allow_private_network=True,
                actor="test",
            )
            add_route(runtime, session, site=site, ledger=ledger, actor="test")
            site_ids.append(site.id)
    runtime.forget_plans()
    return site_ids


def run_workers(world, count: int) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge.cli", "worker", "--burst", "--no-ticker"],
            env=world.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]


def test_fifty_exports_race_for_the_last_slots_of_a_shared_free_plan(world):
    site_ids = three_sites_on_a_free_ledger(world)
    # The three shops share one order store in these tests; their order numbers overlap on
    # purpose (every shop has an order "1"), the reference prefixes keep them apart.
    for number in range(1, 51):
        world.put_order(sample_order(str(number)))
    for index in range(50):
        request_sync(world.runtime, site_ids[index % 3], str(index + 1), "webhook")

    run_workers(world, 3)

    documents = world.documents()
    assert len(documents) == 15
    assert len({doc["reference"] for doc in documents}) == 15
    assert {doc["reference"][:3] for doc in documents} <= {"TS-", "SB-", "SC-"}
    assert states(world) == {"done": 15, "waiting_quota": 35}
    period = clock.stockholm_period()
    assert used(world, period) == 15

    with world.runtime.transaction() as session:
        kinds = sorted(n.kind for n in session.scalars(select(Notice)))
    assert kinds == ["quota_limit", "quota_warning"]
    notices = [
        json.loads(raw) for raw in world.redis.lrange(f"{world.namespace}:quota_notices", 0, -1)
    ]
    assert sorted(level for _used, _limit, level in notices) == ["limit", "warning"]
    assert [used_ for used_, _limit, level in notices if level == "warning"] == [10]

    # the CLI shows the limit
    result = CliRunner().invoke(main, ["ledgers", "show", "test-ledger"])
    assert result.exit_code == 0, result.output
    assert "15 of 15 used" in result.output
    assert "35 waiting" in result.output
    assert "LIMIT REACHED" in result.output

    # raising the plan resumes every waiting export by itself
    resumed = actions.set_plan(world.runtime, world.ledger_id, "starter", "test")
    assert len(resumed) == 35
    run_workers(world, 2)
    assert len(world.documents()) == 50
    assert states(world) == {"done": 50}
    assert used(world, period) == 50


def test_month_rollover_resumes_waiting_exports(world):
    with world.runtime.transaction() as session:
        session.get(Ledger, world.ledger_id).plan = "free"
    world.runtime.forget_plans()
    november = datetime(2026, 11, 28, 12, tzinfo=UTC)
    for number in range(1, 21):
        world.put_order(sample_order(str(number)))
    worker = InProcessWorker(
        world.runtime.queue.rq_queues(), connection=world.redis, serializer=JSONSerializer
    )
    with clock.freeze(november):
        for number in range(1, 21):
            request_sync(world.runtime, world.site_id, str(number), "poll")
        worker.work(burst=True)
    assert states(world) == {"done": 15, "waiting_quota": 5}
    assert used(world, "2026-11") == 15

    with clock.freeze(november + timedelta(days=1)):  # still November: nothing moves
        assert sweep(world.runtime).resumed == []

    december = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)  # 01:05 in Stockholm
    with clock.freeze(december):
        report = sweep(world.runtime, stale_after=timedelta(days=365))
        assert len(report.resumed) == 5
        worker.work(burst=True)
    assert states(world) == {"done": 20}
    assert used(world, "2026-11") == 15
    assert used(world, "2026-12") == 5
    assert len(world.documents()) == 20


def test_a_failed_export_gives_its_reservation_back(world):
    world.put_order(sample_order("1"))
    world.knob("data_error", "The order cannot be booked")
    request_sync(world.runtime, world.site_id, "1", "webhook")
    world.worker()
    assert states(world) == {"needs_review": 1}
    assert used(world, clock.stockholm_period()) == 0

    world.knob("data_error", "")
    world.knob("config_error", "The ledger refused the API key")
    with world.runtime.transaction() as session:
        export_id = session.scalar(select(Export.id))
    actions.retry(world.runtime, export_id, "test")
    world.worker()
    assert states(world) == {"failed": 1}
    assert used(world, clock.stockholm_period()) == 0

    world.knob("config_error", "")
    actions.retry(world.runtime, export_id, "test")
    world.worker()
    assert states(world) == {"done": 1}
    assert used(world, clock.stockholm_period()) == 1


def test_plan_gated_features_are_enforced_in_the_pipeline(world):
    runtime = world.runtime
    with runtime.transaction() as session:
        session.get(Ledger, world.ledger_id).plan = "starter"
    runtime.forget_plans()
    from ledgerbridge.setup.routes import get_route, update_route

    with runtime.transaction() as session:
        update_route(
            runtime,
            session,
            get_route(session, world.route_id),
            actor="test",
            settings={"document_types": {"swish": "cash_sale"}},
        )
    world.put_order(sample_order("1", payment_method="swish"))
    request_sync(runtime, world.site_id, "1", "webhook")
    world.worker()
    with runtime.transaction() as session:
        export = session.scalar(select(Export))
        document, export_id = export.document, export.id
    # below Growth the per-payment-method override is refused: the default type is used
    assert document["document_type"] == DocumentType.INVOICE.value
    assert any("Growth" in warning for warning in document["warnings"])
    assert world.documents()[0]["type"] == "invoice"
    assert archive_pdf(runtime, export_id) == ""
    assert not (runtime.config.instance_path / "archive").exists()

    actions.set_plan(runtime, world.ledger_id, "growth", "test")
    world.put_order(sample_order("2", payment_method="swish"))
    request_sync(runtime, world.site_id, "2", "webhook")
    world.worker()
    with runtime.transaction() as session:
        second = session.scalar(select(Export).where(Export.source_id == "2"))
        assert second.document["document_type"] == DocumentType.CASH_SALE.value
        second_id = second.id
    path = archive_pdf(runtime, second_id)
    assert path.endswith("TS-2.pdf")
    with open(path, "rb") as handle:
        assert handle.read().startswith(b"%PDF")


def test_plans_are_configurable_from_the_cli(world):
    runner = CliRunner()
    result = runner.invoke(
        main, ["plans", "set", "agency", "--quota", "20000", "--feature", "pdf_archive"]
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(main, ["plans", "list", "--json"]).output)
    assert {
        "name": "agency",
        "title": "Agency",
        "monthly_quota": 20000,
        "features": ["pdf_archive"],
    } in listed
    refused = runner.invoke(main, ["plans", "set", "agency", "--feature", "teleport"])
    assert refused.exit_code != 0
    assert "Unknown features" in refused.output


def test_dismissed_notices_stay_dismissed(world):
    with world.runtime.transaction() as session:
        session.get(Ledger, world.ledger_id).plan = "free"
    world.runtime.forget_plans()
    for number in range(1, 12):
        world.put_order(sample_order(str(number)))
        request_sync(world.runtime, world.site_id, str(number), "webhook")
    world.worker()
    with world.runtime.transaction() as session:
        notice = session.scalar(select(Notice))
        assert notice.kind == "quota_warning"
    actions.dismiss_notice(world.runtime, notice.id, "test")
    view = json.loads(CliRunner().invoke(main, ["ledgers", "show", "test-ledger", "--json"]).output)
    assert view["notices"] == []
    assert view["quota"]["level"] == "warning"
    queue = Queue(queue_name(world.runtime.config.queue_prefix, "exports"), connection=world.redis)
    assert queue.count == 0
