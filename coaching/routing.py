"""Where a tenant lives: a path prefix in local/dev, a subdomain in production."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest

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


#: Where a client member goes from the tenant home while their onboarding is unfinished.
#: Athletes knows the steps (profile, consent, payment, questionnaire) but coaching may
#: not import it, so it registers a function here from `AppConfig.ready()`.
ClientNextStep = Callable[[HttpRequest], "str | None"]
_client_next_steps: list[ClientNextStep] = []


def register_client_next_step(fn: ClientNextStep) -> None:
    if fn not in _client_next_steps:
        _client_next_steps.append(fn)


def client_next_step(request: HttpRequest) -> str | None:
    """The URL of the first unfinished onboarding step, or None when there is none."""
    for fn in _client_next_steps:
        url = fn(request)
        if url:
            return url
    return None
