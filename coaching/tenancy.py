"""Tenant scoping for the ORM: the one place that decides whose rows a query sees.

When you add a model that holds a tenant's data, inherit `TenantScoped`. That gives it
an indexed `tenant` FK, a default manager that filters by the current tenant and raises
`TenantNotSet` when there is none, a save that stamps/validates the tenant, and (on
PostgreSQL) row-level security installed by `migrate` (`coaching.rls`). Put the tenant
first in every unique constraint (`tests/test_tenancy_schema.py` enforces it).

Crossing tenants is platform code only and must be visible in review: use
`Model.objects.unscoped()` or a function named `*_across_tenants` / `dangerously_*`.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from coaching.context import (  # noqa: F401 - the public tenancy API lives here
    TenantMismatch,
    TenantNotSet,
    current_tenant,
    current_tenant_id_or_none,
    get_current_tenant,
    tenant_context,
)


class TenantScopedQuerySet(models.QuerySet):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        for obj in objs:
            obj.assign_current_tenant()
        return super().bulk_create(objs, *args, **kwargs)


class TenantScopedManager(models.Manager.from_queryset(TenantScopedQuerySet)):
    """Default manager of every tenant table: filters by the current tenant or raises."""

    def get_queryset(self) -> TenantScopedQuerySet:
        return super().get_queryset().filter(tenant_id=current_tenant().pk)

    def unscoped(self) -> TenantScopedQuerySet:
        """Every tenant's rows (PostgreSQL RLS still applies to the app role)."""
        return super().get_queryset()


class TenantScoped(models.Model):
    tenant = models.ForeignKey(
        "coaching.Tenant", on_delete=models.CASCADE, related_name="+", db_index=True, editable=False
    )

    objects = TenantScopedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.assign_current_tenant()
        super().save(*args, **kwargs)

    def assign_current_tenant(self) -> None:
        tenant = current_tenant()
        if self.tenant_id is None:
            self.tenant = tenant
        elif self.tenant_id != tenant.pk:
            raise TenantMismatch(
                f"{type(self).__name__} belongs to tenant {self.tenant_id}, "
                f"context is tenant {tenant.pk}"
            )


def is_tenant_scoped(model: type[models.Model]) -> bool:
    return issubclass(model, TenantScoped)
