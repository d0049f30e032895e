"""Where a tenant lives: a path prefix in local/dev, a subdomain in production."""

from django.conf import settings

from coaching.models import Tenant


def tenant_home_url(tenant: Tenant) -> str:
    if settings.TENANT_PATH_PREFIX_ENABLED:
        return f"/t/{tenant.slug}/"
    return f"https://{tenant.slug}.{settings.TENANT_BASE_DOMAIN}/"
