"""Owners' and platform staff's pages (issue 10).

- `/audit/` (`audit_log`): the tenant's audit events for its owners and admins, filtered
  by action, actor and date range, a keyset page at a time, and the filtered range as
  CSV. Events show ids, roles and the row's own fields: no names or addresses are
  joined in (the log is evidence, not a directory).
- `/staff/tenants/` (`staff_tenants`): every business for platform staff (`is_staff`,
  with TOTP) outside any tenant: status, plan, clients; suspend and reactivate through
  `coaching.lifecycle`; offboarding stays in the Django admin (it has a confirmation
  and builds the export).

Everyone else gets the same 404 as a stranger. Thin: selectors read, lifecycle writes.
"""

from __future__ import annotations

import csv
import datetime
import json
import zoneinfo
from collections.abc import Iterator

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from coaching import audit, lifecycle, selectors
from coaching.access import user_has_mfa
from coaching.errors import DomainError
from coaching.models import Membership, Tenant
from coaching.routing import tenant_home_url

AUDIT_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)
AUDIT_PAGE_SIZE = 50


def _owner_or_admin(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if request.tenant is None or membership is None or membership.role not in AUDIT_ROLES:
        raise Http404("No such page.")
    return membership


# --- the audit log ---------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, label="Action")
    actor = forms.IntegerField(
        required=False, min_value=1, label="Actor (user id)", widget=forms.NumberInput()
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        prefixes = sorted({a.split(".", 1)[0] + "." for a in actions if "." in a})
        self.fields["action"].choices = [
            ("", "Any action"),
            ("All of a kind", [(p, f"{p}* (all)") for p in prefixes]),
            ("One action", [(a, a) for a in actions]),
        ]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def _parse_cursor(raw: str) -> tuple[datetime.datetime, int] | None:
    """`<microseconds since epoch>-<id>`; anything else is the first page."""
    try:
        micros, pk = raw.split("-", 1)
        at = datetime.datetime.fromtimestamp(int(micros) / 1_000_000, tz=datetime.UTC)
        return at, int(pk)
    except (ValueError, OverflowError, OSError):
        return None


def _format_cursor(cursor: tuple[datetime.datetime, int]) -> str:
    at, pk = cursor
    delta = at - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}-{pk}"


def _range(form: AuditFilterForm, tz: zoneinfo.ZoneInfo) -> dict:
    """The form's filters as selector arguments; dates are the business's calendar days."""
    data = form.cleaned_data
    start, end = data.get("date_from"), data.get("date_to")
    return {
        "action": data.get("action") or "",
        "actor_user_id": data.get("actor"),
        "since": datetime.datetime.combine(start, datetime.time(), tz) if start else None,
        "until": (
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), tz)
            if end
            else None
        ),
    }


def _detail_text(detail: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(detail.items()))


CSV_COLUMNS = ["at_utc", "action", "actor_user_id", "subject_user_id", "ip", "detail"]


