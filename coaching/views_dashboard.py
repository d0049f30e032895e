"""The coach dashboard: every client in one sortable, filterable table. The columns come
from the apps that own the data (coaching/dashboard.py); this view only reads the GET
parameters, builds the table and renders it, whole or (htmx) just the table."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from coaching import dashboard, selectors
from coaching.models import Membership


def _query_string(params: QueryDict, **changes: str) -> str:
    """A link to this page with `changes` applied to the current parameters."""
    merged = params.copy()
    for key, value in changes.items():
        merged[key] = value
    return "?" + merged.urlencode()


def _clean(params: QueryDict) -> QueryDict:
    kept = QueryDict(mutable=True)
    for key, value in params.items():
        if value:
            kept[key] = value
    return kept


def _headers(table: dashboard.Table, params: QueryDict) -> list[dict[str, str]]:
    """Each column's header: its sort link (a second click reverses) and aria-sort."""
    query = table.query
    headers = []
    numeric = {c.key: c.numeric for c in table.columns}
    for key, label in [("name", "Client"), *((c.key, c.label) for c in table.columns)]:
        current = query.sort == key
        direction = "asc" if (not current or query.descending) else "desc"
        headers.append(
            {
                "key": key,
                "label": label,
                "href": _query_string(_clean(params), sort=key, dir=direction),
                "aria_sort": (
                    ("descending" if query.descending else "ascending") if current else "none"
                ),
                "arrow": ("▼" if query.descending else "▲") if current else "",
                "numeric": numeric.get(key, False),
            }
        )
    return headers


@login_required
@require_GET
def coach_dashboard(request: HttpRequest) -> HttpResponse:
    """Owners, admins and coaches; clients and strangers get the same 404. A coach starts
    on their own (and unassigned) clients; `who=all` shows everyone."""
    membership = request.membership
    if request.tenant is None or membership is None or membership.role not in selectors.STAFF_ROLES:
        raise Http404("No such page.")
    query = dashboard.parse_query(
        request.GET, mine_default=membership.role == Membership.Role.COACH
    )
    table = dashboard.build_table(query, viewer_membership_id=membership.pk)
    filters = [
        {
            "key": c.key,
            "label": c.filter_label or c.label,
            "choices": table.choices.get(c.key, []),
            "selected": query.filters.get(c.key, ""),
        }
        for c in table.columns
        if c.filter_value is not None
    ]
    context = {
        "table": table,
        "headers": _headers(table, request.GET),
        "filters": filters,
        "query": query,
        "is_coach": membership.role == Membership.Role.COACH,
        # One reverse for every row's link (a hundred `{% url %}`s are a third of the render).
        "detail_prefix": reverse("client_detail", args=[0])[:-2],
    }
    if request.htmx and request.htmx.target == "client-table":
        return render(request, "coaching/dashboard_table.html", context)
    context["inbox"] = selectors.alert_inbox(membership, selectors.tenant_today(request.tenant))
    return render(request, "coaching/dashboard.html", context)
