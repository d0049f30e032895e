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
