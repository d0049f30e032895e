"""Where a tenant lives: a path prefix in local/dev, a subdomain in production."""

from django.conf import settings

from coaching.models import Tenant


def tenant_home_url(tenant: Tenant) -> str:
    if settings.TENANT_PATH_PREFIX_ENABLED:
        return f"/t/{tenant.slug}/"
    return f"https://{tenant.slug}.{settings.TENANT_BASE_DOMAIN}/"


def tenant_absolute_url(tenant: Tenant, path: str = "") -> str:
    """A link that works outside a request (e-mails): `PUBLIC_BASE_URL` in front of the
    path prefix locally; the tenant's own subdomain in production."""
    home = tenant_home_url(tenant)
    if home.startswith("/"):
        home = settings.PUBLIC_BASE_URL.rstrip("/") + home
    return home + path.lstrip("/")
