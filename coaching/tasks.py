"""Celery plumbing for tenant work.

Every task that touches tenant data is declared with `@tenant_task` and takes
`tenant_id` as its first argument: the task enters that tenant before running, so the
scoped manager and row-level security apply in the worker exactly as in a request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings

from coaching.models import Tenant
from coaching.tenancy import tenant_context


def tenant_task(*task_args: Any, **task_kwargs: Any) -> Callable:
    """`@tenant_task(...)`: a shared task whose first argument is the tenant id."""

    def decorate(func: Callable) -> Any:
        @functools.wraps(func)
        def run(tenant_id: int, *args: Any, **kwargs: Any) -> Any:
            tenant = Tenant.objects.get(pk=tenant_id)
            with tenant_context(tenant):
                return func(*args, **kwargs)

        return shared_task(*task_args, **task_kwargs)(run)

    return decorate


@tenant_task(name="coaching.count_members")
def count_members() -> dict[str, int]:
    """Smoke task for operators and the worker integration test: the tenant's headcount."""
    from coaching.selectors import members_of_tenant

    counts: dict[str, int] = {}
    for membership in members_of_tenant():
        counts[membership.role] = counts.get(membership.role, 0) + 1
    return counts


# --- the nightly pipeline (coaching.nightly): thin entry points -----------------------


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Database and broker errors worth a retry with backoff: the claims make a retried
    chunk skip whatever committed before the error."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError

    return (OperationalError, InterfaceError, BrokerError)


# Redelivery on a lost worker needs acks_late + reject_on_worker_lost, and a hard limit
# under the broker's visibility timeout so Redis never hands a live chunk to a second
# worker (settings.NIGHTLY_CHUNK_TIME_LIMIT, checked in tests/test_nightly.py).
NIGHTLY_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": _transient_errors(),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="coaching.nightly_dispatch", **NIGHTLY_TASK_OPTIONS)
def nightly_dispatch() -> list[int]:
    """Hourly (beat): create and start every active tenant's due night."""
    from coaching import nightly

    return [run.pk for run in nightly.nightly_dispatch()]


@tenant_task(name="coaching.nightly_start", **NIGHTLY_TASK_OPTIONS)
def nightly_start(run_id: int) -> int:
    """Count the run's subscribers and send their chunks; returns how many chunks."""
    from coaching import nightly

    run = nightly.run_by_id(run_id)
    if run is None:
        return 0
    return len(nightly.run_start(run=run))


@tenant_task(
    name="coaching.nightly_chunk",
    time_limit=settings.NIGHTLY_CHUNK_TIME_LIMIT,
    soft_time_limit=max(1, int(settings.NIGHTLY_CHUNK_TIME_LIMIT * 0.9)),
    **NIGHTLY_TASK_OPTIONS,
)
def nightly_chunk(run_id: int, athlete_ids: list[int]) -> dict[str, int]:
    """One chunk of a run's subscribers (NIGHTLY_CHUNK_SIZE); safe to deliver twice."""
    from dataclasses import asdict

    from coaching import nightly

    return asdict(nightly.nightly_chunk_run(run_id=run_id, athlete_ids=athlete_ids))
