"""`manage.py bench_nightly --subscribers N`: the nightly pipeline's numbers (issue 9,
Benchmark). Prints numbers; asserts nothing.

Creates a throw-away tenant with N synthetic subscribers (8 weeks of check-ins with HRV,
sleep and weigh-ins; enrolled, assessed, a block generated), starts `--workers` real
Celery worker processes on the configured broker and database, runs one night through
the registered steps (the real ones: programs, nutrition), and prints wall time,
subscribers/s, SQL queries per subscriber, p50/p95 ms per step and peak worker RSS.
The tenant is deleted afterwards unless `--keep`.

Coaching may not import the apps it benchmarks, so the synthetic history goes through
the subscriber source and the apps' services found by name at run time
(`django.utils.module_loading.import_string`), the same plug-in rule the frame follows.
"""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils.module_loading import import_string

from coaching import nightly, services
from coaching.models import Membership, NightlyStep, Tenant
from coaching.tasks import nightly_chunk
from coaching.tenancy import tenant_context

PROJECT_DIR = Path(settings.BASE_DIR)
CELERY_BIN = Path(sys.executable).with_name("celery")
HISTORY_DAYS = 56


def _percentile(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


class Command(BaseCommand):
    help = "Benchmark the nightly pipeline on real workers with synthetic subscribers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=200)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--chunk-size", type=int, default=settings.NIGHTLY_CHUNK_SIZE)
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic tenant.")
        parser.add_argument("--timeout", type=int, default=3600)

    def handle(self, *args, **options) -> None:
        n = options["subscribers"]
        if n < 1:
            raise CommandError("--subscribers must be at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError("bench_nightly needs PostgreSQL (DATABASE_URL).")
        if settings.CELERY_BROKER_URL.startswith("memory"):
            raise CommandError("bench_nightly needs a real broker (CELERY_BROKER_URL).")
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        tenant = Tenant.objects.create(slug=slug, name="Nightly bench", timezone="UTC")
        try:
            self._bench(tenant, n, options)
        finally:
            if not options["keep"]:
                # The consent ledger refuses deletes except inside an erasure.
                with tenant_context(tenant), transaction.atomic():
                    import_string("athletes.consent.ledger_erasure_allow")()
                    Tenant.objects.filter(pk=tenant.pk).delete()

    # --- setup ------------------------------------------------------------------------

    def _setup(self, tenant: Tenant, n: int) -> datetime.date:
        from coaching.methodology import default_rules

        AthleteProfile = apps.get_model("athletes", "AthleteProfile")
        Enrolment = apps.get_model("athletes", "Enrolment")
        CheckIn = apps.get_model("athletes", "CheckIn")
        Exercise = apps.get_model("programs", "Exercise")
        seed_consents = import_string("athletes.consent.consents_seed_granted")
        assessment_create = import_string("athletes.services.assessment_create")
        lift_add = import_string("programs.services.assessment_lift_add")
        block_generate = import_string("programs.services.block_generate")
        library_install = import_string("programs.services.exercise_library_install")

        night = nightly.tenant_local_today(tenant) - datetime.timedelta(days=1)
        start = night - datetime.timedelta(days=7)
        with tenant_context(tenant):
            methodology = services.methodology_create(
                name="Bench strength", slug="bench-strength", discipline="strength"
            )
            version = services.version_draft_create(
                methodology=methodology, rules=default_rules("strength")
            )
            version = services.version_publish(version=version)
            tier = services.tier_create(
                methodology=methodology, name="DIY", slug="bench-diy",
                price=Decimal("29.00"), autonomy="auto",
            )  # fmt: skip
            library_install()
            squat = Exercise.objects.get(slug="back-squat")
            users = get_user_model().objects.bulk_create(
                [get_user_model()(username=f"{tenant.slug}-{i}@bench.invalid") for i in range(n)]
            )
            Membership.objects.bulk_create([Membership(user=u, role="client") for u in users])
            weekdays = sorted({(night + datetime.timedelta(days=d)).weekday() for d in (1, 3, 5)})
            profiles = AthleteProfile.objects.bulk_create(
                [
                    AthleteProfile(
                        user=u, display_name=f"Bench {i}", discipline="strength",
                        sex="female" if i % 2 else "male",
                        birth_date=datetime.date(1985 + i % 20, 1 + i % 12, 1 + i % 28),
                        height_cm=Decimal(160 + i % 30), available_weekdays=weekdays,
                        session_minutes=75, equipment=["barbell", "rack", "bench", "dumbbell"],
                    )
                    for i, u in enumerate(users)
                ]
            )  # fmt: skip
            Enrolment.objects.bulk_create(
                [
                    Enrolment(athlete=p, tier=tier, methodology_version=version, started=start)
                    for p in profiles
                ]
            )
            seed_consents(profiles)
            rows = []
            for i, profile in enumerate(profiles):
                for k in range(HISTORY_DAYS):
                    day = night - datetime.timedelta(days=HISTORY_DAYS - 1 - k)
                    low = k >= HISTORY_DAYS - 3 and i % 3 == 0  # a third had a bad week
                    rows.append(
                        CheckIn(
                            athlete=profile, date=day,
                            sleep_hours=Decimal("6.5" if low else "7.5"), soreness=2 + low,
                            hrv_rmssd_ms=Decimal("40" if low else ("58" if k % 2 else "62")),
                            body_weight_kg=Decimal(f"{70 + i % 15 - k * 0.02:.1f}"),
                        )
                    )  # fmt: skip
            CheckIn.objects.bulk_create(rows, batch_size=5000)
            for profile in profiles:
                assessment = assessment_create(
                    athlete=profile, date=start - datetime.timedelta(days=3)
                )
                lift_add(
                    assessment=assessment, exercise=squat, weight_kg=Decimal("100"),
                    reps=5, rpe=Decimal("8"),
                )  # fmt: skip
                block_generate(athlete=profile, start_date=start)
        return night

    # --- workers ----------------------------------------------------------------------

    def _start_workers(self, count: int, queue: str, chunk_size: int) -> list:
        env = dict(os.environ)
        env.update(
            NIGHTLY_QUEUE=queue,
            NIGHTLY_CHUNK_SIZE=str(chunk_size),
            CELERY_TASK_ALWAYS_EAGER="false",
            PYTHONUNBUFFERED="1",
        )
        workers = []
        for i in range(count):
            log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)
            process = subprocess.Popen(  # noqa: S603 - our own celery executable
                [
                    str(CELERY_BIN), "-A", "config", "worker", "--pool=solo",
                    "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-gossip",
                    "--without-mingle", "--loglevel=WARNING", f"--hostname={queue}-{i}@%h",
                ],
                cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            workers.append((process, log))
        time.sleep(1)
        for process, log in workers:
            if process.poll() is not None:
                raise CommandError(
                    f"a worker exited at start: {Path(log.name).read_text()[-2000:]}"
                )
        return workers

    def _stop_workers(self, workers: list) -> None:
        for process, log in workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
            Path(log.name).unlink(missing_ok=True)

    # --- the run ----------------------------------------------------------------------

    def _bench(self, tenant: Tenant, n: int, options: dict) -> None:
        started = time.perf_counter()
        night = self._setup(tenant, n)
        setup_s = time.perf_counter() - started
        self.stdout.write(
            f"setup: {n} subscribers, {HISTORY_DAYS} days of history, {setup_s:.1f} s"
        )
        queue = f"bench-nightly-{uuid.uuid4().hex[:8]}"
        workers = self._start_workers(options["workers"], queue, options["chunk_size"])
        peak = {process.pid: 0 for process, _ in workers}
        try:
            with tenant_context(tenant):
                run, _ = nightly.run_get_or_create(date=night, trigger="manual")
                t0 = time.perf_counter()
                settings.NIGHTLY_CHUNK_SIZE = options["chunk_size"]  # this process fans out
                batches = nightly.run_start(run=run, send=False)
                results = [
                    nightly_chunk.apply_async(args=[tenant.pk, run.pk, b], queue=queue)
                    for b in batches
                ]
                deadline = time.monotonic() + options["timeout"]
                while not all(r.ready() for r in results):
                    for pid in peak:
                        peak[pid] = max(peak[pid], _rss_kb(pid))
                    if time.monotonic() > deadline:
                        raise CommandError("the run did not finish in time")
                    time.sleep(0.2)
                wall = time.perf_counter() - t0
                for pid in peak:
                    peak[pid] = max(peak[pid], _rss_kb(pid, "VmHWM"))
                failed_tasks = [r for r in results if r.failed()]
                if failed_tasks:
                    raise CommandError(
                        f"{len(failed_tasks)} chunk task(s) failed: {failed_tasks[0].result!r}"
                    )
                chunks = [r.get() for r in results]
                run.refresh_from_db()
                ms: dict[str, list[int]] = {}
                for step, value in NightlyStep.objects.filter(run=run).values_list("step", "ms"):
                    ms.setdefault(step, []).append(value)
        finally:
            self._stop_workers(workers)
        queries = sum(c["queries"] for c in chunks)
        self.stdout.write(nightly.progress_bar(run))
        self.stdout.write(
            f"wall {wall:.2f} s · {n / wall:.1f} subscribers/s · {options['workers']} workers · "
            f"{len(batches)} chunks of ≤{options['chunk_size']}"
        )
        self.stdout.write(f"SQL queries: {queries} total, {queries / n:.1f} per subscriber")
        for step, values in ms.items():
            self.stdout.write(
                f"step {step:<10} p50 {_percentile(values, 0.5):.0f} ms · "
                f"p95 {_percentile(values, 0.95):.0f} ms · mean {statistics.mean(values):.0f} ms"
            )
        self.stdout.write(
            "peak worker RSS: " + ", ".join(f"{kb / 1024:.0f} MB" for kb in peak.values())
        )
