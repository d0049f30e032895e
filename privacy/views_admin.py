"""The owners' data requests page (`/privacy/requests/`, issue 10): every export and
erasure request of the business, its state, due date and who asked, with a link to the
client's own privacy page (`/privacy/athlete/<id>/`) where owners act for them.

The one action here is cancelling a scheduled erasure, which owners and admins may
already do for a client on that page (`privacy.services.erasure_cancel`, audited, and
the client is e-mailed). Owners and admins only; anyone else gets the 404 a stranger
gets. Thin: selectors read, services write."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from coaching import selectors as coaching_selectors
from coaching.models import Membership
from privacy import selectors, services
from privacy.models import DataRequest

PAGE_SIZE = 25


class RequestFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "Exports and erasures")]
        + [(k.value, k.label) for k in DataRequest.Kind if k != DataRequest.Kind.TENANT],
    )
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Any status"), *DataRequest.Status.choices],
    )


def _owner_or_admin(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if request.tenant is None or membership is None or membership.role not in selectors.ADMIN_ROLES:
        raise Http404("No such page.")
    return membership


def _asker(row: DataRequest, members: dict[int, Membership]) -> str:
    """Who asked, as the owner knows them: the client, a member of staff, or the system
    (retention runs and account deletion ask with no person behind them)."""
    if row.requested_by is None:
        return "Automatic (retention)"
    if row.athlete is not None and row.requested_by == row.athlete.user_id:
        return "The client"
    member = members.get(row.requested_by)
    if member is None:
        return f"User #{row.requested_by} (no longer a member)"
    return f"{coaching_selectors.client_label(member)} ({member.get_role_display().lower()})"


@login_required
def data_requests(request: HttpRequest) -> HttpResponse:
    _owner_or_admin(request)
    form = RequestFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request, "privacy/requests.html", {"form": form, "rows": [], "page": None}, status=400
        )
    filters = form.cleaned_data if form.is_bound else {}
    rows = selectors.data_requests_of_tenant(
        kind=filters.get("kind", ""), status=filters.get("status", "")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    members = selectors.members_by_user_id([r.requested_by for r in page if r.requested_by])
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "privacy/requests.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "row": row,
                    "asker": _asker(row, members),
                    "cancellable": row.kind == DataRequest.Kind.ERASURE
                    and row.status == DataRequest.Status.SCHEDULED,
                }
                for row in page
            ],
            "query": urlencode(query),
            "grace_days": services.ERASURE_GRACE.days,
        },
    )


@login_required
@require_POST
def data_request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    """Cancel a scheduled erasure on the client's behalf (e.g. they asked by phone)."""
    _owner_or_admin(request)
    row = selectors.data_requests_of_tenant().filter(pk=request_id).first()
    if row is None:
        raise Http404("No such request.")
    try:
        services.erasure_cancel(request=row, by=request.user.pk)
    except services.PrivacyError as exc:
        messages.error(request, exc.message)
    else:
        name = row.athlete.display_name if row.athlete else "the client"
        messages.success(request, f"Erasure of {name}'s data cancelled; they are told by e-mail.")
    return redirect("data_requests")
