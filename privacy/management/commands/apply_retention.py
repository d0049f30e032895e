"""Apply each tenant's retention policy: `manage.py apply_retention [--tenant SLUG] [--apply]`.

Dry run by default: prints every tenant's policy and the clients it would erase (athlete
id, why, since when), erasing nothing. `--apply` erases them now, like the scheduled
`privacy.retention_run` task. Ids only: the report goes to terminals and logs.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from coaching import selectors as coaching_selectors
from coaching.tenancy import tenant_context
from privacy import services

_REASONS = {
    "enrolment_ended": "last enrolment ended",
    "subscription_ended": "subscription ended",
    "never_enrolled": "never enrolled, profile created",
}


class Command(BaseCommand):
    help = "Report (default) or apply (--apply) each tenant's retention policy."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant.")
        parser.add_argument("--apply", action="store_true", help="Erase the candidates now.")

    def handle(self, *args, tenant: str | None = None, apply: bool = False, **options) -> None:
        if tenant is not None:
            found = coaching_selectors.tenant_by_slug(tenant)
            if found is None:
                raise CommandError(f"Unknown tenant: {tenant}")
            tenants = [found]
        else:
            tenants = coaching_selectors.all_tenants()
        for each in tenants:
            with tenant_context(each):
                today = coaching_selectors.tenant_today(each)
                report = services.retention_apply(today, dry_run=not apply)
            self._print(report)

    def _print(self, report: services.RetentionReport) -> None:
        out = self.stdout.write
        state = "enabled" if report.enabled else "disabled"
        out(
            f"Tenant {report.tenant_slug}: erase after {report.inactive_months} months "
            f"inactive ({state}); inactive since before {report.cutoff.isoformat()}."
        )
        if not report.candidates:
            out("  No clients to erase.")
            return
        for candidate in report.candidates:
            if report.dry_run:
                outcome = "would erase"
            elif candidate.athlete_id in report.erased:
                outcome = f"erased (request {report.erased[candidate.athlete_id]})"
            else:
                outcome = "FAILED, retried next run"
            reason = _REASONS.get(candidate.reason, candidate.reason)
            out(
                f"  athlete {candidate.athlete_id}: {reason} {candidate.since.isoformat()}"
                f" - {outcome}"
            )
        verb = "Would erase" if report.dry_run else "Erased"
        count = len(report.candidates) if report.dry_run else len(report.erased)
        out(f"  {verb} {count} client(s).")
