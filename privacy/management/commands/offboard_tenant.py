"""Offboard a tenant: `manage.py offboard_tenant SLUG --reason "..."`; print its export's
staff download link: `manage.py offboard_tenant SLUG --link`.

Offboarding closes the tenant at once (its pages 404), queues its full export and sets
the day after which `privacy.tenants_delete_due` deletes its data
(TENANT_OFFBOARD_RETENTION_DAYS). The link opens for platform staff with two-factor
login, for 24 hours.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from coaching import selectors as coaching_selectors
from privacy import offboarding


class Command(BaseCommand):
    help = "Offboard a tenant (--reason), or print its export's staff link (--link)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--reason", help="Why (kept on the tenant, up to 200 characters).")
        parser.add_argument("--link", action="store_true", help="Print the export's link.")

    def handle(self, *args, slug: str, reason: str | None, link: bool, **options) -> None:
        tenant = coaching_selectors.tenant_by_slug(slug)
        if tenant is None:
            raise CommandError(f"Unknown tenant: {slug}")
        if link:
            row = offboarding.tenant_export_of(tenant)
            if row is None:
                raise CommandError(f"Tenant {slug} has no offboarding export: offboard it first.")
            try:
                path = offboarding.tenant_export_url(row)
            except offboarding.OffboardingError as exc:
                raise CommandError(f"{exc.message} (status: {row.status})") from None
            self.stdout.write(f"{path}  (valid 24 h; staff with two-factor login only)")
            return
        if not reason:
            raise CommandError("Give --reason (why the tenant is offboarded), or --link.")
        try:
            row = offboarding.tenant_offboard(tenant=tenant, by_user_id=None, reason=reason)
        except offboarding.OffboardingError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Tenant {slug} offboarded: export request {row.pk} queued; data deleted after "
            f"{tenant.delete_after.isoformat()}."
        )
