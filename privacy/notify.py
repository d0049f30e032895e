"""The e-mails of data requests (issue 8): an export is ready, an erasure is scheduled,
is two days away, was cancelled. Plain text from `templates/privacy/email/`.

What goes out: the coaching business's name, dates and a link behind the login, never
health data (an e-mail leaves our systems). What is logged: the kind of mail and the
request id, never the address.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse

from coaching.models import Tenant
from coaching.routing import tenant_absolute_url
from privacy.models import DataRequest

logger = logging.getLogger(__name__)


def tenant_url(tenant: Tenant, name: str, *args: object) -> str:
    """An absolute link to a page of `tenant`, for e-mails (no request to build it from)."""
    path = reverse(name, args=args)
    prefix = get_script_prefix()  # inside a tenant's request: "/t/<slug>/"
    path = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
    return tenant_absolute_url(tenant, path)


def _local(tenant: Tenant, value: datetime.datetime) -> str:
    """A time as the person's coaching business shows it, with the zone named."""
    local = value.astimezone(zoneinfo.ZoneInfo(tenant.timezone))
    return f"{local:%d %b %Y, %H:%M} ({tenant.timezone})"


def _send(kind: str, request: DataRequest, subject: str, context: dict[str, object]) -> bool:
    athlete = request.athlete
    address = athlete.user.email if athlete is not None else ""
    if not address:
        logger.warning("privacy mail %s not sent: request %s has no address", kind, request.pk)
        return False
    tenant = Tenant.objects.get(pk=request.tenant_id)
    body = render_to_string(f"privacy/email/{kind}.txt", {"tenant": tenant, **context})
    send_mail(f"{tenant.name}: {subject}", body, None, [address])
    logger.info("privacy mail %s sent: request %s", kind, request.pk)
    return True


def export_ready(request: DataRequest, *, link: str, expires: datetime.datetime) -> bool:
    tenant = Tenant.objects.get(pk=request.tenant_id)
    return _send(
        "export_ready",
        request,
        "your data export is ready",
        {"link": link, "expires": _local(tenant, expires)},
    )


def _erasure(kind: str, subject: str, request: DataRequest, link: str) -> bool:
    tenant = Tenant.objects.get(pk=request.tenant_id)
    due = _local(tenant, request.due_at) if request.due_at else ""
    return _send(kind, request, subject, {"link": link, "due": due})


def erasure_scheduled(request: DataRequest, *, link: str) -> bool:
    return _erasure("erasure_scheduled", "your data will be erased", request, link)


def erasure_reminder(request: DataRequest, *, link: str) -> bool:
    return _erasure("erasure_reminder", "your data is erased in two days", request, link)


def erasure_cancelled(request: DataRequest, *, link: str) -> bool:
    return _erasure("erasure_cancelled", "erasure cancelled", request, link)
