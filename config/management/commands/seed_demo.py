"""`manage.py seed_demo`: two demo coaching businesses with eight weeks of history.

The work is in `config.demo`; this command parses options, times the run and prints
the logins (never health values).
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import demo


class Command(BaseCommand):
    help = (
        "Create the demo tenants 'ironworks' and 'tempo' with owners, coaches, clients and "
        "eight weeks of training and check-ins. Local use only: the password and TOTP "
        "secret are public."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Random seed; the same seed and day give the same data (default %(default)s).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete existing demo tenants and demo users first (without it, existing "
            "demo data is an error).",
        )
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="Last day of the history, YYYY-MM-DD (default: today in each tenant's zone).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            result = demo.demo_seed(
                seed=options["seed"], today=options["today"], reset=options["reset"]
            )
        except demo.DemoSeedRefused as exc:
            raise CommandError(str(exc)) from exc
        elapsed_s = time.monotonic() - started
        for line in demo.demo_login_lines(result):
            self.stdout.write(line)
        self.stdout.write(f"Done in {elapsed_s:.1f} s.")
