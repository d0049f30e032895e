import pytest

from coaching.models import Membership
from coaching.tenancy import TenantNotSet, tenant_context


def test_membership_query_without_tenant_raises(db):
    with pytest.raises(TenantNotSet):
        list(Membership.objects.all())


def test_membership_visible_in_own_tenant(tenant_a, client_a, client_b):
    with tenant_context(tenant_a):
        assert [m.user.email for m in Membership.objects.all()] == ["client@alpha.test"]
