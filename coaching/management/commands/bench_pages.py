"""`manage.py bench_pages [--clients 100]`: latency and SQL queries of the pages people
wait for (issue 10, Benchmark). Prints numbers; asserts nothing.

Seeds a throw-away tenant with N clients and 8 weeks of history with bench_nightly's
bulk seeding (imported, not copied), runs their last night in-process so readiness,
changes and alerts exist, and signs in an owner (with TOTP, as staff must) and one client.
Then, per page (the coach dashboard, the alert inbox, the client's Today page or, where
that page does not exist yet, their plan):

- SQL queries per request, in-process with Django's test client (same code path);
  the dashboard also on a second tenant of `--compare` clients, to show the count does
  not grow with the number of clients;
- p50/p95 latency and throughput over HTTP against gunicorn (a real server process,
  `--workers` sync workers, connecting as `DATABASE_APP_ROLE` so row-level security
  applies as in production) under `--concurrency` connections (threads, each with its
  own keep-alive session carrying the signed-in cookie).

Everything goes to 127.0.0.1 only; the request count is bounded and the server is
stopped at the end. The tenants are deleted unless `--keep`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from coaching.management.commands.bench_nightly import Command as NightlyBench
from coaching.management.commands.bench_nightly import _percentile
from coaching.models import Membership, Tenant
from coaching.tenancy import tenant_context

GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "127.0.0.1"


def _app_role_url(url: str, role: str) -> str:
    """DATABASE_URL with the app role as user (no password: trust auth on loopback)."""
    parts = urlsplit(url)
    host = parts.hostname or HOST
    netloc = f"{role}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Command(BaseCommand):
    help = "Benchmark page latency (gunicorn, concurrent) and SQL queries per page."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=100)
        parser.add_argument("--compare", type=int, default=10, help="Clients of the 2nd tenant.")
        parser.add_argument("--requests", type=int, default=320, help="Measured, per page.")
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers.")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--no-night", action="store_true", help="Skip the seeded night.")
        parser.add_argument("--as-owner", action="store_true", help="gunicorn as DB owner.")
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic tenants.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_pages needs PostgreSQL (DATABASE_URL).")
        if options["clients"] < 1 or options["compare"] < 1:
            raise CommandError("--clients and --compare must be at least 1.")
        if not 1 <= options["concurrency"] <= 64 or not 1 <= options["requests"] <= 20_000:
            raise CommandError("--concurrency 1..64 and --requests 1..20000, please.")
        tenants: list[Tenant] = []
        try:
            self._bench(tenants, options)
        finally:
            if not options["keep"]:
                for tenant in tenants:
                    # The consent ledger refuses deletes except inside an erasure.
                    with tenant_context(tenant), transaction.atomic():
                        import_string("athletes.consent.ledger_erasure_allow")()
                        Tenant.objects.filter(pk=tenant.pk).delete()
                get_user_model().objects.filter(username__startswith="bench-pages-").delete()

    # --- setup ----------------------------------------------------------------------

    def _tenant(self, tenants: list[Tenant], n: int, night: bool) -> tuple[Tenant, dict]:
        slug = f"bench-pages-{uuid.uuid4().hex[:8]}"
        tenant = Tenant.objects.create(slug=slug, name="Pages bench", timezone="UTC")
        tenants.append(tenant)
        started = time.perf_counter()
        day = NightlyBench(stdout=StringIO())._setup(tenant, n)
        seeded = time.perf_counter() - started
        if night:
            call_command(
                "run_nightly", tenant=slug, date=day.isoformat(), eager=True, stdout=StringIO()
            )
        self.stdout.write(
            f"{slug}: {n} clients seeded in {seeded:.1f} s"
            + (
                f", night of {day} run in {time.perf_counter() - started - seeded:.1f} s"
                if night
                else ""
            )
        )
        return tenant, self._people(tenant)

    def _people(self, tenant: Tenant) -> dict:
        """An owner with TOTP (staff must have it) and the first client, signed in: their
        session cookies, valid for the in-process client and gunicorn alike (DB sessions)."""
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        owner = get_user_model().objects.create_user(
            username=f"bench-pages-owner-{tenant.slug}@bench.invalid",
            email=f"owner-{tenant.slug}@bench.invalid",
        )
        TOTP.activate(owner, generate_totp_secret())
        with tenant_context(tenant):
            Membership.objects.create(user=owner, role=Membership.Role.OWNER)
            client_user = (
                Membership.objects.filter(role=Membership.Role.CLIENT)
                .order_by("pk")
                .select_related("user")
                .first()
                .user
            )
        cookies = {}
        for who, user in (("owner", owner), ("client", client_user)):
            browser = Client(HTTP_HOST=HOST)
            browser.force_login(user)
            cookies[who] = {
                settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value
            }
        return cookies

    def _pages(self, tenant: Tenant) -> list[tuple[str, str, str]]:
        """(label, who, path) of the measured pages."""
        prefix = f"/t/{tenant.slug}"
        try:
            client_page = ("client's Today", reverse("today"))
        except NoReverseMatch:
            client_page = ("client's plan (no Today page yet)", reverse("plan"))
        return [
            ("coach dashboard", "owner", prefix + reverse("coach_dashboard")),
            ("alerts inbox", "owner", prefix + reverse("alerts")),
            (client_page[0], "client", prefix + client_page[1]),
        ]

    # --- measuring ------------------------------------------------------------------

    def _queries(self, cookies: dict, path: str) -> int:
        browser = Client(HTTP_HOST=HOST)
        for name, value in cookies.items():
            browser.cookies[name] = value
        browser.get(path)  # warm (first-request work such as the library cache)
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(path)
        if response.status_code != 200:
            raise CommandError(f"GET {path} answered {response.status_code} in-process.")
        return len(captured)

    def _start_gunicorn(self, options: dict) -> subprocess.Popen:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get(
            "DJANGO_SETTINGS_MODULE", "config.settings.local"
        )
        env["DEBUG"] = "False"
        url = os.environ.get("DATABASE_URL", "")
        if not options["as_owner"]:
            env["DATABASE_URL"] = _app_role_url(url, settings.DATABASE_APP_ROLE)
        server = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                str(GUNICORN),
                "config.wsgi",
                "--bind",
                f"{HOST}:{options['port']}",
                "--workers",
                str(options["workers"]),
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],  # fmt: skip
            cwd=settings.BASE_DIR,
            env=env,
        )
        import requests

        deadline = time.monotonic() + 120  # 4 workers booting Django on a busy machine
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://{HOST}:{options['port']}/healthz", timeout=2).ok:
                    return server
            except requests.RequestException:
                pass
            if server.poll() is not None:
                raise CommandError("gunicorn exited at start-up (see its output above).")
            time.sleep(0.3)
        server.terminate()
        raise CommandError("gunicorn did not answer /healthz within 120 s.")

    def _load(self, options: dict, cookies: dict, path: str) -> dict:
        """`--requests` GETs of `path` over `--concurrency` threads; latency in ms."""
        import requests

        url = f"http://{HOST}:{options['port']}{path}"
        total, threads = options["requests"], options["concurrency"]
        latencies: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()
        counter = iter(range(total))

        def worker() -> None:
            session = requests.Session()
            session.cookies.update(cookies)
            session.get(url, timeout=60)  # warm this connection (not measured)
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                response = session.get(url, timeout=60, allow_redirects=False)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors.append(response.status_code)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        wall = time.perf_counter() - started
        return {
            "p50": statistics.median(latencies),
            "p95": _percentile([round(x * 1000) for x in latencies], 0.95) / 1000,
            "rps": len(latencies) / wall,
            "errors": errors,
        }

    def _bench(self, tenants: list[Tenant], options: dict) -> None:
        big, big_cookies = self._tenant(tenants, options["clients"], not options["no_night"])
        small, small_cookies = self._tenant(tenants, options["compare"], not options["no_night"])
        pages = self._pages(big)
        queries = {label: self._queries(big_cookies[who], path) for label, who, path in pages}
        small_pages = self._pages(small)
        small_queries = {
            label: self._queries(small_cookies[who], path) for label, who, path in small_pages
        }
        server = self._start_gunicorn(options)
        try:
            results = {
                label: self._load(options, big_cookies[who], path) for label, who, path in pages
            }
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        n, m = options["clients"], options["compare"]
        self.stdout.write(
            f"\ngunicorn {options['workers']} sync workers, {options['concurrency']} concurrent "
            f"connections, {options['requests']} requests per page, "
            f"{'DB owner' if options['as_owner'] else settings.DATABASE_APP_ROLE} role, "
            f"{timezone.localdate().isoformat()}"
        )
        header = (
            f"{'page':<36} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7} {'SQL/page':>9} "
            f"{'SQL @' + str(m):>9}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for label, _who, _path in pages:
            r = results[label]
            self.stdout.write(
                f"{label:<36} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['rps']:>7.1f} "
                f"{queries[label]:>9} {small_queries[label]:>9}"
                + (
                    f"  ({len(r['errors'])} non-200: {sorted(set(r['errors']))})"
                    if r["errors"]
                    else ""
                )
            )
        self.stdout.write(
            f"\nSQL queries per page with {n} clients vs {m}: "
            + ", ".join(
                f"{label} {queries[label]} vs {small_queries[label]}" for label, _w, _p in pages
            )
        )
