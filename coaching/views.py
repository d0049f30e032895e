from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coaching import health, selectors
from coaching.methodology import rules_diff
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
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
    context = {"role": membership.role}
    if membership.role in ("owner", "coach", "admin"):
        context["clients"] = selectors.members_of_tenant(role="client")
    return render(request, "coaching/tenant_home.html", context)


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
        },
    )
