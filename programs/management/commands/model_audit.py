"""`manage.py model_audit --tenant SLUG`: the tenant's prediction-error bias audit.

Every group is printed, with its count; groups below the minimum are marked SMALL
rather than left out (SCIENCE.md §6).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching.models import Tenant
from programs.ml.common import fmt
from programs.services.learning import model_audit

LABELS = {"sex": "Sex", "age": "Age band", "training_age": "Training age (years)"}


class Command(BaseCommand):
    help = "Prediction error (MAE) of one tenant by sex, age band and training age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument(
            "--min-group", type=int, default=10, help="Groups smaller than this are SMALL."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        if options["min_group"] < 1:
            raise CommandError("--min-group must be at least 1.")
        report = model_audit(tenant, min_group=options["min_group"])
        out = self.stdout
        overall = "—" if report.overall_mae is None else f"{fmt(report.overall_mae, 2)} kg"
        out.write(
            f"Model audit for {tenant.slug}: {report.count} scored predictions, MAE {overall}"
        )
        dimension = None
        for group in report.groups:
            if group.dimension != dimension:
                dimension = group.dimension
                out.write(f"\n{LABELS.get(dimension, dimension)}")
                out.write(f"  {'group':<10} {'count':>6} {'MAE':>8}")
            mae = "—" if group.mae is None else fmt(group.mae, 2)
            flag = "  SMALL" if group.small else ""
            out.write(f"  {group.group:<10} {group.count:>6} {mae:>8}{flag}")
        out.write("")
        out.write(report.reason)
