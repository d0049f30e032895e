"""Celery entry points: load ids, enter the tenant, call one service; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from coaching.tasks import tenant_task
from privacy import offboarding, selectors, services


@tenant_task(name="privacy.export_build", acks_late=True, reject_on_worker_lost=True)
def export_build(request_id: int) -> str:
    """Build one export's ZIP; a request already built (or gone) is left alone."""
    row = selectors.data_request_by_id(request_id)
    if row is None:
        return "missing"
    return services.export_build(request=row).status


@shared_task(name="privacy.erasures_run", acks_late=True, reject_on_worker_lost=True)
def erasures_run() -> int:
    """Hourly: every tenant's erasures whose grace period is over, and expired exports."""
    return services.erasures_run_due()


@shared_task(name="privacy.retention_run", acks_late=True, reject_on_worker_lost=True)
def retention_run() -> dict[str, int]:
    """Daily: every tenant's retention policy applied for real (the dry-run report is
    `manage.py apply_retention`). Safe to run twice: an erased client is no candidate."""
    return services.retention_run_all()


@tenant_task(name="privacy.tenant_export_build", acks_late=True, reject_on_worker_lost=True)
def tenant_export_build(request_id: int) -> str:
    """Build an offboarded tenant's full export; one already built is left alone."""
    row = selectors.data_request_by_id(request_id)
    if row is None:
        return "missing"
    return offboarding.tenant_export_build(request=row).status


@shared_task(name="privacy.tenants_delete_due", acks_late=True, reject_on_worker_lost=True)
def tenants_delete_due() -> int:
    """Daily: delete the data of offboarded tenants past their retention period."""
    return offboarding.tenants_delete_due()


@shared_task(name="privacy.erasure_reminders", acks_late=True, reject_on_worker_lost=True)
def erasure_reminders() -> int:
    """Hourly: remind people two days before their erasure runs (once per request)."""
    return services.erasure_reminders_send()
