"""The privacy page (`/privacy/`): request an export and download it, request or cancel
the erasure of one's data in this coaching business. Owners and admins act for a client
through `/privacy/athlete/<id>/`. Thin: selectors and services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from athletes.models import AthleteProfile
from coaching.access import user_has_mfa
from coaching.models import Membership
from privacy import offboarding, selectors, services
from privacy.models import DataRequest


def _membership(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    return membership


def _athlete(request: HttpRequest, athlete_id: int | None) -> AthleteProfile:
    athlete = selectors.athlete_for(_membership(request), athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    return athlete


def _home(athlete_id: int | None) -> str:
    if athlete_id is None:
        return reverse("privacy")
    return reverse("athlete_privacy", args=[athlete_id])


@login_required
def page(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    rows = []
    for row in selectors.requests_of(athlete)[:20]:
        link = None
        if row.status == DataRequest.Status.READY and not services.export_expired(row):
            link = reverse("privacy_download", args=[services.download_token(row)])
        rows.append({"row": row, "link": link})
    scheduled = next(
        (r["row"] for r in rows if r["row"].status == DataRequest.Status.SCHEDULED), None
    )
    context = {
        "athlete": athlete,
        "athlete_id": athlete_id,
        "requests": rows,
        "scheduled": scheduled,
        "grace_days": services.ERASURE_GRACE.days,
    }
    return render(request, "privacy/page.html", context)


@login_required
@require_POST
def export(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    services.export_request(athlete=athlete, requested_by=request.user.pk)
    messages.success(request, "Your export is being prepared; it appears here when ready.")
    return redirect(_home(athlete_id))


@login_required
@require_POST
def erasure(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    row = services.erasure_request(athlete=athlete, requested_by=request.user.pk)
    messages.warning(
        request, f"Erasure scheduled for {row.due_at:%d %b %Y}. You can cancel it until then."
    )
    return redirect(_home(athlete_id))


@login_required
@require_POST
def erasure_cancel(
    request: HttpRequest, request_id: int, athlete_id: int | None = None
) -> HttpResponse:
    athlete = _athlete(request, athlete_id)
    row = selectors.requests_of(athlete).filter(pk=request_id).first()
    if row is None:
        raise Http404("No such request.")
    try:
        services.erasure_cancel(request=row, by=request.user.pk)
    except services.PrivacyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Erasure cancelled; your data stays.")
    return redirect(_home(athlete_id))


@login_required
def download(request: HttpRequest, token: str) -> HttpResponse:
    """The ZIP behind a signed link: valid 24 h after the build, for the person it is
    about or the tenant's owners and admins, in this tenant only (else the same 404)."""
    membership = _membership(request)
    try:
        row = services.export_by_token(token)
    except services.PrivacyError:
        raise Http404("No such export.") from None
    path = services.export_path(row)
    if not selectors.may_download(membership, row) or not path.is_file():
        raise Http404("No such export.")
    services.export_downloaded(request=row, by=request.user.pk)
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"data-export-{row.pk}.zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def tenant_export_download(request: HttpRequest, token: str) -> HttpResponse:
    """An offboarded tenant's full export, for platform staff with two-factor login only,
    through a signed link valid 24 h; a platform URL (the tenant itself 404s). Anyone
    else, and any bad link, gets the same 404."""
    user = request.user
    if (
        getattr(request, "tenant", None) is not None
        or not user.is_authenticated
        or not user.is_staff
        or not user_has_mfa(user)
    ):
        raise Http404("No such export.")
    try:
        tenant, row = offboarding.tenant_export_by_token(token)
    except services.PrivacyError:
        raise Http404("No such export.") from None
    path = services.export_path(row)
    if not path.is_file():
        raise Http404("No such export.")
    offboarding.tenant_export_downloaded(tenant=tenant, request=row, by=user.pk)
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"tenant-export-{tenant.slug}.zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response
