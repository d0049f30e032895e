"""What tenancy costs per query: prints microseconds per statement for the same read
with no tenant machinery (platform table), inside one transaction (one set_config for
the whole block), and in autocommit (a transaction and a set_config per statement).
Run after `seed_demo`; reads only."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from coaching.models import Membership, Tenant
from coaching.tenancy import tenant_context


def _per_call_us(fn: Callable[[], object], iterations: int, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        samples.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(samples)


class Command(BaseCommand):
    help = "Measure the per-query cost of tenant scoping (ORM filter + RLS setting)."

    def add_arguments(self, parser):
        parser.add_argument("--iterations", type=int, default=1000)

    def handle(self, *args, iterations: int, **options):
        tenant = Tenant.objects.order_by("pk").first()
        if tenant is None:
            raise CommandError("No tenant in the database: run `manage.py seed_demo` first.")
        with tenant_context(tenant):
            member_pk = Membership.objects.values_list("pk", flat=True).first()
        if member_pk is None:
            raise CommandError(f"Tenant {tenant.slug} has no members: run seed_demo first.")

        def platform_read():
            Tenant.objects.filter(pk=tenant.pk).exists()

        def tenant_read():
            Membership.objects.filter(pk=member_pk).exists()

        with transaction.atomic():
            baseline = _per_call_us(platform_read, iterations)
        with tenant_context(tenant), transaction.atomic():
            in_transaction = _per_call_us(tenant_read, iterations)
        with tenant_context(tenant):
            autocommit = _per_call_us(tenant_read, iterations)

        self.stdout.write(f"database: {connection.vendor}, iterations: {iterations} x 5 (median)")
        self.stdout.write(f"platform table, no tenant machinery : {baseline:8.1f} us/query")
        self.stdout.write(f"tenant table, inside one transaction: {in_transaction:8.1f} us/query")
        self.stdout.write(f"tenant table, autocommit            : {autocommit:8.1f} us/query")
