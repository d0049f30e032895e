"""The audit log's one entry point (DESIGN.md, Privacy): staff and admin access to client
data, role changes, consent changes, exports and erasures.

`record` appends one `coaching.models.AuditEvent` in the current tenant (or with no
tenant, for platform events). The log is append-only: the model, its queryset and (on
PostgreSQL) a trigger refuse updates and deletes; rows leave only through retention,
`manage.py audit_prune` (`settings.AUDIT_RETENTION_DAYS`).

No personal data goes in: `detail` may hold ids and names of things ("page": "plan",
"athlete_id": 12), and `record` refuses nested objects, long strings and anything that
looks like an e-mail address, so free text (notes, health values) cannot slip in.
"""

from __future__ import annotations

import datetime
from contextvars import ContextVar
from typing import Any

from django.db.models import QuerySet

from coaching.tenancy import get_current_tenant

MAX_DETAIL_KEYS = 12
MAX_DETAIL_STRING = 64  # a slug or a name, not a sentence
_SCALARS = (int, float, bool, type(None))


class AuditDetailRejected(ValueError):
    """`detail` held something that could be personal data: a bug in the caller."""


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, str):
        if len(value) > MAX_DETAIL_STRING or "@" in value or "\n" in value:
            raise AuditDetailRejected(
                f"detail[{key!r}] looks like free text or an e-mail address; log ids instead"
            )
        return
    raise AuditDetailRejected(
        f"detail[{key!r}] is a {type(value).__name__}; only ids, numbers and short names"
    )


def _clean_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    detail = dict(detail or {})
    if len(detail) > MAX_DETAIL_KEYS:
        raise AuditDetailRejected(f"detail has {len(detail)} keys; at most {MAX_DETAIL_KEYS}")
    for key, value in detail.items():
        if not isinstance(key, str):
            raise AuditDetailRejected("detail keys are strings")
        if isinstance(value, list | tuple):
            for item in value:
                _check_value(key, item)
            detail[key] = list(value)
        else:
            _check_value(key, value)
    return detail


# The client IP of the request being served, set by `AuditContextMiddleware`; None
# outside a request (tasks, commands).
_request_ip: ContextVar[str | None] = ContextVar("audit_request_ip", default=None)


class AuditContextMiddleware:
    """Makes the request's IP available to `record()` without passing the request down
    through services. REMOTE_ADDR only: behind a proxy, configure the proxy to set it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)


def record(
    *,
    action: str,
    actor_user_id: int | None,
    subject_user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event in the current tenant (or the platform's, when none).
    `action` is a dotted verb such as "client.view", "consent.withdraw", "export.build";
    `detail` carries ids and names of things, never health data or free text."""
    from coaching.models import AuditEvent

    if not action or len(action) > 64:
        raise ValueError(f"action must be a short dotted verb like 'client.view', not {action!r}")
    AuditEvent.objects.create(
        tenant=get_current_tenant(),
        actor_user_id=actor_user_id,
        subject_user_id=subject_user_id,
        action=action,
        detail=_clean_detail(detail),
        ip=_request_ip.get(),
    )


def record_client_view(*, actor_user_id: int | None, athlete: Any, page: str) -> None:
    """Log that someone opened `page` of `athlete` (an AthleteProfile), unless it is the
    athlete themselves: a client reading their own page is not an access to audit."""
    if athlete.user_id == actor_user_id:
        return
    record(
        action="client.view",
        actor_user_id=actor_user_id,
        subject_user_id=athlete.user_id,
        detail={"page": page, "athlete_id": athlete.pk},
    )


def audit_events(
    tenant: Any = None,
    action: str | None = None,
    since: datetime.datetime | None = None,
) -> QuerySet:
    """Audit events, newest first, optionally of one tenant (a Tenant or its id), one
    action (or an action prefix ending in ".", e.g. "client.") and from `since` on.

    Platform code: the log is not under row-level security, so a tenant-facing page must
    always pass its own tenant."""
    from coaching.models import AuditEvent

    events = AuditEvent.objects.all()
    if tenant is not None:
        events = events.filter(tenant_id=getattr(tenant, "pk", tenant))
    if action:
        if action.endswith("."):
            events = events.filter(action__startswith=action)
        else:
            events = events.filter(action=action)
    if since is not None:
        events = events.filter(at__gte=since)
    return events
