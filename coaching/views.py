import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coaching import health, selectors, services
from coaching.errors import DomainError
from coaching.methodology import describe_change, rules_diff
from coaching.models import Alert, Membership
from coaching.routing import tenant_home_url
from coaching.tenancy import get_current_tenant


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health.check_all()
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ok" if not down else "down", "checks": checks, "down": down}
    return JsonResponse(body, status=503 if down else 200)


def home(request: HttpRequest) -> HttpResponse:
    """A tenant's public page for non-members; otherwise the signed-in home."""
    if request.tenant is not None and request.membership is None:
        from coaching.views_lifecycle import landing

        return landing(request)
    return _home(request)


@login_required
def _home(request: HttpRequest) -> HttpResponse:
    """Platform landing after login: straight into the only tenant, or a picker."""
    if request.tenant is not None:
        return tenant_home(request)
    memberships = selectors.memberships_of_user_across_tenants(request.user)
    if len(memberships) == 1:
        return redirect(tenant_home_url(memberships[0].tenant))
    choices = [(m, tenant_home_url(m.tenant)) for m in memberships]
    return render(request, "coaching/tenant_picker.html", {"choices": choices})


@login_required
def tenant_home(request: HttpRequest) -> HttpResponse:
    if request.tenant is None or request.membership is None:
        raise Http404("No such coaching business.")
    membership = request.membership
    if membership.role == Membership.Role.CLIENT:
        from coaching.routing import client_next_step

        # An unfinished onboarding (profile, consent, payment, questionnaire) comes first;
        # an onboarded client's home is their day.
        return redirect(client_next_step(request) or "today")
    # Staff start from their clients; the section bar leads everywhere else.
    from coaching.views_dashboard import coach_dashboard

    return coach_dashboard(request)


@staff_member_required
def admin_tenant_select(request: HttpRequest) -> HttpResponse:
    """Staff choose which tenant the admin shows; the choice is kept in their session."""
    from coaching.admin import ADMIN_TENANT_SESSION_KEY

    if request.method == "POST":
        tenant = selectors.tenant_by_slug(request.POST.get("slug", ""))
        if tenant is None:
            messages.error(request, "No such tenant.")
        else:
            request.session[ADMIN_TENANT_SESSION_KEY] = tenant.pk
            messages.success(request, f"Admin now shows {tenant.name}.")
            return redirect("admin:index")
    return render(
        request,
        "admin/tenant_select.html",
        {
            "tenants": selectors.all_tenants(),
            "current": get_current_tenant(),
            "title": "Choose a tenant",
            "site_header": "Platform admin",
        },
    )


@login_required
def methodology_versions(request: HttpRequest, methodology_id: int) -> HttpResponse:
    """A methodology's versions, and what changed between two of them (?from=&to=)."""
    membership = request.membership
    if membership is None:
        raise Http404("No such coaching business.")
    methodology = selectors.methodologies().filter(pk=methodology_id).first()
    if methodology is None:
        raise Http404("No such methodology.")
    versions = list(selectors.versions_of(methodology, membership=membership))
    by_id = {str(v.pk): v for v in versions}
    newer = by_id.get(request.GET.get("to", "")) or (versions[0] if versions else None)
    older = by_id.get(request.GET.get("from", "")) or next(
        (v for v in versions if newer and v.number < newer.number), None
    )
    changes = rules_diff(older.rules, newer.rules) if older and newer else []
    return render(
        request,
        "coaching/methodology_versions.html",
        {
            "methodology": methodology,
            "versions": versions,
            "older": older,
            "newer": newer,
            "changes": changes,
            "sentences": [describe_change(change) for change in changes],
        },
    )


# --- alerts: coach by exception -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EvidenceDisplay:
    """An alert's evidence laid out for people: the rule, its parameters, the data
    points as a table, and whatever else the detector attached."""

    rule: str
    params: list[tuple[str, str]]
    columns: list[str]
    rows: list[list[str]]
    other: list[tuple[str, str]]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def evidence_display(evidence: Any) -> EvidenceDisplay:
    if not isinstance(evidence, dict):
        return EvidenceDisplay(
            rule="", params=[], columns=[], rows=[], other=[("", _cell(evidence))]
        )
    params = evidence.get("params")
    params = list(params.items()) if isinstance(params, dict) else []
    points = evidence.get("points")
    points = points if isinstance(points, list) else []
    columns: list[str] = []
    if points and all(isinstance(p, dict) for p in points):
        for point in points:
            columns.extend(key for key in point if key not in columns)
        rows = [[_cell(point.get(c)) for c in columns] for point in points]
    elif points and all(isinstance(p, list) for p in points):
        columns = [str(i + 1) for i in range(max(len(p) for p in points))]
        rows = [[_cell(v) for v in p] + [""] * (len(columns) - len(p)) for p in points]
    else:
        columns = ["value"] if points else []
        rows = [[_cell(p)] for p in points]
    known = {"rule", "params", "points"}
    return EvidenceDisplay(
        rule=_cell(evidence["rule"]) if "rule" in evidence else "",
        params=[(str(k), _cell(v)) for k, v in params],
        columns=columns,
        rows=rows,
        other=[(str(k), _cell(v)) for k, v in evidence.items() if k not in known],
    )


def _staff_member(request: HttpRequest) -> Membership:
    membership = request.membership
    if request.tenant is None or membership is None or membership.role not in selectors.STAFF_ROLES:
        raise Http404("No such page.")
    return membership


