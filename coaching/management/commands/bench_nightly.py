"""`manage.py bench_nightly --subscribers N`: the nightly pipeline's numbers (issue 9,
Benchmark). Prints numbers; asserts nothing.

Creates a throw-away tenant with N synthetic subscribers in bulk inserts (8 weeks of
check-ins with HRV, sleep and weigh-ins, and of logged strength sessions; enrolled,
assessed, a four-week block: see `_setup`), starts `--workers` real Celery worker
processes on the configured broker and database, runs one night through the registered
steps (the real ones: programs, nutrition), and prints wall time, subscribers/s, SQL
queries per subscriber, p50/p95 ms per step and peak worker RSS. `--warm-nights K` runs
the K nights before it first, unmeasured: the first night of a subscriber fits their
models and plans seven days of meals; later nights refit weekly and replan only what
changed. The tenant is deleted afterwards unless `--keep`.

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
GROUP = 500  # athletes per round of bulk inserts (bounds the setup's memory)
BATCH = 5000  # rows per INSERT


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


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat). Unlike wall time,
    barely moved by other load on a shared machine, so nights compare across runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Command(BaseCommand):
    help = "Benchmark the nightly pipeline on real workers with synthetic subscribers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=200)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--chunk-size", type=int, default=settings.NIGHTLY_CHUNK_SIZE)
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic tenant.")
        parser.add_argument("--timeout", type=int, default=3600)
        parser.add_argument(
            "--warm-nights",
            type=int,
            default=0,
            help="Run this many earlier nights first, unmeasured (steady state: models "
            "fitted, meal plans in place).",
        )

    def handle(self, *args, **options) -> None:
        n = options["subscribers"]
        if n < 1:
            raise CommandError("--subscribers must be at least 1.")
        if not 0 <= options["warm_nights"] <= 7:
            raise CommandError("--warm-nights must be 0 to 7 (the block starts 7 days back).")
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

    # --- setup ----------------------------------------------------------------------

    def _setup(self, tenant: Tenant, n: int) -> datetime.date:
        """N subscribers with 8 weeks of history, in bulk.

        Through the services once: the methodology, tier and exercise library, and one
        template athlete's assessment and block (`block_generate`). Users, memberships,
        profiles, enrolments and consents are bulk-inserted in groups of `GROUP`. The
        template gets 56 days of check-ins and strength sessions logged three times a
        week (back squat, progressing, RPE recorded) plus logs of the block's first week
        (`_checkins`, `_logs`); everyone else gets copies of the template's rows, varied
        by athlete id, by one `INSERT … SELECT` per table (`_copy_history`): their
        profiles are alike, so the planner would write the same block.
        """
        from coaching.methodology import default_rules

        AthleteProfile = apps.get_model("athletes", "AthleteProfile")
        Enrolment = apps.get_model("athletes", "Enrolment")
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
            weekdays = sorted({(night + datetime.timedelta(days=d)).weekday() for d in (1, 3, 5)})
            profiles = []
            for first in range(0, n, GROUP):
                count = min(GROUP, n - first)
                users = get_user_model().objects.bulk_create(
                    [
                        get_user_model()(username=f"{tenant.slug}-{i}@bench.invalid")
                        for i in range(first, first + count)
                    ]
                )
                Membership.objects.bulk_create([Membership(user=u, role="client") for u in users])
                group = AthleteProfile.objects.bulk_create(
                    [
                        AthleteProfile(
                            user=u, display_name=f"Bench {i}", discipline="strength",
                            sex="female" if i % 2 else "male",
                            birth_date=datetime.date(1985 + i % 20, 1 + i % 12, 1 + i % 28),
                            height_cm=Decimal(160 + i % 30), available_weekdays=weekdays,
                            session_minutes=75,
                            equipment=["barbell", "rack", "bench", "dumbbell"],
                        )
                        for i, u in zip(range(first, first + count), users, strict=True)
                    ]
                )  # fmt: skip
                Enrolment.objects.bulk_create(
                    [
                        Enrolment(athlete=p, tier=tier, methodology_version=version, started=start)
                        for p in group
                    ]
                )
                seed_consents(group)
                profiles.extend(group)
            template = profiles[0]
            assessment = assessment_create(
                athlete=template, date=start - datetime.timedelta(days=3)
            )
            lift_add(
                assessment=assessment, exercise=squat, weight_kg=Decimal("100"),
                reps=5, rpe=Decimal("8"),
            )  # fmt: skip
            block_generate(athlete=template, start_date=start)
            self._checkins([template], 0, night)
            self._logs([template], 0, squat, night)
            self._copy_history(template, night)
        return night

    def _copy_history(self, template, night: datetime.date) -> None:  # noqa: ANN001
        """Everyone else's assessment, block, sessions, check-ins and logs: the template's
        rows copied by `INSERT … SELECT` in PostgreSQL (one statement per table, the
        tenant's RLS applying), varied by athlete id the way `_checkins` and `_logs`
        vary them by index: body weight, who had a bad few nights (id % 3 == 0: the
        template's own history), who missed the block's first sessions (id % 5 == 4)."""
        m = {
            name: apps.get_model(*name.split("."))
            for name in (
                "athletes.Assessment", "programs.AssessmentLift", "programs.ProgramBlock",
                "programs.PlannedSession", "programs.PlannedSet", "athletes.CheckIn",
                "programs.SessionLog", "programs.SetLog", "athletes.AthleteProfile",
            )
        }  # fmt: skip
        t = {name: model._meta.db_table for name, model in m.items()}
        others = (
            f"JOIN {t['athletes.AthleteProfile']} a "
            "ON a.tenant_id = t.tenant_id AND a.id <> %(tpl)s"
        )
        fresh = "t.date >= %(night)s::date - 2 AND a.id %% 3 <> 0"  # the others slept well
        block_logged = "t.planned_session_id IS NOT NULL"
        plan = [
            ("athletes.Assessment", {"athlete_id": "a.id"}, "", "t.athlete_id = %(tpl)s"),
            (
                "programs.AssessmentLift",
                {"assessment_id": "na.id"},
                f"JOIN {t['athletes.Assessment']} ta ON ta.id = t.assessment_id {others} "
                f"JOIN {t['athletes.Assessment']} na ON na.athlete_id = a.id",
                "ta.athlete_id = %(tpl)s",
            ),
            (
                "programs.ProgramBlock",
                {"athlete_id": "a.id", "assessment_id": "na.id"},
                f"JOIN {t['athletes.Assessment']} na ON na.athlete_id = a.id",
                "t.athlete_id = %(tpl)s",
            ),
            (
                "programs.PlannedSession",
                {"athlete_id": "a.id", "block_id": "nb.id"},
                f"JOIN {t['programs.ProgramBlock']} nb ON nb.athlete_id = a.id",
                "t.athlete_id = %(tpl)s",
            ),
            (
                "programs.PlannedSet",
                {"session_id": "ns.id"},
                f"JOIN {t['programs.PlannedSession']} ts ON ts.id = t.session_id {others} "
                f"JOIN {t['programs.PlannedSession']} ns ON ns.athlete_id = a.id "
                "AND ns.date = ts.date AND ns.name = ts.name",
                "ts.athlete_id = %(tpl)s",
            ),
            (
                "athletes.CheckIn",
                {
                    "athlete_id": "a.id",
                    "body_weight_kg": "t.body_weight_kg + a.id %% 15",
                    "sleep_hours": f"CASE WHEN {fresh} THEN 7.5 ELSE t.sleep_hours END",
                    "soreness": f"CASE WHEN {fresh} THEN 2 ELSE t.soreness END",
                    "hrv_rmssd_ms": f"CASE WHEN {fresh} THEN 60 ELSE t.hrv_rmssd_ms END",
                },
                "",
                "t.athlete_id = %(tpl)s",
            ),
            (
                "programs.SessionLog",
                {
                    "athlete_id": "a.id",
                    "planned_session_id": f"(SELECT ns.id FROM {t['programs.PlannedSession']} ns "  # noqa: S608
                    "WHERE ns.athlete_id = a.id AND ns.date = t.date AND NOT ns.rest_day "
                    "ORDER BY ns.id LIMIT 1)",
                    "session_rpe": f"CASE WHEN {block_logged} AND a.id %% 3 <> 0 THEN 7 "
                    "ELSE t.session_rpe END",
                    "srpe_load": f"CASE WHEN {block_logged} AND a.id %% 3 <> 0 "
                    "THEN 7 * t.duration_s / 60.0 ELSE t.srpe_load END",
                },
                "",
                f"t.athlete_id = %(tpl)s AND NOT ({block_logged} AND a.id %% 5 = 4)",
            ),
            (
                "programs.SetLog",
                {
                    "session_id": "nl.id",
                    "rpe": "CASE WHEN tl.planned_session_id IS NOT NULL AND a.id %% 3 <> 0 "
                    "THEN t.rpe - 1.5 ELSE t.rpe END",
                },
                f"JOIN {t['programs.SessionLog']} tl ON tl.id = t.session_id {others} "
                f"JOIN {t['programs.SessionLog']} nl ON nl.athlete_id = a.id AND nl.date = tl.date",
                "tl.athlete_id = %(tpl)s",
            ),
        ]
        params = {"tpl": template.pk, "night": night}
        with connection.cursor() as cursor:
            for name, overrides, joins, where in plan:
                columns = [f.column for f in m[name]._meta.concrete_fields if not f.primary_key]
                select = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
                # the template's own rows are the source: `others` is the join that fans
                # them out, unless the table's joins already did
                fan = "" if others in joins else others
                cursor.execute(
                    f"INSERT INTO {t[name]} ({', '.join(columns)}) "  # noqa: S608 - our names
                    f"SELECT {select} FROM {t[name]} t {fan} {joins} WHERE {where}",
                    params,
                )

    def _checkins(self, group: list, first: int, night: datetime.date) -> None:
        CheckIn = apps.get_model("athletes", "CheckIn")
        rows = []
        for i, profile in enumerate(group, start=first):
            for k in range(HISTORY_DAYS):
                day = night - datetime.timedelta(days=HISTORY_DAYS - 1 - k)
                low = k >= HISTORY_DAYS - 3 and i % 3 == 0  # a third had a bad few nights
                rows.append(
                    CheckIn(
                        athlete=profile, date=day,
                        sleep_hours=Decimal("6.5" if low else "7.5"), soreness=2 + low,
                        hrv_rmssd_ms=Decimal("40" if low else ("58" if k % 2 else "62")),
                        body_weight_kg=Decimal(f"{70 + i % 15 - k * 0.02:.1f}"),
                    )
                )  # fmt: skip
        CheckIn.objects.bulk_create(rows, batch_size=BATCH)

    def _logs(self, group: list, first: int, squat, night: datetime.date) -> None:
        """Strength sessions three times a week for 7 weeks before the block, then the
        block's planned sessions up to `night` (four in five athletes)."""
        PlannedSession = apps.get_model("programs", "PlannedSession")
        PlannedSet = apps.get_model("programs", "PlannedSet")
        SessionLog = apps.get_model("programs", "SessionLog")
        SetLog = apps.get_model("programs", "SetLog")
        by_athlete: dict[int, list] = {}
        for session in PlannedSession.objects.filter(
            athlete__in=group, date__lte=night, rest_day=False
        ).order_by("date", "pk"):
            by_athlete.setdefault(session.athlete_id, []).append(session)
        planned_sets: dict[int, list] = {}
        for planned in PlannedSet.objects.filter(
            session__athlete__in=group, session__date__lte=night
        ).order_by("session_id", "set_index"):
            planned_sets.setdefault(planned.session_id, []).append(planned)
        block_start = night - datetime.timedelta(days=7)
        logs, sets = [], []  # sets: (log index, SetLog without its session)
        for i, profile in enumerate(group, start=first):
            hard = i % 3 == 0
            day = block_start - datetime.timedelta(days=HISTORY_DAYS - 7)
            week = 0
            while day < block_start:
                if day.weekday() in profile.available_weekdays:
                    weight = Decimal(80 + week * 2.5 / 3)
                    logs.append(
                        SessionLog(
                            athlete=profile, date=day, kind="strength", duration_s=4500,
                            session_rpe=Decimal("7"), srpe_load=7 * 75,
                        )
                    )  # fmt: skip
                    for k in range(1, 5):
                        sets.append(
                            (
                                len(logs) - 1,
                                SetLog(
                                    exercise=squat, set_index=k, reps=5,
                                    weight_kg=round(weight, 1), rpe=Decimal("7.5") + k // 4,
                                ),
                            )
                        )  # fmt: skip
                    week += 1
                day += datetime.timedelta(days=1)
            if i % 5 == 4:
                continue  # missed the block's first sessions
            for session in by_athlete.get(profile.pk, []):
                logs.append(
                    SessionLog(
                        athlete=profile, planned_session=session, date=session.date,
                        kind=session.kind, duration_s=session.duration_min * 60,
                        session_rpe=Decimal("8.5" if hard else "7"),
                        srpe_load=(8.5 if hard else 7) * session.duration_min,
                    )
                )  # fmt: skip
                for planned in planned_sets.get(session.pk, []):
                    target = planned.target_rpe or Decimal("8")
                    sets.append(
                        (
                            len(logs) - 1,
                            SetLog(
                                exercise_id=planned.exercise_id, set_index=planned.set_index,
                                reps=planned.reps,
                                weight_kg=planned.load_kg or Decimal("20"),
                                rpe=min(Decimal("10"), target + (Decimal("1.5") if hard else 0)),
                            ),
                        )
                    )  # fmt: skip
        logs = SessionLog.objects.bulk_create(logs, batch_size=BATCH)
        for log_index, set_log in sets:
            set_log.session = logs[log_index]
        SetLog.objects.bulk_create([s for _, s in sets], batch_size=BATCH)

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

    def _night(self, tenant: Tenant, day: datetime.date, queue: str, options: dict, peak: dict):
        """One night through the workers; returns (wall s, chunk results, run, ms by step)."""
        with tenant_context(tenant):
            run, _ = nightly.run_get_or_create(date=day, trigger="manual")
            t0 = time.perf_counter()
            settings.NIGHTLY_CHUNK_SIZE = options["chunk_size"]  # this process fans out
            batches = nightly.run_start(run=run, send=False)
            results = [
                nightly_chunk.apply_async(args=[tenant.pk, run.pk, b], queue=queue) for b in batches
            ]
            deadline = time.monotonic() + options["timeout"]
            while not all(r.ready() for r in results):
                for pid in peak:
                    peak[pid] = max(peak[pid], _rss_kb(pid))
                if time.monotonic() > deadline:
                    raise CommandError("the run did not finish in time")
                time.sleep(0.2)
            wall = time.perf_counter() - t0
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
        return wall, chunks, run, ms, len(batches)

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
            for back in range(options["warm_nights"], 0, -1):
                # Earlier nights, not measured: afterwards models exist and meal plans
                # only change where targets did (the steady state of a running business).
                day = night - datetime.timedelta(days=back)
                cpu_before = sum(_cpu_s(pid) for pid in peak)
                wall, chunks, run, _, _ = self._night(tenant, day, queue, options, peak)
                cpu = sum(_cpu_s(pid) for pid in peak) - cpu_before
                queries = sum(c["queries"] for c in chunks)
                self.stdout.write(
                    f"warm-up night {day}: {wall:.1f} s, {queries / n:.1f} queries per "
                    f"subscriber, worker CPU {1000 * cpu / n:.0f} ms per subscriber "
                    f"({run.status}, done {run.done} failed {run.failed})"
                )
            cpu_before = sum(_cpu_s(pid) for pid in peak)
            wall, chunks, run, ms, n_batches = self._night(tenant, night, queue, options, peak)
            cpu = sum(_cpu_s(pid) for pid in peak) - cpu_before
            for pid in peak:
                peak[pid] = max(peak[pid], _rss_kb(pid, "VmHWM"))
        finally:
            self._stop_workers(workers)
        queries = sum(c["queries"] for c in chunks)
        self.stdout.write(nightly.progress_bar(run))
        self.stdout.write(
            f"wall {wall:.2f} s · {n / wall:.1f} subscribers/s · {options['workers']} workers · "
            f"{n_batches} chunks of ≤{options['chunk_size']}"
        )
        self.stdout.write(f"SQL queries: {queries} total, {queries / n:.1f} per subscriber")
        self.stdout.write(
            f"worker CPU: {cpu:.1f} s, {1000 * cpu / n:.0f} ms per subscriber "
            f"(load average at the end: {os.getloadavg()[0]:.2f})"
        )
        for step, values in ms.items():
            self.stdout.write(
                f"step {step:<10} p50 {_percentile(values, 0.5):.0f} ms · "
                f"p95 {_percentile(values, 0.95):.0f} ms · mean {statistics.mean(values):.0f} ms"
            )
        self.stdout.write(
            "peak worker RSS: " + ", ".join(f"{kb / 1024:.0f} MB" for kb in peak.values())
        )
