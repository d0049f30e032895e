"""A real Celery worker process, connected to the test database as the application role.

The worker sees only committed rows (hence `transactional_db`) and must scope itself:
`tenant_task` enters the tenant named by `tenant_id`, then the scoped manager and
PostgreSQL row-level security decide what `count_members` can count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from coaching.tasks import count_members
from coaching.tenancy import tenant_context
from tests import factories
from tests.billing.conftest import gateway, localstripe, localstripe_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.worker

PROJECT_DIR = Path(__file__).resolve().parent.parent
CELERY_BIN = Path(sys.executable).with_name("celery")
# Bounded waits: a worker that cannot start or answer fails the test, never hangs it.
RESULT_TIMEOUT = 60
STOP_TIMEOUT = 10


class Worker:
    def __init__(self, process: subprocess.Popen, queue: str, log_path: Path) -> None:
        self.process = process
        self.queue = queue
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def result_of(self, async_result, timeout: float = RESULT_TIMEOUT):
        """The task's return value; fails with the worker's log if it dies or stalls."""
        deadline = time.monotonic() + timeout
        while not async_result.ready():
            if self.process.poll() is not None:
                pytest.fail(
                    f"worker exited with {self.process.returncode} before answering;"
                    f" log:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no result within {timeout}s; worker log:\n{self.log()}")
            time.sleep(0.1)
        if async_result.failed():
            pytest.fail(f"task failed: {async_result.result!r}; worker log:\n{self.log()}")
        return async_result.get(timeout=1)


def _worker_env() -> dict[str, str]:
    db = connection.settings_dict
    # A plain process uses settings NAME as is, not the TEST NAME: name the test database.
    database_url = (
        f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        CELERY_TASK_ALWAYS_EAGER="false",
        PYTHONUNBUFFERED="1",
        # billing tests point Stripe at their localstripe before the worker starts
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,
        STRIPE_API_BASE=settings.STRIPE_API_BASE,
        STRIPE_WEBHOOK_SECRET=settings.STRIPE_WEBHOOK_SECRET,
    )
    return env


@pytest.fixture
def worker(transactional_db, request, settings):
    """Depends on `transactional_db`, so it stops before the database is flushed."""
    # Celery reads Django's settings live: an eager run here would skip the worker.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert CELERY_BIN.exists(), f"celery executable not found at {CELERY_BIN}"
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    log_file = tempfile.NamedTemporaryFile(  # closed in the teardown
        prefix="celery-worker-", suffix=".log", delete=False
    )
    log_path = Path(log_file.name)
    process = subprocess.Popen(
        [
            str(CELERY_BIN),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname={queue}@%h",
        ],
        cwd=PROJECT_DIR,
        env=_worker_env(),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    handle = Worker(process, queue, log_path)
    failed_before = request.session.testsfailed
    try:
        yield handle
    finally:
        if process.poll() is None:
            process.terminate()  # warm shutdown
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        log_file.close()
        # The call phase is reported before teardown: a new failure means this test's.
        if request.session.testsfailed > failed_before:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                sys.stderr.write(f"\n--- celery worker log ---\n{handle.log()}\n")
        log_path.unlink(missing_ok=True)


def test_worker_counts_only_the_members_of_the_tenant_it_was_given(worker):
    # given: tenant A with an owner, a coach and two clients; tenant B with one client
    tenant_a = factories.TenantFactory(slug="alpha", name="Alpha Strength")
    tenant_b = factories.TenantFactory(slug="bravo", name="Bravo Endurance")
    factories.member(tenant_a, "owner", email="owner@alpha.test", mfa=True)
    factories.member(tenant_a, "coach", email="coach@alpha.test", mfa=True)
    factories.member(tenant_a, "client", email="client@alpha.test")
    factories.member(tenant_a, "client", email="client2@alpha.test")
    factories.member(tenant_b, "client", email="client@bravo.test")

    # when: the worker process runs the task for each tenant
    counts_a = worker.result_of(count_members.apply_async(args=[tenant_a.pk], queue=worker.queue))
    counts_b = worker.result_of(count_members.apply_async(args=[tenant_b.pk], queue=worker.queue))

    # then: each run saw its own tenant's members, and only those
    assert counts_a == {"owner": 1, "coach": 1, "client": 2}
    assert counts_b == {"client": 1}


def test_a_worker_runs_an_athletes_night_once_however_often_it_is_sent(worker, tenant_a, client_a):
    # given: an enrolled athlete with three low-HRV nights before last night's run
    from programs.models import Adjustment
    from programs.tasks import athlete_night
    from tests.test_adjustments import NIGHT, _athlete, _low_hrv_nights

    profile = _athlete(tenant_a, client_a)
    _low_hrv_nights(tenant_a, client_a)

    # when: the night is delivered twice (a retry, a duplicate)
    args = [tenant_a.pk, profile.pk, NIGHT.isoformat()]
    first = worker.result_of(athlete_night.apply_async(args=args, queue=worker.queue))
    second = worker.result_of(athlete_night.apply_async(args=args, queue=worker.queue))

    # then: one run, one applied change, nothing new the second time
    assert first["applied"] == 1 and second == {**first, "alerts": 0}
    with tenant_context(tenant_a):
        assert Adjustment.objects.count() == 1


def test_a_worker_plans_an_athletes_nutrition_once_however_often_it_is_sent(
    worker, tenant_a, client_a
):
    # given: an enrolled athlete with a block and a weigh-in
    import datetime
    from decimal import Decimal

    from nutrition.models import NutritionRun, PlanDay
    from nutrition.tasks import plan_nutrition
    from tests.test_adjustments import NIGHT, _athlete

    profile = _athlete(tenant_a, client_a)
    factories.checkin(tenant_a, client_a, NIGHT, body_weight_kg=Decimal("68.4"))

    # when: the night's nutrition is delivered twice
    args = [tenant_a.pk, profile.pk, NIGHT.isoformat()]
    first = worker.result_of(plan_nutrition.apply_async(args=args, queue=worker.queue))
    second = worker.result_of(plan_nutrition.apply_async(args=args, queue=worker.queue))

    # then: one run that planned the 7 days after the night; the second changed nothing
    assert first == second and first["days_planned"] == 7 and first["infeasible"] == 0
    with tenant_context(tenant_a):
        assert NutritionRun.objects.count() == 1
        dates = sorted(PlanDay.objects.values_list("date", flat=True))
        assert dates == [NIGHT + datetime.timedelta(days=n) for n in range(1, 8)]


def test_a_worker_processes_a_stripe_event_once_however_often_it_is_sent(
    gateway,  # noqa: F811 - the billing fixtures, imported above
    localstripe_server,  # noqa: F811
    worker,
    client,
    tenant_a,
    client_a,
):
    # given: a client's subscription in localstripe, and Stripe's signed event stored
    import uuid

    from athletes.models import AthleteProfile
    from billing import selectors
    from billing.models import BillingAccount, WebhookEvent
    from billing.tasks import process_event
    from tests.billing.stripe_server import event_payload, signed

    _version, tier = factories.methodology_on_sale(tenant_a, "strength")
    BillingAccount.objects.create(tenant=tenant_a, stripe_account_id="acct_w", charges_enabled=True)
    with tenant_context(tenant_a):
        athlete = AthleteProfile.objects.get(user=client_a)
    product = gateway.product_create(
        name="DIY", metadata={}, account=None, idempotency_key=uuid.uuid4().hex
    )
    plan = localstripe_server.plan_create(product=product.id, amount=1900)
    customer = gateway.customer_create(
        email="client@alpha.test", name="Client", metadata={}, account=None,
        idempotency_key=uuid.uuid4().hex, payment_method="pm_card_visa",
    )  # fmt: skip
    meta = {"tenant_id": str(tenant_a.pk), "athlete_id": str(athlete.pk), "tier_id": str(tier.pk)}
    sub = localstripe_server.subscription_create(customer=customer, plan=plan, metadata=meta)
    event = event_payload(
        "customer.subscription.created", {"id": sub["id"], "object": "subscription"},
        account="acct_w",
    )  # fmt: skip
    payload, header = signed(event)
    response = client.post(
        "/stripe/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip
    assert response.status_code == 200
    pk = WebhookEvent.objects.get(event_id=event["id"]).pk

    # when: the processing task is delivered twice
    first = worker.result_of(process_event.apply_async(args=[pk], queue=worker.queue))
    second = worker.result_of(process_event.apply_async(args=[pk], queue=worker.queue))

    # then: processed once, and the client has access
    assert first == second == "processed"
    assert WebhookEvent.objects.get(pk=pk).attempts == 1
    with tenant_context(tenant_a):
        assert selectors.has_access(athlete)
