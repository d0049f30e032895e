"""Celery tasks of athletes: thin, tenant first, safe to run twice."""

from __future__ import annotations

from coaching.tasks import tenant_task


@tenant_task(name="athletes.import_run", acks_late=True, reject_on_worker_lost=True)
def import_run(job_id: int) -> str:
    """Import one uploaded file (athletes.imports.import_run claims the job, so a
    redelivered task does nothing)."""
    from athletes import imports, selectors

    job = selectors.import_job(job_id)
    if job is None:
        return "missing"
    return imports.import_run(job=job).status
