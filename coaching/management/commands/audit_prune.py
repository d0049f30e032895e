"""Delete audit events older than the retention period: `manage.py audit_prune`.

The only deletion path of the append-only audit log (`AuditEventQuerySet.prune_older_than`).
Schedule it daily; `--dry-run` prints what would go.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from coaching.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit events older than settings.AUDIT_RETENTION_DAYS (default 730)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        days = int(getattr(settings, "AUDIT_RETENTION_DAYS", 730))
        cutoff = timezone.now() - datetime.timedelta(days=days)
        if dry_run:
            count = AuditEvent.objects.filter(at__lt=cutoff).count()
            self.stdout.write(f"Would delete {count} audit event(s) before {cutoff:%Y-%m-%d}.")
            return
        deleted = AuditEvent.objects.prune_older_than(cutoff)
        self.stdout.write(f"Deleted {deleted} audit event(s) before {cutoff:%Y-%m-%d}.")
