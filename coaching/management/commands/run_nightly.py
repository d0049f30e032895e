"""`manage.py run_nightly --tenant SLUG --date YYYY-MM-DD [--subscriber ID] [--eager]`:
a tenant's night run by hand (a backfill, a re-run after an outage), with a progress bar.

The run is the same `NightlyRun` the dispatcher would create (UNIQUE per tenant and date,
marked `manual` if this command creates it), so running it twice, or while the beat
runs it, does each subscriber's steps once. Without `--eager` the chunks go to the Celery
workers and the command watches the run; with it the chunks run in this process.
"""

from __future__ import annotations

import datetime
import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching import nightly
from coaching.models import NightlyRun, NightlyStep, Tenant
from coaching.tenancy import tenant_context


class Command(BaseCommand):
    help = "Run (or re-run) one tenant's nightly pipeline for a finished day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--date", required=True, help="The finished day, YYYY-MM-DD.")
        parser.add_argument("--subscriber", type=int, help="Only this athlete (profile id).")
        parser.add_argument(
            "--eager", action="store_true", help="Run the chunks here instead of on workers."
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Run the subscribers whose night failed again (their finished steps stay).",
        )
        parser.add_argument(
            "--timeout", type=int, default=3600, help="Seconds to wait for the workers."
        )

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        try:
            day = datetime.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"{options['date']!r} is not a date: use YYYY-MM-DD.") from None
        today = nightly.tenant_local_today(tenant)
        if day >= today:
            raise CommandError(
                f"{day.isoformat()} is not over yet in {tenant.timezone} (today is "
                f"{today.isoformat()}): a night runs once its day has finished."
            )
        if not tenant.is_writable:
            raise CommandError(f"Tenant {tenant.slug!r} is {tenant.status}: its nights don't run.")
        with tenant_context(tenant):
            only = None
            if options["subscriber"] is not None:
                if options["subscriber"] not in set(nightly.subscriber_source().ids()):
                    raise CommandError(
                        f"No subscriber {options['subscriber']} in tenant {tenant.slug!r} "
                        "(an athlete with an open enrolment)."
                    )
                only = [options["subscriber"]]
            run, created = nightly.run_get_or_create(date=day, trigger=NightlyRun.Trigger.MANUAL)
            self.stdout.write(
                f"Night of {day.isoformat()} for {tenant.slug}: "
                f"{'new' if created else 'existing'} run {run.pk} ({run.status})."
            )
            if options["retry_failed"]:
                retried = nightly.run_retry_failed(run=run)
                if not retried:
                    raise CommandError(f"Run {run.pk} has no failed subscriber to retry.")
                self.stdout.write(f"Retrying {len(retried)} failed subscriber(s).")
                only = retried if only is None else [i for i in only if i in retried]
            batches = nightly.run_start(run=run, only=only, send=not options["eager"])
            if options["eager"]:
                for batch in batches:
                    nightly.nightly_chunk_run(run_id=run.pk, athlete_ids=batch)
                    self._bar(run)
            else:
                self._watch(run, only, batches, options["timeout"])
            self._bar(run, final=True)
            if run.reason:
                self.stdout.write(run.reason)

    def _finished(self, run: NightlyRun, only: list[int] | None) -> bool:
        run.refresh_from_db()
        if run.status in nightly.FINAL:
            return True
        if only is None:
            return False
        last = nightly.steps()[-1].name if nightly.steps() else ""
        return NightlyStep.objects.filter(
            athlete_id__in=only, date=run.date, step=last
        ).count() == len(only)

    def _watch(
        self, run: NightlyRun, only: list[int] | None, batches: list[list[int]], timeout: int
    ) -> None:
        if not batches:
            return
        deadline = time.monotonic() + timeout
        while not self._finished(run, only):
            self._bar(run)
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Run {run.pk} not finished after {timeout}s: are the workers running?"
                )
            time.sleep(1)

    def _bar(self, run: NightlyRun, final: bool = False) -> None:
        run.refresh_from_db()
        line = nightly.progress_bar(run)
        if sys.stdout.isatty() and not final:
            self.stdout.write("\r" + line, ending="")
            self.stdout.flush()
        else:
            self.stdout.write(("\n" if final and sys.stdout.isatty() else "") + line)
