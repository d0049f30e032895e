"""`manage.py demo_totp`: the current TOTP code for the demo owners and coaches.

A local convenience instead of an authenticator app. It refuses unless DEBUG is on, so
it is never a way to mint second factors on a real deployment.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import demo


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code for the demo staff logins (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp only runs with DEBUG on (local demo use).")
        totp = demo.demo_totp_code()
        # The code alone on stdout, so `$(python manage.py demo_totp)` works in scripts.
        self.stdout.write(totp.code)
        if options["verbosity"] >= 2:
            self.stderr.write(
                f"Valid for {totp.seconds_left} more s (secret {demo.DEMO_TOTP_SECRET})."
            )
