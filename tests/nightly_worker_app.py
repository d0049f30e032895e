"""`celery -A tests.nightly_worker_app worker`: the project's Celery app with the light
nightly steps (tests/nightly_steps.py) in place of the real ones, for the worker-crash
test. Registered once the worker is ready, before its event loop takes a task."""

from celery.signals import worker_ready

from config.celery import app

__all__ = ["app"]


@worker_ready.connect
def _use_light_steps(**kwargs) -> None:
    from tests.nightly_steps import use_light_steps

    use_light_steps()