def _csv_rows(events) -> Iterator[str]:
    """One line at a time: a year of events streams without being held in memory."""

    class _Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.at.astimezone(datetime.UTC).isoformat(),
                event.action,
                event.actor_user_id or "",
                event.subject_user_id or "",
                event.ip or "",
                json.dumps(event.detail, cls=DjangoJSONEncoder, sort_keys=True),
            ]
        )


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    me = _owner_or_admin(request)
    tenant = request.tenant
    tz = zoneinfo.ZoneInfo(tenant.timezone)
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions_of_tenant(tenant))
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "coaching/audit.html",
            {"form": form, "events": [], "timezone": tenant.timezone},
            status=400,
        )
    filters = _range(form, tz) if form.is_bound else {}
    events = selectors.audit_events_of_tenant(tenant, **filters)
    if request.GET.get("download") == "csv":
        # Taking the log away is itself an access worth tracing.
        audit.record(
            action="audit.download",
            actor_user_id=me.user_id,
            detail={
                "action": filters.get("action") or "",
                "actor_user_id": filters.get("actor_user_id"),
                "from": str(form.cleaned_data.get("date_from") or "") if form.is_bound else "",
                "to": str(form.cleaned_data.get("date_to") or "") if form.is_bound else "",
            },
        )
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{tenant.slug}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
    page, next_cursor = selectors.audit_events_page(
        events, before=_parse_cursor(request.GET.get("before", "")), size=AUDIT_PAGE_SIZE
    )
    roles = selectors.member_roles_by_user_id(
        [e.actor_user_id for e in page if e.actor_user_id]
        + [e.subject_user_id for e in page if e.subject_user_id]
    )
    rows = [
        {
            "event": event,
            "at": event.at.astimezone(tz),
            "actor_role": roles.get(event.actor_user_id, ""),
            "subject_role": roles.get(event.subject_user_id, ""),
            "detail": _detail_text(event.detail),
        }
        for event in page
    ]
    query = {k: v for k, v in request.GET.items() if k not in ("before", "download") and v}
    return render(
        request,
        "coaching/audit.html",
        {
            "form": form,
            "events": rows,
            "timezone": tenant.timezone,
            "filtered": bool(query),
            "first_url": f"?{urlencode(query)}" if query else "?",
            "next_url": (
                f"?{urlencode({**query, 'before': _format_cursor(next_cursor)})}"
                if next_cursor
                else ""
            ),
            "csv_url": f"?{urlencode({**query, 'download': 'csv'})}",
            "is_later_page": bool(request.GET.get("before")),
            "query": query,
        },
    )


# --- platform staff: every tenant -----------------------------------------------------------


class SuspendForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200, required=True)


def _platform_staff(request: HttpRequest) -> HttpResponse | None:
    """Staff with TOTP, on a platform URL (no tenant). Staff without TOTP set it up first,
    as for the Django admin; anyone else gets the 404 a missing page gets."""
    user = request.user
    if getattr(request, "tenant", None) is not None or not user.is_staff:
        raise Http404("No such page.")
    if not user_has_mfa(user):
        return redirect("mfa_activate_totp")
    return None


@login_required
def staff_tenants(request: HttpRequest) -> HttpResponse:
    redirected = _platform_staff(request)
    if redirected is not None:
        return redirected
    errors: dict[int, SuspendForm] = {}
    if request.method == "POST":
        target = selectors.tenant_by_id(_int(request.POST.get("tenant")))
        if target is None:
            raise Http404("No such business.")
        action = request.POST.get("action")
        if action not in ("suspend", "reactivate"):
            raise Http404("No such action.")
        form = SuspendForm(request.POST, auto_id=f"t{target.pk}_%s")
        try:
            if action == "reactivate":
                lifecycle.tenant_reactivate(tenant=target, by_user_id=request.user.pk)
                messages.success(request, f"{target.name} is active again.")
                return redirect("staff_tenants")
            if form.is_valid():
                lifecycle.tenant_suspend(
                    tenant=target,
                    reason=form.cleaned_data["reason"],
                    by_user_id=request.user.pk,
                )
                messages.success(request, f"{target.name} is suspended (read-only).")
                return redirect("staff_tenants")
        except DomainError as exc:
            if action == "reactivate":
                messages.error(request, exc.message)
                return redirect("staff_tenants")
            form.add_error("reason" if "reason" in exc.fields else None, exc.message)
        errors[target.pk] = form
    rows = selectors.tenants_all_for_staff()
    admin_list = reverse("admin:coaching_tenant_changelist")
    columns: list[str] = []
    for row in rows:
        for name in row.facts:
            if name not in columns:
                columns.append(name)
    return render(
        request,
        "coaching/staff_tenants.html",
        {
            "rows": [
                {
                    "row": row,
                    "facts": [row.facts.get(name, "") for name in columns],
                    "form": errors.get(row.tenant.pk)
                    or SuspendForm(auto_id=f"t{row.tenant.pk}_%s"),
                    "nightly_url": tenant_home_url(row.tenant) + "nightly/",
                    "admin_url": f"{admin_list}?{urlencode({'q': row.tenant.slug})}",
                    "live": row.tenant.status != Tenant.Status.OFFBOARDED,
                }
                for row in rows
            ],
            "columns": columns,
            "admin_list_url": admin_list,
        },
        status=400 if errors else 200,
    )


def _int(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0
