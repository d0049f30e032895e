"""`manage.py process_stripe_events [--failed]`: process stored Stripe events that are still
pending (e.g. the broker was down when they arrived) or, with --failed, retry the ones
that failed (e.g. Stripe was unreachable). Safe to repeat: a processed event is skipped."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from billing import selectors, services


class Command(BaseCommand):
    help = "Process pending Stripe webhook events (and failed ones with --failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="retry failed events too")

    def handle(self, *args: object, **options: object) -> None:
        ids = selectors.webhook_events_to_process(include_failed=bool(options["failed"]))
        outcome: dict[str, int] = {}
        for pk in ids:
            status = services.event_process(pk).status
            outcome[status] = outcome.get(status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(outcome.items())) or "nothing to do"
        self.stdout.write(f"{len(ids)} event(s): {summary}")
