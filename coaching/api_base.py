"""The API's one base class and error body. Every tenant viewset starts with
`TenantScopedViewSet`.

The base owns `get_queryset`/`get_object`; subclasses narrow the rows in `scope_queryset`
(e.g. a client sees only their own) and never replace the lookup, so "not yours" and
"does not exist" stay the same 404. The tenant comes from the request's tenant context
(path prefix or X-Tenant), never from the body; foreign keys in bodies resolve within
the tenant through `TenantPrimaryKeyRelatedField`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request

from coaching import selectors
from coaching.access import needs_mfa
from coaching.api_conf import TenantNotFound
from coaching.models import Membership
from coaching.tenancy import get_current_tenant


class TenantScopedViewSet(viewsets.GenericViewSet):
    """Resolves the member, enforces MFA and read-only tenants, scopes every query."""

    #: Roles that may use this endpoint at all; others get the same 404 as a stranger.
    allowed_roles: tuple[str, ...] = tuple(Membership.Role.values)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        tenant = get_current_tenant()
        if tenant is None:
            raise TenantNotFound()
        membership = selectors.membership_for(request.user, tenant)
        if membership is None or membership.role not in self.allowed_roles:
            raise TenantNotFound()
        if needs_mfa(membership):
            raise exceptions.PermissionDenied(
                "Set up two-factor authentication before using this role.", code="mfa_required"
            )
        if not tenant.is_writable and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise exceptions.PermissionDenied(
                "This coaching business is suspended: its data is read-only.",
                code="tenant_read_only",
            )
        self.membership = membership
        request.membership = membership

    def base_queryset(self) -> QuerySet:
        return self.queryset.model.objects.all()

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow the tenant's rows for this member (hook for subclasses)."""
        return queryset

    def get_queryset(self) -> QuerySet:
        return self.scope_queryset(self.base_queryset())


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A FK in a request body that resolves only within the current tenant."""

    default_error_messages = {
        "does_not_exist": "No such object.",
        "incorrect_type": "Expected an id.",
    }

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model.objects
        super().__init__(**kwargs)
