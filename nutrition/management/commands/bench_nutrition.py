"""`manage.py bench_nutrition`: what planning costs per athlete through the service, with
every query, on the data in the database (e.g. the demo).

For each athlete with a body weight it times `nutrition_refresh` twice: re-planning all
7 days (what a preference change costs), then again with nothing changed (what most
nights cost, since the night re-plans only days whose target moved). Everything runs in
one transaction that is rolled back, so the data is left as it was.
"""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from athletes.models import AthleteProfile
from coaching.selectors import all_tenants
from coaching.tenancy import tenant_context
from nutrition import services


class _Rollback(Exception):
    pass


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Command(BaseCommand):
    help = "Time nutrition_refresh per athlete (full re-plan and unchanged night); rolls back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="at most this many athletes")

    def handle(self, *args: object, **options: object) -> None:
        limit = int(options["limit"])  # type: ignore[call-overload]
        if limit < 1:
            raise CommandError(f"--limit must be at least 1 (got {limit})")
        full, quiet, queries, skipped = [], [], [], 0
        try:
            with transaction.atomic():
                for tenant in all_tenants():
                    with tenant_context(tenant):
                        for athlete in AthleteProfile.objects.order_by("pk"):
                            if len(full) >= limit:
                                break
                            start = timezone.localdate()
                            try:
                                t0 = time.perf_counter()
                                with CaptureQueriesContext(connection) as ctx:
                                    services.nutrition_refresh(
                                        athlete=athlete, start=start, replan=True
                                    )
                                full.append((time.perf_counter() - t0) * 1000)
                                queries.append(len(ctx.captured_queries))
                            except services.NoBodyWeight:
                                skipped += 1
                                continue
                            t0 = time.perf_counter()
                            services.nutrition_refresh(athlete=athlete, start=start)
                            quiet.append((time.perf_counter() - t0) * 1000)
                raise _Rollback
        except _Rollback:
            pass
        if not full:
            raise CommandError("No athlete with a body weight: seed the demo first.")
        out = self.stdout.write
        out(f"Athletes: {len(full)} (skipped without a body weight: {skipped})")
        out(
            f"Re-plan 7 days:        p50 {statistics.median(full):.0f} ms, "
            f"p95 {_p(full, 0.95):.0f} ms, max {max(full):.0f} ms"
        )
        out(
            f"Unchanged night:       p50 {statistics.median(quiet):.0f} ms, "
            f"p95 {_p(quiet, 0.95):.0f} ms"
        )
        out(f"Queries per re-plan:   min {min(queries)}, max {max(queries)}")