def _alert_rows(alerts: list[Alert]) -> list[dict[str, Any]]:
    return [
        {
            "alert": alert,
            "client": selectors.client_label(alert.client),
            "evidence": evidence_display(alert.evidence),
        }
        for alert in alerts
    ]


def _decision_context(today: datetime.date) -> dict[str, Any]:
    return {
        "snooze_default": today + datetime.timedelta(days=7),
        "snooze_min": today + datetime.timedelta(days=1),
    }


@login_required
def alerts_inbox(request: HttpRequest) -> HttpResponse:
    """Today's inbox for a coach or owner: ranked, at most their budget, each alert with
    its evidence; the overflow is listed by title (and e-mailed in the daily digest)."""
    membership = _staff_member(request)
    today = selectors.tenant_today(request.tenant)
    inbox = selectors.alert_inbox(membership, today)
    return render(
        request,
        "coaching/alerts.html",
        {
            "inbox": inbox,
            "rows": _alert_rows(inbox.shown),
            "digest_rows": _alert_rows(inbox.digest),
            **_decision_context(today),
        },
    )


@login_required
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    membership = _staff_member(request)
    alert = selectors.alerts_visible_to(membership).filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No such alert.")
    today = selectors.tenant_today(request.tenant)
    return render(
        request,
        "coaching/alert_detail.html",
        {"row": _alert_rows([alert])[0], **_decision_context(today)},
    )


_DONE = {"acknowledge": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}


@login_required
@require_POST
def alert_decide(request: HttpRequest, alert_id: int, decision: str) -> HttpResponse:
    """The inbox buttons: acknowledge, snooze (until a date), resolve."""
    membership = _staff_member(request)
    alert = selectors.alerts_visible_to(membership).filter(pk=alert_id).first()
    if alert is None or decision not in _DONE:
        raise Http404("No such alert.")
    try:
        if decision == "acknowledge":
            services.alert_acknowledge(alert=alert, by=membership)
        elif decision == "resolve":
            services.alert_resolve(alert=alert, by=membership)
        else:
            try:
                until = datetime.date.fromisoformat(request.POST.get("until", ""))
            except ValueError as exc:
                raise services.AlertInvalid("Pick the day the alert should come back.") from exc
            services.alert_snooze(alert=alert, by=membership, until=until)
    except DomainError as exc:
        details = " ".join(m for texts in exc.fields.values() for m in texts)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, f"{alert.title} — {_DONE[decision]}.")
    if request.POST.get("next") == "detail":
        return redirect("alert_detail", alert_id=alert.pk)
    return redirect("alerts")


# --- the nightly pipeline: progress for owners, admins and platform staff -----------

NIGHTLY_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _nightly_viewer(request: HttpRequest) -> None:
    """Owners and admins of the tenant, and platform staff (with TOTP); everyone else gets
    the same 404 as a stranger."""
    from coaching.access import user_has_mfa

    if request.tenant is None:
        raise Http404("No such page.")
    membership = request.membership
    if membership is not None and membership.role in NIGHTLY_ROLES:
        return
    if request.user.is_staff and user_has_mfa(request.user):
        return
    raise Http404("No such page.")


def _nightly_run(request: HttpRequest, run_id: int) -> Any:
    """The tenant's run for the run pages, for those `_nightly_viewer` lets in; else 404."""
    from coaching import nightly

    _nightly_viewer(request)
    run = nightly.run_by_id(run_id)
    if run is None:
        raise Http404("No such run.")
    return run


@login_required
@require_GET
def nightly_runs(request: HttpRequest) -> HttpResponse:
    """The tenant's nights, newest first; unfinished ones poll their progress (htmx)."""
    from coaching import nightly

    _nightly_viewer(request)
    runs = list(nightly.runs()[:30])
    return render(request, "coaching/nightly.html", {"runs": runs})


@login_required
@require_GET
def nightly_run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress bar of one run (the fragment htmx swaps in every few seconds)."""
    run = _nightly_run(request, run_id)
    return render(request, "coaching/nightly_progress.html", {"run": run})


@login_required
@require_GET
def nightly_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """One run: its counts, and each failed subscriber with the step and the error."""
    from coaching import nightly

    run = _nightly_run(request, run_id)
    failures = list(nightly.failures_of(run).select_related("athlete"))
    return render(
        request,
        "coaching/nightly_run.html",
        {"run": run, "failures": nightly_failure_rows(failures)},
    )


@login_required
@require_POST
def nightly_run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    """Send the run's failed subscribers through their night again (after a fix)."""
    from coaching import nightly

    run = _nightly_run(request, run_id)
    retried = nightly.run_retry_failed(run=run)
    if retried:
        nightly.run_start(run=run, only=retried)
        messages.success(request, f"Retrying {len(retried)} failed subscriber(s).")
    else:
        messages.info(request, "No failed subscriber to retry.")
    return redirect("nightly_run", run_id=run.pk)


def nightly_failure_rows(failures: list[Any]) -> list[dict[str, Any]]:
    """Failures with the client named as the inbox names them (never in logs)."""
    from coaching import nightly

    members = nightly.memberships_by_user_ids([f.athlete.user_id for f in failures])
    return [
        {
            "step": failure,
            "client": (
                selectors.client_label(members[failure.athlete.user_id])
                if failure.athlete.user_id in members
                else f"athlete {failure.athlete_id}"
            ),
        }
        for failure in failures
    ]
