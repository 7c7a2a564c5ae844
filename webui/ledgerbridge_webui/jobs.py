"""The queue's jobs for admins: queued, scheduled, running and failed jobs of our queues, read
with RQ's registries (never an unauthenticated rq-dashboard)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from ledgerbridge.masking import scrub
from ledgerbridge_webui.security import admin_required
from ledgerbridge_webui.views import runtime

blueprint = Blueprint("jobs", __name__, url_prefix="/admin")
LISTED = 100


def _job(job: Any, registry: str) -> dict[str, Any]:
    failure = ""
    if registry == "failed":
        result = job.latest_result() if hasattr(job, "latest_result") else None
        failure = scrub((getattr(result, "exc_string", "") or "")[-2000:])
    return {
        "id": job.id,
        "registry": registry,
        "task": (job.meta or {}).get("task", job.func_name),
        "description": scrub(job.description or ""),
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "failure": failure,
    }


def rq_jobs(queue: Any) -> list[dict[str, Any]]:
    """Up to :data:`LISTED` jobs per registry of each of our RQ queues."""
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    listed: list[dict[str, Any]] = []
    for rq_queue in queue.rq_queues():
        registries: list[tuple[str, list[str]]] = [("queued", rq_queue.get_job_ids(0, LISTED - 1))]
        for name, registry_class in (
            ("started", StartedJobRegistry),
            ("scheduled", ScheduledJobRegistry),
            ("failed", FailedJobRegistry),
        ):
            registry = registry_class(queue=rq_queue)
            registries.append((name, registry.get_job_ids(0, LISTED - 1)))
        for name, job_ids in registries:
            for job in rq_queue.job_class.fetch_many(
                job_ids, connection=rq_queue.connection, serializer=rq_queue.serializer
            ):
                if job is not None:
                    listed.append({**_job(job, name), "queue": rq_queue.name})
    return listed


@blueprint.get("/jobs")
@admin_required
def index():
    """Queue depths and the jobs in each registry."""
    rt = runtime()
    depth = rt.queue.depth()
    jobs = rq_jobs(rt.queue) if hasattr(rt.queue, "rq_queues") else []
    return render_template("jobs.html", depth=depth, jobs=jobs, embedded=rt.redis is None)
