"""The nightly pipeline through real Celery worker processes on Redis and PostgreSQL:
a worker SIGKILLed in the middle of a run loses nothing and doubles nothing.

The workers run with a short broker visibility timeout (CELERY_VISIBILITY_TIMEOUT_S), so
the chunk the killed worker held comes back in seconds instead of an hour; the chunk's
hard time limit follows it down (settings.NIGHTLY_CHUNK_TIME_LIMIT).
"""

from __future__ import annotations

import datetime
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from athletes.models import CheckIn
from coaching import nightly
from coaching.models import NightlyRun, NightlyStep
from coaching.tenancy import tenant_context
from tests import factories
from tests.nightly_steps import make_subscribers
from tests.test_worker import CELERY_BIN, PROJECT_DIR, STOP_TIMEOUT, Worker, _worker_env

pytestmark = pytest.mark.worker

VISIBILITY_S = 8
RUN_TIMEOUT = 180


@pytest.fixture
def start_worker(transactional_db, settings):
    """Start workers on a queue of this test's own; every one is stopped at teardown."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queue = f"test-nightly-{uuid.uuid4().hex[:12]}"
    settings.NIGHTLY_QUEUE = queue
    started: list[tuple[Worker, object]] = []

    def start(app: str = "tests.nightly_worker_app", chunk_size: int = 25) -> Worker:
        log_file = tempfile.NamedTemporaryFile(  # closed in the teardown
            prefix="celery-nightly-", suffix=".log", delete=False
        )
        env = _worker_env()
        env.update(
            NIGHTLY_QUEUE=queue,
            NIGHTLY_CHUNK_SIZE=str(chunk_size),
            CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_S),
        )
        process = subprocess.Popen(  # noqa: S603 - our own celery executable
            [
                str(CELERY_BIN), "-A", app, "worker", "--pool=solo", "--concurrency=1",
                "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
                "--loglevel=INFO", f"--hostname={queue}-{len(started)}@%h",
            ],
            cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        worker = Worker(process, queue, Path(log_file.name))
        started.append((worker, log_file))
        return worker

    yield start
    for worker, log_file in started:
        if worker.process.poll() is None:
            worker.process.terminate()
            try:
                worker.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=STOP_TIMEOUT)
        log_file.close()
        worker.log_path.unlink(missing_ok=True)


def _logs(workers: list[Worker]) -> str:
    return "\n".join(f"--- worker {i} ---\n{w.log()[-4000:]}" for i, w in enumerate(workers))


def _wait(tenant, run_id: int, until, workers: list[Worker], timeout: float) -> NightlyRun:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            run = NightlyRun.objects.get(pk=run_id)
        if until(run):
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run stuck at {nightly.progress_bar(run)}\n{_logs(workers)}")
        time.sleep(0.05)


def _wait_ready(worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "ready." not in worker.log():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker did not start:\n{worker.log()}")
        time.sleep(0.1)


def test_a_worker_killed_mid_run_loses_and_doubles_no_subscriber(start_worker):
    # given: 300 subscribers, light steps, and a worker taking the tenant's night
    tenant = factories.TenantFactory(slug="crash", timezone="UTC")
    ids = make_subscribers(tenant, 300)
    first = start_worker()
    _wait_ready(first)
    [run] = nightly.nightly_dispatch(now=datetime.datetime(2026, 11, 21, 3, 0, tzinfo=datetime.UTC))

    # when: the worker is SIGKILLed part-way through, and a new one starts
    _wait(tenant, run.pk, lambda r: r.accounted >= 60, [first], timeout=60)
    first.process.kill()
    first.process.wait(timeout=STOP_TIMEOUT)
    with tenant_context(tenant):
        at_kill = NightlyRun.objects.get(pk=run.pk)
    # Kombu restores a lost worker's unacked messages when a worker starts (then only
    # every 100 s): start the replacement once the visibility timeout has passed.
    time.sleep(VISIBILITY_S + 1)
    second = start_worker()
    finished = _wait(tenant, run.pk, lambda r: r.status == "done", [first, second], RUN_TIMEOUT)

    # then: the kill interrupted the run, and every subscriber was processed exactly once
    assert at_kill.status == "running" and at_kill.accounted < 300
    assert (finished.total, finished.done, finished.failed, finished.skipped) == (300, 300, 0, 0)
    with tenant_context(tenant):
        steps = NightlyStep.objects.filter(run_id=run.pk)
        assert steps.count() == 600 and not steps.exclude(status="done").exists()
        assert set(steps.values_list("athlete_id", flat=True)) == set(ids)
        # the light step's row is UNIQUE per subscriber and night: a second committed
        # execution would have failed the step, so 300 rows and 0 failures is "once"
        assert CheckIn.objects.filter(date=run.date).count() == 300
        assert CheckIn.objects.filter(date=run.date, soreness=2).count() == 300
    # the chunk the killed worker held came back, half done, and was finished
    assert "'already': 0" in second.log() and re.search(r"'already': [1-9]", second.log())


def test_a_worker_runs_the_real_steps_of_a_tenants_night_once(start_worker):
    # given: demo-like subscribers (enrolled, a block, a week of low HRV and weigh-ins)
    from nutrition.models import NutritionRun, PlanDay
    from programs.models import Adjustment, AutoregulationRun
    from tests.test_adjustments import NIGHT
    from tests.test_nightly import _real_athletes

    tenant = factories.TenantFactory(slug="realworker", timezone="UTC")
    profiles = _real_athletes(tenant, 3)
    worker = start_worker(app="config", chunk_size=2)
    _wait_ready(worker)

    # when: the night runs on the worker, then is started again (a resume, a re-run)
    with tenant_context(tenant):
        run, _ = nightly.run_get_or_create(date=NIGHT)
        nightly.run_start(run=run)
    _wait(tenant, run.pk, lambda r: r.status == "done", [worker], RUN_TIMEOUT)
    with tenant_context(tenant):
        counts = [m.objects.count() for m in (Adjustment, AutoregulationRun, NutritionRun, PlanDay)]
        NightlyRun.objects.filter(pk=run.pk).update(status="running")
        run.refresh_from_db()
        nightly.run_start(run=run)  # resends nobody: everyone is finished
    finished = _wait(tenant, run.pk, lambda r: r.status == "done", [worker], RUN_TIMEOUT)

    # then: programs and nutrition ran once for each subscriber
    assert (finished.done, finished.failed) == (3, 0), _logs([worker])
    with tenant_context(tenant):
        assert NightlyStep.objects.filter(status="done").count() == 6
        again = [m.objects.count() for m in (Adjustment, AutoregulationRun, NutritionRun, PlanDay)]
    assert again == counts
    assert counts[1] == counts[2] == len(profiles) and counts[3] == 7 * len(profiles)
