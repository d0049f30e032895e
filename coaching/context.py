"""The current tenant, as a context variable. Free of model imports so the database
backend can read it while Django is still loading; import the public API from
`coaching.tenancy`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coaching.models import Tenant


class TenantNotSet(RuntimeError):
    """A tenant-scoped query ran with no tenant in context: a bug, never a user error."""


class TenantMismatch(RuntimeError):
    """An object of one tenant was about to be written while another is in context."""


_current_tenant: ContextVar[Tenant | None] = ContextVar("current_tenant", default=None)


def get_current_tenant() -> Tenant | None:
    return _current_tenant.get()


def current_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantNotSet("no tenant in context; enter tenant_context(tenant) first")
    return tenant


def current_tenant_id_or_none() -> int | None:
    tenant = _current_tenant.get()
    return tenant.pk if tenant is not None else None


@contextlib.contextmanager
def tenant_context(tenant: Tenant | None) -> Iterator[Tenant | None]:
    """Run the block as `tenant` (or explicitly as no tenant, with None).

    The database layer follows the context variable: every transaction that runs while
    it is set gets `app.tenant_id` (see `coaching.dbbackend`).
    """
    token = _current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)
