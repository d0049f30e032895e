"""Celery entry points for billing. Thin: load ids, call one service. Processing a stored
webhook event is safe to repeat: a processed event is left as it is."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="billing.process_event",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def process_event(event_pk: int) -> str:
    """Act on one stored Stripe event (its tenant is resolved from the event itself)."""
    from billing import services

    return services.event_process(event_pk).status


@shared_task(name="billing.sync_tenant_plans", acks_late=True, reject_on_worker_lost=True)
def sync_tenant_plans() -> dict[str, int]:
    """Daily: bill every coaching business for the clients active today."""
    from billing import services

    return services.tenant_plans_seats_sync_all()


@shared_task(name="billing.prune_webhook_payloads", acks_late=True, reject_on_worker_lost=True)
def prune_webhook_payloads() -> int:
    """Daily: blank settled Stripe events' payloads past their retention."""
    from billing import services

    return services.webhook_payloads_prune()
